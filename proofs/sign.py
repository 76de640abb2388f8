"""The sign of an expression on a domain, by sound structural rules only (nothing is expanded).

    _signed(e, {x: Interval}) in {"positive", "nonnegative", "zero", "nonpositive", "negative", None}

Rules: numbers (finite, real); domain atoms and affine forms c t + d of one atom (interval
arithmetic); an increasing function of such a form (its image interval); sums and products
of parts of known sign; even powers; Abs; log against 1; Piecewise branches on the part of the
domain where each applies; a sum over an index of terms of one sign. What a named function is
(increasing, its ends, positive, real) is read from ``derive.symbolic.functions.facts``, its one
home. A symbol outside the domain is signed by its declared assumptions.

>>> from sympy import Interval, Symbol, exp
>>> x = Symbol("x", real=True)
>>> _signed(exp(x) * (x - 1), {x: Interval(1, 2)})
'nonnegative'
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Interval, S

from derive.symbolic.functions import expand_named, facts
from proofs.identity import nonneg_diff
from proofs.values import domain_of, exact

__all__ = ["sign", "leaf_interval", "lookup", "POS", "NONNEG", "ZERO", "NONPOS", "NEG"]

POS, NONNEG, ZERO, NONPOS, NEG = "positive", "nonnegative", "zero", "nonpositive", "negative"


def _increasing(e) -> bool:
    fx = facts(e) if isinstance(e, sp.Function) and len(e.args) == 1 else None
    return fx is not None and fx.increasing and fx.ends is not None


@cache
def _vanishes_at_zero(func) -> bool:
    return expand_named(func(S.Zero)) == 0



def _interval_sign(iv: sp.Set) -> str | None:
    if not isinstance(iv, Interval):
        if iv == S.Reals:
            return None
        return None
    lo, hi = iv.start, iv.end
    if (lo > 0) == True or (lo == 0 and iv.left_open):  # noqa: E712  (SymPy truth)
        return POS
    if (lo >= 0) == True:  # noqa: E712
        return NONNEG
    if (hi < 0) == True or (hi == 0 and iv.right_open):  # noqa: E712
        return NEG
    if (hi <= 0) == True:  # noqa: E712
        return NONPOS
    return None


def _number_sign(e) -> str | None:
    if e.is_zero:
        return ZERO
    if e.is_real is not True:  # is_real: finite; oo * 0 is undefined, no sign for oo
        return None
    if e.is_positive:
        return POS
    if e.is_negative:
        return NEG
    return None


def lookup(e, dom):
    """The interval of an atom: a key of the domain, or a[...] for a key that is an IndexedBase."""
    if e in dom:
        return dom[e]
    if isinstance(e, sp.Indexed) and e.base in dom:
        return dom[e.base]
    return None


def _image(f, iv: Interval) -> Interval:
    """[F(lo), F(hi)] for increasing F (its limits at infinite ends); openness kept."""
    ends = facts(f).ends
    lo = ends[0] if iv.start is S.NegativeInfinity else f(iv.start)
    hi = ends[1] if iv.end is S.Infinity else f(iv.end)
    return Interval(lo, hi, iv.left_open or iv.start.is_infinite, iv.right_open or iv.end.is_infinite)


def _affine_image(coef, const, iv: Interval) -> Interval:
    """{coef*t + const : t in iv} for a nonzero number coef."""
    lo, hi = coef * iv.start + const, coef * iv.end + const
    lo_open, hi_open = iv.left_open, iv.right_open
    if coef.is_negative:
        lo, hi, lo_open, hi_open = hi, lo, hi_open, lo_open
    return Interval(lo, hi, lo_open or lo.is_infinite, hi_open or hi.is_infinite)


def leaf_interval(e, dom) -> Interval | None:
    """An interval holding ``e`` when e is a domain atom, an affine form c*t + d of one
    such atom, or an increasing function of such a form; else None."""
    found = lookup(e, dom)
    if found is not None:
        return found
    if isinstance(e, sp.KroneckerDelta):
        return Interval(0, 1)
    if _increasing(e):
        inner = leaf_interval(e.args[0], dom)
        if isinstance(inner, Interval):
            return _image(type(e), inner)
        return None
    if isinstance(e, (sp.Add, sp.Mul)):
        if e.is_Add:
            const = sp.Add(*[t for t in e.args if t.is_number])
            rest = sp.Add(*[t for t in e.args if not t.is_number])
        else:
            const, rest = S.Zero, e
        coef = sp.Mul(*[f for f in sp.Mul.make_args(rest) if f.is_number])
        atom = sp.Mul(*[f for f in sp.Mul.make_args(rest) if not f.is_number])
        if (
            coef.is_real and const.is_real and coef != 0
            and (const != 0 or coef != 1) and not atom.is_Add and not atom.is_number
        ):
            inner = leaf_interval(atom, dom)
            if isinstance(inner, Interval):
                return _affine_image(coef, const, inner)
    return None


def _affine_sum(e, dom) -> Interval | None:
    """Interval arithmetic for c0 + sum c_i t_i with each t_i a leaf: the sum of the images."""
    lo, hi, lo_open, hi_open = S.Zero, S.Zero, False, False
    for term in e.args:
        if term.is_number:
            if not term.is_real:
                return None
            lo, hi = lo + term, hi + term
            continue
        coef = sp.Mul(*[f for f in sp.Mul.make_args(term) if f.is_number])
        atom = sp.Mul(*[f for f in sp.Mul.make_args(term) if not f.is_number])
        if not coef.is_real or atom.is_Add:
            return None
        inner = leaf_interval(atom, dom)
        if not isinstance(inner, Interval):
            return None
        part = _affine_image(coef, S.Zero, inner)
        lo, hi = lo + part.start, hi + part.end
        lo_open, hi_open = lo_open or part.left_open, hi_open or part.right_open
    if lo is S.NaN or hi is S.NaN:
        return None
    return Interval(lo, hi, lo_open or lo.is_infinite, hi_open or hi.is_infinite)


def _negate(sg):
    return {POS: NEG, NONNEG: NONPOS, ZERO: ZERO, NONPOS: NONNEG, NEG: POS, None: None}[sg]


def _add_signs(signs):
    if any(s is None for s in signs):
        return None
    if all(s == ZERO for s in signs):
        return ZERO
    if all(s in (POS, NONNEG, ZERO) for s in signs):
        return POS if POS in signs else NONNEG
    if all(s in (NEG, NONPOS, ZERO) for s in signs):
        return NEG if NEG in signs else NONPOS
    return None


def _mul_signs(signs):
    if any(s is None for s in signs):
        return ZERO if ZERO in signs else None
    if ZERO in signs:
        return ZERO
    negative = sum(s in (NEG, NONPOS) for s in signs) % 2 == 1
    strict = all(s in (POS, NEG) for s in signs)
    if negative:
        return NEG if strict else NONPOS
    return POS if strict else NONNEG


def _is_real(e, dom) -> bool:
    """Structurally real: atoms of the domain, real numbers, real operations of real parts."""
    if e.is_number:
        return e.is_real is True
    if leaf_interval(e, dom) is not None:
        return True
    if isinstance(e, (sp.Add, sp.Mul)):
        return all(_is_real(t, dom) for t in e.args)
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_integer is True and _is_real(base, dom):
            # b^-k needs b != 0 (1/x at 0 is not a real number)
            return ex.is_nonnegative is True or _signed(base, dom) in (POS, NEG)
        return _signed(base, dom) == POS and ex.is_real is True
    if isinstance(e, sp.Function) and len(e.args) == 1 and (fx := facts(e)) is not None and fx.real:
        return _is_real(e.args[0], dom)
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        bound = _bound_index(e, dom)
        return bound is not None and _is_real(*bound)
    return False


def _bound_index(e: sp.Sum, dom):
    """(body, domain): the index replaced by a fresh integer symbol ranging over [lo, hi] (its
    limits, not its assumptions: i may be declared positive and still run over negatives)."""
    var, lo, hi = e.limits[0]
    try:
        iv = Interval(lo, hi)
    except (TypeError, ValueError):
        return None
    if not isinstance(iv, Interval):
        return None
    t = sp.Dummy(str(var), integer=True)
    return e.function.xreplace({var: t}), {**dom, t: iv}


def _solve_on(cond, v, iv):
    """The part of ``iv`` where ``cond`` (relations in the single atom v) holds, or None."""
    if cond == sp.true:
        return iv
    if cond == sp.false:
        return S.EmptySet
    t = sp.Dummy("t", real=True)
    try:
        sol = sp.solveset(cond.xreplace({v: t}), t, iv.xreplace({}))
    except (NotImplementedError, TypeError, ValueError):
        return None
    if isinstance(sol, sp.ConditionSet):
        return None
    return sol


def _common_sign(signs):
    if not signs or any(s is None for s in signs):
        return None
    if all(s == POS for s in signs):
        return POS
    if all(s in (POS, NONNEG, ZERO) for s in signs):
        return NONNEG
    if all(s == NEG for s in signs):
        return NEG
    if all(s in (NEG, NONPOS, ZERO) for s in signs):
        return NONPOS
    return None


def _piecewise_sign(e, dom):
    """Each branch's sign on the part of the domain where that branch applies; when the conditions
    cannot be solved, the sign every branch has on the whole domain (the last branch always applies)."""
    cover = _common_sign([_signed(x, dom) for x, _ in e.args]) if e.args[-1].cond == sp.true else None
    return _piecewise_sign_by_parts(e, dom) or cover


def _piecewise_sign_by_parts(e, dom):
    atoms = set()
    for _, cond in e.args:
        for rel in cond.atoms(sp.core.relational.Relational):
            found = _atoms_of(rel)
            if any(lookup(x, dom) is None for x in found):
                return None
            atoms |= found
    if len(atoms) != 1:
        return None
    (v,) = atoms
    iv = lookup(v, dom)
    remaining = iv
    signs = []
    for expr, cond in e.args:
        part = _solve_on(cond, v, remaining)
        if part is None:
            return None
        if part == S.EmptySet:
            continue
        pieces = part.args if isinstance(part, sp.Union) else (part,)
        for piece in pieces:
            if isinstance(piece, sp.FiniteSet):
                piece_signs = [_number_sign(expr.subs(v, p)) if not (expr.subs(v, p)).free_symbols
                               else _signed(expr.subs(v, p), dom) for p in piece]
                signs.extend(piece_signs)
                continue
            if not isinstance(piece, Interval):
                return None
            signs.append(_signed(expr, {**dom, v: piece}))
        remaining = remaining - part
        if remaining == S.EmptySet:
            break
    if remaining != S.EmptySet:  # no branch applies somewhere: undefined (nan) there, no sign
        return None
    return _common_sign(signs)


def _at_least(d, dom) -> bool:
    """d >= 0: by its sign on the domain, or by the declared assumptions of its free symbols (n > 0)."""
    return _signed(d, dom) in (POS, NONNEG, ZERO) or nonneg_diff(d)


def _atoms_of(e):
    return e.atoms(sp.Symbol, sp.Indexed) - {s for ind in e.atoms(sp.Indexed) for s in ind.free_symbols if s != ind}


def sign(e, dom) -> str | None:
    """The sign of ``e`` on the domain by structural rules only, or None (unknown).

    ``e`` and the domain must be exact (``proofs.values``): a float or an infinity is an InexactValue."""
    return _signed(exact(e), domain_of(dom))


def _signed(e, dom) -> str | None:
    try:
        return _sign(e, dom)
    except (TypeError, ValueError, ArithmeticError):  # e.g. an Interval SymPy cannot form: unknown
        return None


def _sign(e, dom) -> str | None:
    if e.is_number and not e.has(sp.Sum):  # a Sum's assumptions-based sign trusts its index's assumptions
        return _number_sign(e)
    if e.is_Symbol and e not in dom:  # a declared assumption, e.g. n = number of units > 0
        return POS if e.is_positive else NONNEG if e.is_nonnegative else None
    iv = leaf_interval(e, dom)
    if iv is not None:
        return _interval_sign(iv)
    if isinstance(e, sp.Add):
        # SymPy flattens (s - 1) + h into -1 + s + h: regroup the affine terms (numbers, c * leaf)
        # and bound them together by interval arithmetic; every other term on its own.
        affine = [t for t in e.args if t.is_number or _affine_sum(sp.Add(t, 0, evaluate=False), dom) is not None]
        rest = [t for t in e.args if t not in affine]
        signs = [_signed(t, dom) for t in rest]
        if affine:
            iv = _affine_sum(sp.Add(*affine, evaluate=False), dom) if len(affine) > 1 else leaf_interval(affine[0], dom)
            signs.append(_interval_sign(iv) if iv is not None else _signed(affine[0], dom) if len(affine) == 1 else None)
        return _add_signs(signs)
    if isinstance(e, sp.Mul):
        return _mul_signs([_signed(t, dom) for t in e.args])
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_integer and ex.is_even:
            sb = _signed(base, dom)
            if sb in (POS, NEG):
                return POS
            if ex.is_negative:  # 1/b^2 needs b != 0
                return None
            return NONNEG if _is_real(base, dom) else None
        sb = _signed(base, dom)
        if ex.is_integer and ex.is_odd:
            if ex.is_negative and sb not in (POS, NEG):
                return None
            return sb
        if ex.is_real and sb == POS:  # is_real: a finite exponent (x**oo is not a real power)
            return POS
        if ex.is_real and ex.is_positive and sb in (NONNEG, ZERO):
            return NONNEG
        return None
    fx = facts(e) if isinstance(e, sp.Function) and len(e.args) == 1 else None
    if fx is not None and fx.positive and _is_real(e.args[0], dom):
        return POS
    if fx is not None and fx.increasing and _vanishes_at_zero(e.func) and _is_real(e.args[0], dom):
        return _signed(e.args[0], dom)  # increasing with F(0) = 0: the sign of the argument
    if isinstance(e, sp.Abs):
        return POS if _signed(e.args[0], dom) in (POS, NEG) else (NONNEG if _is_real(e.args[0], dom) else None)
    if isinstance(e, sp.log):
        sm = _signed(e.args[0] - 1, dom)
        if sm in (POS, ZERO, NONNEG):
            return sm
        if sm in (NEG, NONPOS) and _signed(e.args[0], dom) == POS:
            return sm
        return None
    if isinstance(e, sp.Piecewise):
        return _piecewise_sign(e, dom)
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        # sum_{lo}^{hi} with hi < lo - 1 is minus a sum (Karr): a sign needs hi - lo + 1 >= 0
        bound = _bound_index(e, dom)
        body = _signed(*bound) if bound is not None else None
        if body == ZERO:
            return ZERO
        var, lo, hi = e.limits[0]
        if body is None or not _at_least(hi - lo + 1, dom):
            return None
        nonempty = _at_least(hi - lo, dom)
        if body in (POS, NONNEG):
            return POS if body == POS and nonempty else NONNEG
        return NEG if body == NEG and nonempty else NONPOS
    return None
