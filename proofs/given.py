"""The facts the checker takes as given, in one place; every step that uses one names it.

    by_fact(key, claim, premises)   proved iff every premise is proved; the reason cites the fact

Everything else is checked: identities exactly, signs structurally, limits by SymPy,
counterexamples at 60 digits. ``python -m proofs`` lists these facts.

>>> by_fact("induction", "P(L) for all L >= 1", []).reason.startswith("by induction")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from proofs.certificate import Verdict

__all__ = ["Fact", "FACTS", "by_fact"]


@dataclass(frozen=True)
class Fact:
    key: str
    statement: str


# fmt: off
FACTS: tuple[Fact, ...] = (
    Fact("monotonicity", "f differentiable on an interval I with f' >= 0 on I is nondecreasing on I, "
                         "with f' > 0 increasing (the mean value theorem)"),
    Fact("convexity",    "a continuous function whose derivative is nondecreasing (second derivative, as a "
                         "measure, >= 0: h >= 0 a.e. and no downward jump of the derivative) is convex; a sum of "
                         "convex functions of separate variables is convex"),
    Fact("gershgorin",   "every eigenvalue of a real symmetric matrix lies in a disc centred at a diagonal entry "
                         "with radius the sum of |off-diagonal entries| of its row"),
    Fact("induction",    "P(1), and P(L) => P(L+1) for every L >= 1, give P(L) for every L >= 1"),
    Fact("continuity",   "a function continuous on an interval takes every value between two of its values "
                         "(intermediate value theorem); elementary functions are continuous where defined"),
    Fact("limits",       "sympy.limit's value of an elementary function at +-oo"),
    Fact("function facts", "each named function's and SymPy built-in's facts the sign rules read "
                           "(increasing, F(-oo), F(oo), positive, real: derive.symbolic.functions.facts; "
                           "the catalogue activations' are proved in theorem 2)"),
    Fact("interval arithmetic", "mpmath.iv rounds outward: the interval it returns holds the exact value"),
    Fact("rounding",     "IEEE 754 binary formats (p bits, least normal exponent emin) round to nearest, ties to "
                         "even: a real below half the least subnormal 2^(emin - p) rounds to 0, one within half "
                         "an ulp below 1 (2^-(p+1)) rounds to 1; a kernel's row nodes and named functions "
                         "compute what derive.compile.nodes and the catalogue say (tested against mpmath)"),
)
# fmt: on

_BY_KEY = {f.key: f for f in FACTS}


def by_fact(key: str, claim: str, premises) -> Verdict:
    """``claim`` follows from the premises by the stated fact ``key``: proved iff every premise is."""
    fact = _BY_KEY[key]
    premises = tuple(premises)
    # the fact itself is a leaf of the conjunction, so a listing of the steps shows where it is used
    used = Verdict(f"uses the fact '{key}'", "proved", "taken as given: proofs.given.FACTS")
    missing = [p for p in premises if not p.proved]
    if missing:
        return Verdict(claim, "not proved", f"by {key}, but a premise is not proved: {missing[0]}",
                       details=(*premises, used), conjunction=True)
    return Verdict(claim, "proved", f"by {key} from {len(premises)} proved premises", details=(*premises, used),
                   conjunction=True)
