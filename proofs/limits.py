"""Limits at infinity, and the variable z of the elementwise activations.

    limit_is(f, oo, v)   proved when sympy.limit(f, z, oo) == v (a computation taken as given: see proofs.given)
    derivative(act, k)   f^(k)(z) of a catalogue activation, by SymPy's diff of derive's function

>>> limit_is(1 / (1 + sp.exp(-z)), oo, 1).proved
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Piecewise, S, oo

from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from proofs.certificate import Verdict
from proofs.values import exact

__all__ = ["z", "REALS", "derivative", "limit_at", "limit_is"]

z = sp.Symbol("z", real=True)
REALS = {z: S.Reals}


def derivative(act, order: int = 1):
    """f^(order)(z) of a catalogue activation (an entry or its name), by SymPy's diff of derive's function."""
    act = catalogue.ACTIVATIONS[act] if isinstance(act, str) else act
    return sp.diff(act.f(z), z, order)


@cache
def limit_at(expr, point):
    """lim_{z -> point} expr for point = +-oo; a Piecewise in z takes the branch that holds
    beyond every finite boundary of its conditions (their truth is constant out there)."""
    expr = sp.piecewise_fold(expand_named(expr))
    if expr.has(Piecewise):
        bounds = [0]
        for pw in expr.atoms(Piecewise):
            for _, cond in pw.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    bounds += [p for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), z, S.Reals) if p.is_finite]
        far = (max(bounds) + 1) if point == oo else (min(bounds) - 1)
        expr = expr.replace(
            lambda e: isinstance(e, Piecewise),
            lambda e: next(x for x, c in e.args if bool(c.subs(z, far))),
        )
    return sp.limit(expr, z, point)


def limit_is(expr, point, value) -> Verdict:
    """lim_{z -> point} expr == value (point, value may be +-oo; nothing else inexact: ``proofs.values``)."""
    expr = exact(expr, "limit's expression")
    value = value if value in (oo, -oo) else exact(value, "limit's value")
    got = limit_at(expr, point)
    claim = f"lim z->{point} {sp.sstr(expr)} = {sp.sstr(value)}"
    relation = sp.Eq(sp.Limit(expr, z, point), value, evaluate=False)
    if sp.simplify(got - value) == 0 or got == value:
        return Verdict(claim, "proved", "sympy.limit", relation=relation)
    return Verdict(claim, "not proved", f"sympy.limit gave {got}", relation=relation)
