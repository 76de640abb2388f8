"""Identities: ``identity_holds(e)`` is True when e == 0 is proved, else None (never False).

    sums:  linearity, index-free factors pulled out, KroneckerDelta collapsed onto a target in range;
    cases: every KroneckerDelta(p, q) split into p != q and p == q;  then expand / cancel / exp
    generators t_u = e^u > 0, and ``proofs.equality.is_zero``.

Every bound index is renamed to a fresh Dummy per nesting depth (one set per check), so an
outside symbol never meets a bound one, whatever their names.

>>> from sympy import Sum, Symbol
>>> i, j, n = Symbol("i", integer=True), Symbol("j", integer=True), Symbol("n", integer=True)
>>> identity_holds(Sum(i, (i, 1, n)) - Sum(j, (j, 1, n)))
True
"""

from __future__ import annotations

import sympy as sp
from sympy import S

from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import sum_delta
from proofs.equality import is_zero
from proofs.values import exact

__all__ = ["identity_holds", "expand_sums", "nonneg_diff"]


def nonneg_diff(d) -> bool:
    """d >= 0 proved: a nonnegative number, or by the declared assumptions of its symbols (n > 0)."""
    d = sp.expand(d)
    if d.is_number:
        return d.is_real is True and d.is_nonnegative is True  # is_real: finite too
    return d.is_nonnegative is True


def _within(target, lo, hi, ranges) -> bool:
    """lo <= target <= hi proved, target a number or an index whose range is known (``ranges``)."""
    if target.is_number:
        tlo = thi = target
    elif ranges.get(target) is not None:
        tlo, thi = ranges[target]
    else:
        return False
    return nonneg_diff(tlo - lo) and nonneg_diff(hi - thi)



def _kronecker_cases(expr):
    """Every KroneckerDelta(p, q) case-split: p != q (delta -> 0) and p == q (q -> p)."""
    free = expr.free_symbols
    deltas = sorted((d for d in expr.atoms(sp.KroneckerDelta) if d.free_symbols <= free), key=sp.default_sort_key)
    if not deltas:
        return [expr]
    d = deltas[0]
    p, q = d.args
    off = expr.xreplace({d: S.Zero})
    on = expr.xreplace({d: S.One})
    on = on.subs(q, p) if q.is_Symbol else on.subs(p, q)
    return _kronecker_cases(off) + _kronecker_cases(on)


class _Indices:
    """Fresh bound indices, one per nesting depth, shared by every Sum of one check: two sums
    over the same range compare equal whatever their index was called, and a Dummy can never be
    captured by (or capture) a symbol of the statement, whatever its name."""

    def __init__(self):
        self._by_depth: list[sp.Dummy] = []

    def at(self, depth: int) -> sp.Dummy:
        while len(self._by_depth) <= depth:
            # only what the limits say: no sign assumption (SymPy's doit trusts a positive index)
            self._by_depth.append(sp.Dummy(f"i{len(self._by_depth)}", integer=True))
        return self._by_depth[depth]


def _canonical_index(expr, names: _Indices):
    """Rename the index of every Sum to ``names.at(depth)`` (outermost limit first)."""

    def rename(e, depth=0):
        if isinstance(e, sp.Sum):
            new = {var: names.at(depth + n) for n, (var, _, _) in enumerate(reversed(e.limits))}
            body = rename(e.function.xreplace(new), depth + len(e.limits))
            return sp.Sum(body, *[(new[var], rename(lo.xreplace(new), depth), rename(hi.xreplace(new), depth)) for var, lo, hi in e.limits])
        if e.args:
            return e.func(*[rename(x, depth) for x in e.args])
        return e

    return rename(expr)



def expand_sums(expr, indices=None, names: _Indices | None = None):
    """Linearity of sums: split Sum over +, pull out index-free factors, collapse KroneckerDelta.

    A delta collapses only when its target is proved to lie within the limits: a number, the index
    of an enclosing Sum, or an index of ``indices`` ({index: (lo, hi)}, a stated hypothesis).
    """
    def walk(e, ranges):
        if isinstance(e, sp.Sum):
            return split(e, ranges)
        if e.has(sp.Sum):
            return e.func(*[walk(x, ranges) for x in e.args])
        return e

    def collapse(rest, var, target):
        try:
            return sum_delta(rest, var, target)
        except ValueError:  # the summand does not vanish off the diagonal
            return None

    def split(e, ranges):
        var, lo, hi = e.limits[-1]
        inner = e.function if len(e.limits) == 1 else sp.Sum(e.function, *e.limits[:-1])
        # the index runs over lo..hi only when hi - lo + 1 >= 0 (else Karr: over hi+1..lo-1)
        body = sp.expand(walk(inner, {**ranges, var: (lo, hi) if nonneg_diff(hi - lo + 1) else None}))
        out = S.Zero
        for term in sp.Add.make_args(body):
            const, rest = term.as_independent(var, as_Add=False)
            ds = [d for d in rest.atoms(sp.KroneckerDelta) if var in d.free_symbols]
            others = [x for x in (ds[0].args if ds else ()) if x != var]
            if rest == 1:
                out += const * (hi - lo + 1)
            elif (
                len(others) == 1 and var not in others[0].free_symbols and _within(others[0], lo, hi, ranges)
                and (collapsed := collapse(rest, var, others[0])) is not None
            ):
                out += const * collapsed
            else:
                out += const * sp.Sum(rest, (var, lo, hi))
        return out

    names = names or _Indices()
    ranges = {exact(k, "index"): tuple(exact(e, "index range end") for e in v) for k, v in (indices or {}).items()}
    # bound indices made fresh first: the delta substitutions below then capture nothing
    return sp.expand(_canonical_index(walk(_canonical_index(exact(expr), names), ranges), names))


def _exp_generators(expr):
    """Named functions expanded, then each e^{c u} written t_u^c (t_u = e^u > 0, c a number):
    an identity of rational functions in the t_u is an identity of the original."""
    expr = sp.expand(expand_named(expr).rewrite(sp.exp), power_exp=True, mul=False, multinomial=False)
    gens = {}

    def as_power(e):
        c, u = e.args[0].as_coeff_Mul()
        if u.is_extended_real is not True:  # (e^u)^c = e^{cu} needs u real
            return e
        return gens.setdefault(u, sp.Dummy("t", positive=True)) ** c

    return expr.replace(lambda e: isinstance(e, sp.exp), as_power)


def _cheap_zero(form) -> bool:
    try:
        if sp.expand(form) == 0 or sp.cancel(sp.together(form)) == 0:
            return True
        return sp.cancel(sp.together(_exp_generators(form))) == 0
    except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
        return False


def identity_holds(expr, given=None, indices=None) -> bool | None:
    """True when ``expr`` == 0 is proved (under the equalities ``given``: {expr: value}, and the
    index ranges ``indices``: {i: (lo, hi)}); else None."""
    expr = exact(expr)
    given = {exact(k, "given"): exact(v, "given value") for k, v in (given or {}).items()}
    names = _Indices()

    def use_given(e):
        for old, new in given.items():
            e = e.xreplace({expand_sums(old, indices, names) if old.has(sp.Sum) else old: new})
        return e

    expr = _canonical_index(expr, names)  # before the delta cases substitute symbols
    if expr.has(sp.Sum):
        expr = use_given(expand_sums(expr, indices, names))
    for case in _kronecker_cases(expr):
        form = use_given(case)
        if _cheap_zero(form):
            continue
        if is_zero(form) is True:
            continue
        return None
    return True
