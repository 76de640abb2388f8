"""Three-valued zero test: ``is_zero(e)`` is True (proved) or None (unknown), never False.

A failed ``simplify`` proves nothing, so it never answers False; only a
counterexample at high precision refutes (``proofs`` does that). Values are exact
(``proofs.values``): a float or an infinity is refused, as everywhere in ``proofs``.

Strategies, cheapest first: ``expand``; ``cancel`` with the transcendental
atoms as independent symbols, also on each truth assignment of the Piecewise
conditions; for Piecewise in one real variable v,
a case split at the boundaries of every condition's solution set, deciding each
condition on each piece from that set (not from SymPy's guess); ``simplify``,
again after ``rewrite(exp)`` and after expanding the named functions.

>>> from sympy import Symbol, Piecewise, exp
>>> v = Symbol("v", real=True)
>>> is_zero(Piecewise((1, exp(v) - 1 > 0), (0, True)) - Piecewise((1, v > 0), (0, True)))
True
"""

from __future__ import annotations

import sympy as sp

from itertools import product

from derive.symbolic.functions import _Named, expand_named
from proofs.values import exact

__all__ = ["is_zero", "equal", "cases"]


def _candidates(expr):
    yield expr
    yield expr.rewrite(sp.exp)
    yield sp.piecewise_fold(expand_named(expr))


def _simplifies_to_zero(expr) -> bool:
    for form in _candidates(expr):
        try:
            if sp.simplify(form) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError):  # SymPy gives up on some forms
            continue
    return False


def _condition_sets(expr, v):
    """{condition: its solution set in v} for every Piecewise condition in ``expr``."""
    conds = {}
    for pw in expr.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                if rel.free_symbols == {v}:
                    conds[rel] = sp.solveset(rel, v, sp.S.Reals)
    return conds


def _is_interval_union(s) -> bool:
    parts = s.args if isinstance(s, sp.Union) else (s,)
    return all(isinstance(q, (sp.Interval, sp.FiniteSet)) or q is sp.S.EmptySet for q in parts)


def cases(expr, v):
    """[(piece, {condition: truth on it})] over the pieces of the line cut at the boundaries of every
    Piecewise condition in v alone (points, then open intervals); None where a solution set is not
    finitely many intervals, or no condition is in v alone."""
    try:
        conds = _condition_sets(expr, v)
        if not conds or not all(_is_interval_union(s) for s in conds.values()):
            return None  # solveset could not give finitely many intervals: no split
        cuts = sorted({p for s in conds.values() for p in s.boundary if p.is_finite}, key=float)
    except (NotImplementedError, TypeError, ValueError):
        return None
    pieces = [sp.FiniteSet(c) for c in cuts]
    edges = [sp.S.NegativeInfinity, *cuts, sp.S.Infinity]
    pieces += [sp.Interval.open(lo, hi) for lo, hi in zip(edges, edges[1:])]
    out = []
    for piece in pieces:
        truth = {}
        for rel, sol in conds.items():
            if piece.is_subset(sol):
                truth[rel] = sp.true
            elif piece.intersect(sol) is sp.S.EmptySet:
                truth[rel] = sp.false
            else:
                return None
        out.append((piece, truth))
    return out


def _split_zero(expr, v) -> bool:
    split = cases(expr, v)
    if split is None:
        return False
    p = sp.Dummy("p", positive=True)
    for piece, truth in split:
        if isinstance(piece, sp.FiniteSet):
            point = next(iter(piece))
        elif piece == sp.S.Reals or (piece.start is sp.S.NegativeInfinity and piece.end is sp.S.Infinity):
            point = v  # no cut: the conditions are decided everywhere, v stays free
        elif piece.start is sp.S.NegativeInfinity:
            point = piece.end - p
        elif piece.end is sp.S.Infinity:
            point = piece.start + p
        else:
            return False  # a bounded open piece: no single-symbol parametrisation here
        decided = sp.piecewise_fold(expand_named(expr).subs(truth)).subs(truth)
        if not _simplifies_to_zero(decided.subs(v, point)):
            return False
    return True


