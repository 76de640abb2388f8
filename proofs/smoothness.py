"""Smoothness constants that ``proofs.curvature.smoothness`` leaves undecided, read off the definition C(z).

    jump:        delta = dC/dz jumps up at z0 for a target t  =>  h holds a positive point mass: L = oo
    targets:     h polynomial in y, the targets unbounded above (or all reals, odd degree), its
                 leading coefficient > 0 (nonzero) at z0  =>  sup over y of h = oo
    bounded:     L = max over the targets of sup over z of h (proofs.smoothness_bound): hinge's {-1, 1},
                 or y = 0 for a loss of a - y with a = z
    enclosed:    a jump at a kink z0 with no closed form, z0 bracketed (proofs.smoothness_enclosed)

Every witness is exact: z0 and t are closed forms inside the assumptions (z0 real, t a target), the
jump is the difference of the one-sided values of delta (each branch chosen by the sign of its
condition just beside z0, read from a Taylor coefficient certified to 60 digits), and its sign is
certified by ``refute`` (proofs.smoothness_witness). A bound is a ``check_le`` certificate; tightness is a
``check_eq`` at the attaining point or a limit. Parameters: exact values given, else their defaults (the
verdict's pairing names them). What no rule decides is "undecided" with the reason.

>>> decide("softplus", "l1").status, decide("identity", "huber").value
('unbounded', 1)
"""

from __future__ import annotations

from functools import cache

from sympy import oo

from derive.errors import PairingError
from derive.symbolic import catalogue
from proofs.certificate import Verdict, all_proved
from proofs.smoothness_bound import bounded
from proofs.smoothness_enclosed import enclosed_jump_witness
from proofs.smoothness_line import elementwise_line
from proofs.smoothness_softmax import decide_softmax
from proofs.smoothness_witness import jump_witness, unbounded_witness
from proofs.softmax_curvature import CurvatureVerdict

__all__ = ["decide", "jump_witness", "unbounded_witness"]


@cache
def decide(act: str, loss: str, **values) -> CurvatureVerdict:
    """L = sup h (point masses included) for an elementwise pairing at its parameters: oo with an exact witness
    (a jump of delta, or h unbounded along the targets), or a bound proved and attained or approached;
    "undecided" with the reason where none of these rules applies. Softmax: proofs.smoothness_softmax."""
    why = catalogue.invalid_reason(catalogue.activation(act), catalogue.loss(loss))
    if why is not None:
        raise PairingError(f"{act}+{loss} is not a valid pairing: {why}")
    if not catalogue.activation(act).elementwise:
        return decide_softmax(loss, **values)
    line = elementwise_line(act, loss, **values)
    try:
        got = jump_witness(line) or unbounded_witness(line)
        if got is not None:
            return CurvatureVerdict(line.name, "unbounded", oo, got)
        got = bounded(line)
        if isinstance(got, str):  # last: a kink without a closed-form z, its root enclosed (slower)
            enclosed = enclosed_jump_witness(line)
            if enclosed is not None:
                return CurvatureVerdict(line.name, "unbounded", oo, enclosed)
    except (NotImplementedError, RecursionError, TypeError, ValueError) as exc:  # SymPy gave up: say so, never guess
        got = f"SymPy stopped ({type(exc).__name__}: {str(exc)[:80]})"
    if isinstance(got, str):
        return CurvatureVerdict(line.name, "undecided", None, Verdict(f"{line.name}: L?", "not proved",
                                                                      f"no jump of delta found, no target direction "
                                                                      f"where h grows, and {got}"))
    L, steps = got
    if L is oo:
        return CurvatureVerdict(line.name, "unbounded", oo, all_proved(f"{line.name}: sup h = oo", steps))
    L = L * line.scale
    verdict = all_proved(f"{line.name}: L = {L}", steps)
    return CurvatureVerdict(line.name, "bounded" if verdict.proved else "undecided", L if verdict.proved else None, verdict)


catalogue.on_change(decide.cache_clear)  # a name may come to mean another entry (register, extended)
