"""Errors of the public API, and the one place their messages are written. SymPy-free: ``derive.kernels`` raises them too.

    unknown("activation", "Sigmoid", ACTIVATIONS)   -> unknown activation 'Sigmoid' (did you mean 'sigmoid'?); known ...
    swapped(first, second, ACTIVATIONS, LOSSES)     -> the error for (loss, activation) given in that order, or None
    pairing_error("relu", "bce", why, ["quadratic", ...]) -> invalid pairing relu + bce: why; relu pairs with ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["PairingError", "UnknownNameError", "FormulaError", "unknown", "swapped", "pairing_error", "suggest"]


class PairingError(ValueError):
    """An activation x loss pairing that is not defined: the reason says why, and what the activation pairs with."""


class UnknownNameError(ValueError):
    """A name that is not in the catalogue: the message suggests the closest and lists the known ones."""


class FormulaError(ValueError):
    """A formula outside the whitelist: the message shows the formula, a caret under the place, what was
    wrong and what is allowed."""

    def __init__(self, formula: str, column: int, what: str, allowed: str):
        self.formula, self.column, self.what = formula, column, what
        shown = formula if len(formula) <= 200 else formula[:200] + "..."
        caret = " " * min(max(column, 0), len(shown)) + "^"
        super().__init__(f"{what}\n    {shown}\n    {caret}" + (f"\n{allowed}" if allowed else ""))


def suggest(name: object, known: Iterable[str]) -> str | None:
    """The known name ``name`` most likely meant: the same up to case, ``-``/``_`` and spaces, else the
    closest by ``difflib`` (ratio >= 0.6); None when nothing is close."""
    if not isinstance(name, str):
        return None
    known = list(known)
    folded = {k.casefold().replace("-", "_").replace(" ", "_"): k for k in known}
    key = name.strip().casefold().replace("-", "_").replace(" ", "_")
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def unknown(kind: str, name: object, known: Iterable[str], hint: str = "", where: str = "") -> UnknownNameError:
    """The error for ``name`` not being one of ``known`` (a {kind}): did-you-mean, then the known names."""
    known = list(known)
    plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
    guess = suggest(name, known)
    mean = f" (did you mean {guess!r}?)" if guess is not None and guess != name else ""
    place = f" in {where}" if where else ""
    tail = f" ({hint})" if hint else ""
    return UnknownNameError(f"unknown {kind} {name!r}{place}{mean}; known {plural}: {', '.join(known)}{tail}")


def swapped(first: object, second: object, activations: Iterable[str], losses: Iterable[str]) -> UnknownNameError | None:
    """The error for a loss given where the activation goes and an activation where the loss goes, else None."""
    activations, losses = list(activations), list(losses)
    if first in losses and second in activations and first not in activations:
        return unknown("activation", first, activations,
                       hint=f"{first} is a loss: the activation comes first, {second} then {first}")
    return None


def pairing_error(activation: str, loss: str, reason: str, pairs_with: Iterable[str]) -> PairingError:
    """invalid pairing {activation} + {loss}: {reason}; {activation} pairs with: {pairs_with}."""
    pairs_with = list(pairs_with)
    others = f"; {activation} pairs with: {', '.join(pairs_with)}" if pairs_with else f"; {activation} pairs with no loss"
    return PairingError(f"invalid pairing {activation} + {loss}: {reason}{others}")