class _NotReal(Exception):
    """An atom whose argument is not known to be real: no real stand-in for it."""


def _abstracted_zero(expr) -> bool:
    """cancel() == 0 with each transcendental atom as an independent symbol.

    exp(2 x - y) becomes t_x**2 / t_y (t_x > 0 standing for exp(x)); sign, Abs
    and the named functions become real symbols. Sound: an identity in
    independent symbols holds for every value they stand for.
    """
    stand_in: dict = {}

    def power_of(base):
        fresh = sp.Dummy(real=True) if isinstance(base, tuple) else sp.Dummy(positive=True)
        return stand_in.setdefault(base, fresh)

    def exp_as_powers(e):
        if e.args[0].is_extended_real is not True:
            raise _NotReal  # exp of a complex argument is not a positive number
        factors = []
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            coeff, rest = term.as_coeff_Mul()
            factors.append(power_of(rest) ** coeff if coeff.is_Integer else power_of(term))
        return sp.Mul(*factors)

    def odd_sign(e):  # sign(-u) = -sign(u): one symbol for both
        if e.args[0].is_extended_real is not True:
            raise _NotReal
        u, neg = sp.expand(e.args[0]), sp.expand(-e.args[0])
        key = min(u, neg, key=sp.default_sort_key)
        return power_of(("sign", key)) * (1 if key == u else -1)

    try:
        expr = expr.replace(lambda e: isinstance(e, sp.exp), exp_as_powers)
        expr = expr.replace(lambda e: isinstance(e, sp.sign), odd_sign)
    except _NotReal:
        return False
    others = {e: sp.Dummy(real=True) for e in expr.atoms(sp.Function) if isinstance(e, (sp.Abs, _Named))}
    if any(e.args[0].is_extended_real is not True for e in others):
        return False
    if not stand_in and not others:
        return False
    try:
        return sp.cancel(expr.xreplace(others)) == 0
    except sp.PolynomialError:
        return False


def _conditions_split_zero(expr, most=6) -> bool:
    """Zero on every truth assignment of the Piecewise conditions, taken as independent."""
    conds = sorted(
        {c for pw in expr.atoms(sp.Piecewise) for _, c in pw.args if c not in (sp.true, sp.false)},
        key=sp.default_sort_key,
    )
    if not conds or len(conds) > most:
        return False
    for truth in product((sp.true, sp.false), repeat=len(conds)):
        decided = expr.xreplace(dict(zip(conds, truth)))
        if decided.has(sp.Piecewise) or not (sp.expand(decided) == 0 or _abstracted_zero(decided)):
            return False
    return True


def is_zero(expr) -> bool | None:
    """True when ``expr`` is proved identically 0; None when not proved (never False)."""
    expr = exact(expr)  # floats and infinities refused (proofs.values); a string is refused, never parsed
    if any(pw.args[-1].cond is not sp.true for pw in expr.atoms(sp.Piecewise)):
        return None  # undefined where no branch applies: simplify would drop that part
    if sp.expand(expr) == 0 or _abstracted_zero(expr) or _conditions_split_zero(expr):
        return True
    # Indexed atoms (z[j], y[j]) become plain real symbols so they can be split on;
    # a case split first, as simplify on a folded Piecewise is slow.
    plain = {e: sp.Dummy(str(e), real=True) for e in expr.atoms(sp.Indexed)}
    unfolded = sp.piecewise_fold(expand_named(expr.subs(plain)))
    if unfolded.has(sp.Piecewise):
        for v in sorted(unfolded.free_symbols, key=str):
            if v.is_real and _split_zero(unfolded, v):
                return True
    return True if _simplifies_to_zero(expr) else None


def equal(lhs, rhs) -> bool | None:
    """True when lhs == rhs is proved; None when not proved."""
    return is_zero(exact(lhs) - exact(rhs))
