"""A stability rule: a ``ReplaceOptim(query, value)`` that declares the phase it runs in.

The phases run in ``PHASE_ORDER``; ``derive.compile.rewrite`` holds the rules and applies them.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import sympy as sp
from sympy.codegen.rewriting import ReplaceOptim

# The phases, in the order they run; a rule's output is not fed back to the rules of its phase.
PHASE_ORDER = ("naive forms", "structure", "residuals", "stability", "lowering", "cleanup")


class Rule(ReplaceOptim):
    """``ReplaceOptim(query, value)`` that declares the phase it runs in."""

    def __init__(self, phase: str, query, value):
        if phase not in PHASE_ORDER:
            raise ValueError(f"unknown phase {phase!r}; the phases are {', '.join(PHASE_ORDER)}")
        super().__init__(query, value)
        self.phase = phase


def phases(rules) -> tuple[tuple[Rule, ...], ...]:
    """``rules`` grouped by phase, in PHASE_ORDER; within a phase, in the order given."""
    return tuple(tuple(r for r in rules if r.phase == phase) for phase in PHASE_ORDER)


# The targets' set of the expression being stabilised, for rules that are exact only for small targets
# (rewrite.hinge_margin: exact for y = +-1, accurate for |y| <= 2, cancelling as y^2 past that).
_SMALL_TARGETS: ContextVar[bool] = ContextVar("small_targets", default=False)


@contextmanager
def targets_of(targets: sp.Set):
    """Within: ``small_targets()`` is True when ``targets`` lies in [-2, 2] (unset: False)."""
    token = _SMALL_TARGETS.set(bool(targets.is_subset(sp.Interval(-2, 2))))
    try:
        yield
    finally:
        _SMALL_TARGETS.reset(token)


def small_targets() -> bool:
    return _SMALL_TARGETS.get()
