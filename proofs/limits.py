"""Limits at infinity, and the variable z of the elementwise activations.

    limit_is(f, oo, v)   proved by the stated fact 'limits' (sympy.limit's value at +-oo, proofs.given) when that
                         value equals v exactly; a one-sided limit at a finite point p is the limit at oo of f(p +- 1/t)
    derivative(act, k)   f^(k)(z) of a catalogue activation, by SymPy's diff of derive's function

>>> limit_is(1 / (1 + sp.exp(-z)), oo, 1).proved
True
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import sympy as sp
from sympy import Piecewise, S, oo

from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from proofs.certificate import Verdict
from proofs.checker import check_eq
from proofs.given import by_fact
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


def limit_is(expr, point, value, *, var=z, side=None, claim=None) -> Verdict:
    """lim_{var -> point} expr == value by the stated fact 'limits' (point, value may be +-oo; nothing else
    inexact: ``proofs.values``). A finite ``point`` needs ``side`` ("+" from above, "-" from below): var = point
    +- 1/t turns it into a limit at t -> oo, the only limits the fact covers."""
    expr = exact(expr, "limit's expression")
    value = value if value in (oo, -oo) else exact(value, "limit's value")
    claim = claim or f"lim {var}->{point}{side or ''} {sp.sstr(expr)} = {sp.sstr(value)}"
    relation = sp.Eq(sp.Limit(expr, var, point, side or "+-" if point.is_finite else "+"), value, evaluate=False)
    at_oo, far = expr, point
    if point.is_finite:
        if side not in ("+", "-"):
            raise ValueError(f"a limit at the finite point {point} needs side '+' or '-', got {side!r}")
        t = sp.Dummy("t", positive=True)
        at_oo, far = expr.xreplace({var: point + (1 if side == "+" else -1) / t}), oo
        var = t
    got = limit_at(at_oo, far) if var == z else sp.limit(at_oo, var, far)
    if value in (oo, -oo) or not got.is_finite:  # an infinity is compared as a symbol, never in arithmetic
        premise = Verdict(f"sympy.limit gives {sp.sstr(got)}", "proved" if got == value else "not proved",
                          "the same infinity" if got == value else f"not {sp.sstr(value)}")
    else:
        premise = check_eq(got, value, claim="sympy.limit's value is the one claimed")  # both in the claim above
        if not premise.proved:
            premise = replace(premise, claim=f"sympy.limit gives {sp.sstr(got)}, not shown equal to {sp.sstr(value)}")
    return replace(by_fact("limits", claim, [premise]), relation=relation)
