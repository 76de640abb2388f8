"""Refutation: only a counterexample refutes, at a point inside every assumption and domain.

    refute(lhs, rhs, point, relation)  refuted iff the gap lhs - rhs at ``point``, certified to 60
    digits by SymPy's strict evalf, excludes the relation (cancellation it cannot resolve is no refutation)

>>> from sympy import Symbol
>>> x = Symbol("x", positive=True)
>>> refute(x, 0, {x: 1}, ">=").status, refute(x, 0, {x: -1}, "<=").status
('not proved', 'not proved')
"""

from __future__ import annotations

import mpmath
import sympy as sp

from derive.symbolic.functions import expand_named
from proofs.certificate import Verdict, namer
from proofs.equality import is_zero
from proofs.sign import lookup
from proofs.values import domain_of, exact

__all__ = ["refute", "high_precision", "certified_value", "PRECISION"]

PRECISION = 60  # decimal digits for refutations (the bar is 50+)


def high_precision(expr, point=None, digits: int = PRECISION):
    """The value of ``expr`` at ``point`` with mpmath at ``digits`` digits (named functions expanded)."""
    expr = expand_named(exact(expr)).subs(point or {})
    free = expr.free_symbols
    if free:
        raise ValueError(f"the point leaves {sorted(map(str, free))} free")
    with mpmath.workdps(digits + 10):
        value = sp.lambdify((), expr, modules="mpmath")()
        return mpmath.mpf(value) if not isinstance(value, mpmath.mpc) else value


def certified_value(expr, digits: int = PRECISION):
    """expr (a number) to ``digits`` correct digits by SymPy's evalf with error tracking
    (strict: cancellation it cannot resolve raises instead of returning noise); None when not certified."""
    expr = expand_named(exact(expr))
    if expr.free_symbols:
        return None
    try:
        value = sp.N(expr, digits, strict=True, maxn=20 * digits)
    except (sp.core.evalf.PrecisionExhausted, ValueError, TypeError, ZeroDivisionError):
        return None
    if value.is_zero and not (expr == 0 or is_zero(expr) is True):
        return None  # "0" from evalf is not a certified zero
    if value.is_real is not True:  # is_real: finite too
        return None
    return value


def _admissible(var, val, domain) -> tuple[str | None, list[str]]:
    """(why ``var = val`` is not an admissible point, or None; the conditions checked): a real
    number, inside every declared assumption of ``var`` and inside its stated domain."""
    checked = []
    if not isinstance(var, (sp.Symbol, sp.Indexed)):
        return f"{sp.sstr(var)} is not a symbol: a point gives values to symbols only", checked
    if not (val.is_number and val.is_real is True):
        return f"{sp.sstr(var)} = {sp.sstr(val)} is not a real number", checked
    label = var.base.label if isinstance(var, sp.Indexed) else var
    for key, want in sorted((getattr(label, "_assumptions_orig", None) or {}).items()):
        checked.append(f"{sp.sstr(var)} {key if want else 'not ' + key}")
        if getattr(val, f"is_{key}", None) is not want:
            return f"{sp.sstr(var)} = {sp.sstr(val)} is not shown {key if want else 'not ' + key}, as {sp.sstr(var)} is declared", checked
    iv = lookup(var, domain)
    if iv is not None:
        checked.append(f"{sp.sstr(var)} in {iv}")
        if iv.contains(val) is not sp.true:
            return f"{sp.sstr(var)} = {sp.sstr(val)} is not shown to lie in {iv}", checked
    return None, checked


def _sum_limits(expr) -> str | None:
    """Why a Sum of ``expr`` (at the point) has no value: limits that are not integers."""
    for s in expr.atoms(sp.Sum):
        for var, lo, hi in s.limits:
            for end in (lo, hi):
                if end.is_number and end.is_integer is not True:
                    return f"the sum over {var} has the limit {sp.sstr(end)}, not an integer: the sum is undefined there"
    return None


def refute(lhs, rhs, point, relation: str = "==", claim=None, digits: int = PRECISION, domain=None) -> Verdict:
    """Refuted when lhs `relation` rhs fails at ``point``: the gap lhs - rhs, certified to ``digits``
    digits (SymPy evalf, strict), excludes the relation by more than 10^-(digits - 10).

    ``point`` ({symbol: exact number}) must be real, inside every assumption its symbols were declared
    with (positive, integer, ...) and, where ``domain`` ({symbol: Interval}) names them, inside it;
    the verdict lists the conditions checked. A point that is none of these refutes nothing.
    """
    lhs, rhs = exact(lhs, "lhs"), exact(rhs, "rhs")
    point = {exact(k, "point"): exact(v, "point value") for k, v in dict(point).items()}
    dom = domain_of(domain)
    show = namer(lhs, rhs, point, dom)
    claim = show.claim(claim or f"{show(lhs)} {relation} {show(rhs)}")
    where = ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in point.items())
    checked = []
    for var, val in point.items():
        outside, seen = _admissible(var, val, dom)
        checked += seen
        if outside is not None:
            return Verdict(claim, "not proved", f"not a counterexample: {outside}", details=(point, None, None))
    inside = f"; inside {', '.join(checked)}" if checked else "; no assumption or domain to check"
    diff = (lhs - rhs).subs(point)
    why = _sum_limits(diff)
    if why is None and diff.free_symbols:
        why = f"the point leaves {sorted(map(str, diff.free_symbols))} free"
    if why is not None:
        return Verdict(claim, "not proved", f"not a counterexample: {why}", details=(point, None, None))
    try:
        with mpmath.workdps(digits + 10):
            lv, rv = high_precision(lhs, point, digits), high_precision(rhs, point, digits)
            shown = f"lhs = {mpmath.nstr(lv, 20)}, rhs = {mpmath.nstr(rv, 20)} at {where} ({digits} digits){inside}"
    except (TypeError, ValueError, ArithmeticError, AttributeError, NameError) as exc:
        return Verdict(claim, "not proved", f"not a counterexample: no value at {where} ({type(exc).__name__}: {exc})",
                       details=(point, None, None))
    gap = certified_value(diff, digits)
    if gap is None:
        return Verdict(claim, "not proved", f"not a counterexample: the gap is not certified: {shown}",
                       details=(point, lv, rv))
    tol = sp.Rational(1, 10 ** (digits - 10))
    exact_tie = relation in ("<", ">") and abs(gap) <= tol and is_zero(diff) is True
    fails = {
        "==": abs(gap) > tol,
        "<=": gap > tol,
        "<": gap > tol or exact_tie,
        ">=": gap < -tol,
        ">": gap < -tol or exact_tie,
    }[relation]
    if fails:
        return Verdict(claim, "refuted", f"counterexample: {shown}, certified gap {sp.N(gap, 20)}", details=(point, lv, rv))
    return Verdict(claim, "not proved", f"not a counterexample: {shown}", details=(point, lv, rv))
