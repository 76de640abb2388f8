"""The checker: f <= c on D is proved by a certificate g with c - f == g and g >= 0 on D.

    check_le(lhs, rhs, g, domain):  rhs - lhs - g == 0 exactly,  g >= 0 on the domain
    check_lt(lhs, rhs, g, domain):  rhs - lhs - g == 0 exactly,  g > 0 on the domain

The identity is checked by expand / cancel / simplify (also after rewrite(exp),
through ``proofs.equality.is_zero``); it is three-valued: proved or unknown.
The sign of g is read off its *given form* by sound structural rules only:
squares, sums and products of parts of known sign, constants, domain atoms
and affine forms of one atom on its interval (x - lo, hi - x), monotone
functions of an atom (their image interval), Piecewise branches on the part
of the domain where they apply, sums over an index of nonnegative terms.
Nothing is expanded or factored to find a sign, so a certificate that merely
restates rhs - lhs proves nothing unless that form already shows its sign.

Sums: an index ranges over its limits (not its declared assumptions); a sum has a sign only
when hi - lo + 1 >= 0 is shown; a KroneckerDelta collapses only onto a target shown to lie in
the limits (``indices={i: (lo, hi)}`` states such a range as a hypothesis). A Piecewise has a
sign only where some branch applies everywhere on the domain. ``given`` equalities are
hypotheses named in the verdict; a given symbol's domain entry must follow from its value.

Only a counterexample refutes (``refute``): a real point in the domain where the gap is
certified to 60 digits by SymPy's strict evalf (cancellation it cannot resolve is no refutation).

>>> from sympy import Interval, Rational, Symbol
>>> s = Symbol("s", real=True)
>>> check_le(s*(1 - s), Rational(1, 4), (s - Rational(1, 2))**2, {s: Interval(0, 1)}).proved
True
>>> check_le(s*(1 - s), Rational(1, 4), Rational(1, 4) - s*(1 - s), {s: Interval(0, 1)}).proved
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy import Interval, S

from proofs.equality import is_zero
from derive.symbolic.functions import Phi, expand_named, sigmoid, softplus


def _strict(value):
    """A SymPy object from a number or expression; strings are refused, never parsed."""
    return sp.sympify(value, strict=True)

__all__ = [
    "Verdict",
    "check_le",
    "check_lt",
    "check_eq",
    "sign",
    "refute",
    "all_proved",
    "PRECISION",
    "Proof",
    "holds_by_refutation",
]

PRECISION = 60  # decimal digits for refutations (the bar is 50+)

POS, NONNEG, ZERO, NONPOS, NEG = "positive", "nonnegative", "zero", "nonpositive", "negative"

# Increasing on the reals: the image of [lo, hi] is [F(lo), F(hi)].
_INCREASING = (sp.exp, sigmoid, sp.tanh, sp.erf, Phi, softplus, sp.atan, sp.sinh)
# Positive for every real argument.
_POSITIVE_FUNCS = (sp.exp, sigmoid, Phi, softplus, sp.cosh)


@dataclass(frozen=True)
class Verdict:
    """proved / not proved / refuted, with the reason; ``bool(v)`` is ``v.proved``."""

    claim: str
    status: str  # "proved", "not proved", "refuted"
    reason: str
    certificate: sp.Expr | None = None
    details: tuple = field(default_factory=tuple)
    conjunction: bool = False  # True: proved iff every verdict in ``details`` is

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    @property
    def refuted(self) -> bool:
        return self.status == "refuted"

    def __bool__(self) -> bool:
        return self.proved

    def __str__(self) -> str:
        return f"{self.status}: {self.claim} ({self.reason})"


def all_proved(claim: str, verdicts, reason: str = "every step proved") -> Verdict:
    """The conjunction: proved when every verdict is proved; else the first failing one's reason."""
    verdicts = tuple(verdicts)
    for v in verdicts:
        if not v.proved:
            return Verdict(claim, "not proved", f"step not proved: {v}", details=verdicts, conjunction=True)
    return Verdict(claim, "proved", reason, details=verdicts, conjunction=True)


def steps_of(verdict: Verdict) -> list[Verdict]:
    """The leaf steps of a (nested) conjunction."""
    if not verdict.conjunction:
        return [verdict]
    return [leaf for d in verdict.details for leaf in steps_of(d)]


# ---------------------------------------------------------------- identity


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


def _canonical_index(expr):
    """Rename the index of every Sum to a shared dummy (by nesting depth)."""

    def rename(e, depth=0):
        if isinstance(e, sp.Sum):
            # outermost limit first, as for nested one-limit sums; only what the limits say: no sign
            # assumption (SymPy's doit trusts a positive index over its limits)
            new = {var: sp.Symbol(f"_idx{depth + n}", integer=True) for n, (var, _, _) in enumerate(reversed(e.limits))}
            body = rename(e.function.xreplace(new), depth + len(e.limits))
            return sp.Sum(body, *[(new[var], lo.xreplace(new), hi.xreplace(new)) for var, lo, hi in e.limits])
        if e.args:
            return e.func(*[rename(x, depth) for x in e.args])
        return e

    return rename(expr)


def _nonneg_diff(d) -> bool:
    """d >= 0 proved: a nonnegative number, or by the declared assumptions of its symbols (n > 0)."""
    d = sp.expand(d)
    if d.is_number:
        return d.is_extended_real is True and d.is_nonnegative is True
    return d.is_nonnegative is True


def _within(target, lo, hi, ranges) -> bool:
    """lo <= target <= hi proved, target a number or an index whose range is known (``ranges``)."""
    if target.is_number:
        tlo = thi = target
    elif ranges.get(target) is not None:
        tlo, thi = ranges[target]
    else:
        return False
    return _nonneg_diff(tlo - lo) and _nonneg_diff(hi - thi)


def expand_sums(expr, indices=None):
    """Linearity of sums: split Sum over +, pull out index-free factors, collapse KroneckerDelta.

    A delta collapses only when its target is proved to lie within the limits: a number, the index
    of an enclosing Sum, or an index of ``indices`` ({index: (lo, hi)}, a stated hypothesis).
    """
    from derive.symbolic.symbols import sum_delta

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
        body = sp.expand(walk(inner, {**ranges, var: (lo, hi) if _nonneg_diff(hi - lo + 1) else None}))
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

    ranges = {_strict(k): tuple(map(_strict, v)) for k, v in (indices or {}).items()}
    return sp.expand(_canonical_index(walk(_strict(expr), ranges)))


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
    expr = _strict(expr)
    given = dict(given or {})

    def use_given(e):
        for old, new in given.items():
            e = e.xreplace({_canonical_index(expand_sums(old, indices)) if old.has(sp.Sum) else old: new})
        return e

    if expr.has(sp.Sum):
        expr = use_given(expand_sums(expr, indices))
    for case in _kronecker_cases(expr):
        form = use_given(case)
        if _cheap_zero(form):
            continue
        if is_zero(form) is True:
            continue
        return None
    return True


# ---------------------------------------------------------------- sign


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
    if e.is_extended_real is not True or e.is_finite is not True:  # oo * 0 is undefined: no sign for oo
        return None
    if e.is_positive:
        return POS
    if e.is_negative:
        return NEG
    return None


def _lookup(e, dom):
    """The interval of an atom: a key of the domain, or a[...] for a key that is an IndexedBase."""
    if e in dom:
        return dom[e]
    if isinstance(e, sp.Indexed) and e.base in dom:
        return dom[e.base]
    return None


# F(-oo), F(oo) of the increasing functions: their ranges' ends (certified for the catalogue's in theorem 2)
_ENDS = {
    sp.exp: (S.Zero, S.Infinity), sigmoid: (S.Zero, S.One), sp.tanh: (-S.One, S.One), sp.erf: (-S.One, S.One),
    Phi: (S.Zero, S.One), softplus: (S.Zero, S.Infinity), sp.atan: (-sp.pi / 2, sp.pi / 2),
    sp.sinh: (S.NegativeInfinity, S.Infinity),
}


def _image(f, iv: Interval) -> Interval:
    """[F(lo), F(hi)] for increasing F (its limits at infinite ends); openness kept."""
    lo = _ENDS[f][0] if iv.start is S.NegativeInfinity else f(iv.start)
    hi = _ENDS[f][1] if iv.end is S.Infinity else f(iv.end)
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
    found = _lookup(e, dom)
    if found is not None:
        return found
    if isinstance(e, sp.KroneckerDelta):
        return Interval(0, 1)
    if isinstance(e, _INCREASING) and len(e.args) == 1:
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
            coef.is_finite and const.is_finite and coef.is_extended_real and const.is_extended_real and coef != 0
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
            if not term.is_extended_real or not term.is_finite:
                return None
            lo, hi = lo + term, hi + term
            continue
        coef = sp.Mul(*[f for f in sp.Mul.make_args(term) if f.is_number])
        atom = sp.Mul(*[f for f in sp.Mul.make_args(term) if not f.is_number])
        if not coef.is_extended_real or not coef.is_finite or atom.is_Add:
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
        return e.is_extended_real is True
    if leaf_interval(e, dom) is not None:
        return True
    if isinstance(e, (sp.Add, sp.Mul)):
        return all(_is_real(t, dom) for t in e.args)
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_integer is True and _is_real(base, dom):
            # b^-k needs b != 0 (1/x at 0 is not a real number)
            return ex.is_nonnegative is True or sign(base, dom) in (POS, NEG)
        return sign(base, dom) == POS and ex.is_extended_real is True and ex.is_finite is True
    if isinstance(e, (sp.exp, sigmoid, sp.tanh, sp.erf, Phi, softplus, sp.cosh, sp.sinh, sp.Abs, sp.atan)):
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


def _piecewise_sign(e, dom):
    """Each branch's sign on the part of the domain where that branch applies."""
    atoms = set()
    for _, cond in e.args:
        for rel in cond.atoms(sp.core.relational.Relational):
            found = _atoms_of(rel)
            if any(_lookup(x, dom) is None for x in found):
                return None
            atoms |= found
    if len(atoms) != 1:
        return None
    (v,) = atoms
    iv = _lookup(v, dom)
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
                               else sign(expr.subs(v, p), dom) for p in piece]
                signs.extend(piece_signs)
                continue
            if not isinstance(piece, Interval):
                return None
            signs.append(sign(expr, {**dom, v: piece}))
        remaining = remaining - part
        if remaining == S.EmptySet:
            break
    if remaining != S.EmptySet:  # no branch applies somewhere: undefined (nan) there, no sign
        return None
    if not signs:
        return None
    if all(s in (POS,) for s in signs):
        return POS
    if all(s in (POS, NONNEG, ZERO) for s in signs):
        return NONNEG
    if all(s == NEG for s in signs):
        return NEG
    if all(s in (NEG, NONPOS, ZERO) for s in signs):
        return NONPOS
    return None


def _at_least(d, dom) -> bool:
    """d >= 0: by its sign on the domain, or by the declared assumptions of its free symbols (n > 0)."""
    return sign(d, dom) in (POS, NONNEG, ZERO) or _nonneg_diff(d)


def _atoms_of(e):
    return e.atoms(sp.Symbol, sp.Indexed) - {s for ind in e.atoms(sp.Indexed) for s in ind.free_symbols if s != ind}


def sign(e, dom) -> str | None:
    """The sign of ``e`` on the domain by structural rules only, or None (unknown)."""
    try:
        return _sign(_strict(e), dom)
    except (TypeError, ValueError, ArithmeticError, sp.SympifyError):  # e.g. oo * [0, 1]: unknown
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
        signs = [sign(t, dom) for t in rest]
        if affine:
            iv = _affine_sum(sp.Add(*affine, evaluate=False), dom) if len(affine) > 1 else leaf_interval(affine[0], dom)
            signs.append(_interval_sign(iv) if iv is not None else sign(affine[0], dom) if len(affine) == 1 else None)
        return _add_signs(signs)
    if isinstance(e, sp.Mul):
        return _mul_signs([sign(t, dom) for t in e.args])
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_integer and ex.is_even:
            sb = sign(base, dom)
            if sb in (POS, NEG):
                return POS
            if ex.is_negative:  # 1/b^2 needs b != 0
                return None
            return NONNEG if _is_real(base, dom) else None
        sb = sign(base, dom)
        if ex.is_integer and ex.is_odd:
            if ex.is_negative and sb not in (POS, NEG):
                return None
            return sb
        if ex.is_extended_real and sb == POS:
            return POS
        if ex.is_extended_real and ex.is_positive and sb in (NONNEG, ZERO):
            return NONNEG
        return None
    if isinstance(e, _POSITIVE_FUNCS) and _is_real(e.args[0], dom):
        return POS
    if isinstance(e, (sp.tanh, sp.erf, sp.atan, sp.sinh)):
        return sign(e.args[0], dom)
    if isinstance(e, sp.Abs):
        return POS if sign(e.args[0], dom) in (POS, NEG) else (NONNEG if _is_real(e.args[0], dom) else None)
    if isinstance(e, sp.log):
        sm = sign(e.args[0] - 1, dom)
        if sm in (POS, ZERO, NONNEG):
            return sm
        if sm in (NEG, NONPOS) and sign(e.args[0], dom) == POS:
            return sm
        return None
    if isinstance(e, sp.Piecewise):
        return _piecewise_sign(e, dom)
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        # sum_{lo}^{hi} with hi < lo - 1 is minus a sum (Karr): a sign needs hi - lo + 1 >= 0
        bound = _bound_index(e, dom)
        body = sign(*bound) if bound is not None else None
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


# ---------------------------------------------------------------- the checker


def _domain(domain):
    dom = {}
    for key, iv in (domain or {}).items():
        iv = _strict(iv)
        if not isinstance(iv, sp.Set) or not iv.is_subset(S.Reals):
            raise ValueError(f"the domain of {key} must be a real SymPy Interval, got {iv!r}")
        dom[_strict(key) if not isinstance(key, sp.IndexedBase) else key] = iv
    return dom


def _given_against_domain(key, value, dom):
    """A symbol with both a given value and a domain entry: its interval must follow from the value
    (else the interval is an unchecked hypothesis). None when consistent; else the reason."""
    iv = _lookup(key, dom)
    if iv is None:
        # a symbol outside the domain is signed by its declared assumptions: they must follow too
        declared = (POS if key.is_positive else NONNEG if key.is_nonnegative else NEG if key.is_negative
                    else NONPOS if key.is_nonpositive else None) if key.is_Symbol else None
        ok = {POS: (POS,), NONNEG: (POS, NONNEG, ZERO), NEG: (NEG,), NONPOS: (NEG, NONPOS, ZERO), None: None}[declared]
        if ok is not None and sign(value, dom) not in ok:
            return f"{sp.sstr(key)} = {sp.sstr(value)} is not shown to be {declared}, as {sp.sstr(key)} is declared"
        return None
    base = key.base if isinstance(key, sp.Indexed) and key not in dom else key
    rest = {k: v for k, v in dom.items() if k != base}
    if value.has(key) or not isinstance(iv, Interval):
        return f"{sp.sstr(key)} has a given value and a domain: its interval is not shown to follow"
    ends = []
    if not iv.start.is_infinite:
        ends.append((value - iv.start, iv.left_open))
    if not iv.end.is_infinite:
        ends.append((iv.end - value, iv.right_open))
    for gap, strict in ends:
        sg = sign(gap, rest)
        if sg not in ((POS,) if strict else (POS, NONNEG, ZERO)):
            return (f"{sp.sstr(key)} = {sp.sstr(value)} is not shown to lie in its domain {iv} "
                    f"(sign of {sp.sstr(gap)}: {sg or 'unknown'})")
    return None


def _check(lhs, rhs, certificate, domain, strict: bool, given=None, claim=None, indices=None) -> Verdict:
    lhs, rhs, g = _strict(lhs), _strict(rhs), _strict(certificate)
    rel = "<" if strict else "<="
    claim = claim or f"{sp.sstr(lhs)} {rel} {sp.sstr(rhs)}"
    try:
        dom = _domain(domain)
    except ValueError as exc:
        return Verdict(claim, "not proved", str(exc), g)
    for key, value in (given or {}).items():
        why = _given_against_domain(_strict(key), _strict(value), dom)
        if why is not None:
            return Verdict(claim, "not proved", why, g)
    if identity_holds(rhs - lhs - g, given, indices) is not True:
        return Verdict(claim, "not proved", f"identity rhs - lhs == g not proved (difference {sp.sstr(rhs - lhs - g)})", g)
    sg = sign(g, dom)
    wanted = (POS,) if strict else (POS, NONNEG, ZERO)
    if sg not in wanted:
        what = "positive" if strict else "nonnegative"
        return Verdict(claim, "not proved", f"certificate not structurally {what} on the domain (sign: {sg or 'unknown'})", g)
    facts = [f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in (given or {}).items()]
    facts += [f"{sp.sstr(k)} in [{sp.sstr(lo)}, {sp.sstr(hi)}]" for k, (lo, hi) in (indices or {}).items()]
    hyp = f" given {', '.join(facts)}" if facts else ""
    return Verdict(claim, "proved", f"rhs - lhs == g{hyp}; g is {sg}", g)


def check_le(lhs, rhs, certificate, domain, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs <= rhs on the domain: rhs - lhs == g exactly and g >= 0 structurally.

    ``given`` ({expr: value}) and ``indices`` ({i: (lo, hi)}: lo <= i <= hi) are hypotheses, named in the verdict.
    """
    return _check(lhs, rhs, certificate, domain, False, given, claim, indices)


def check_lt(lhs, rhs, certificate, domain, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs < rhs on the domain: rhs - lhs == g exactly and g > 0 structurally."""
    return _check(lhs, rhs, certificate, domain, True, given, claim, indices)


def check_eq(lhs, rhs, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs == rhs identically (three-valued: proved or not proved, never refuted here)."""
    lhs, rhs = _strict(lhs), _strict(rhs)
    claim = claim or f"{sp.sstr(lhs)} = {sp.sstr(rhs)}"
    if identity_holds(lhs - rhs, given, indices) is True:
        hyp = ", ".join([f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in (given or {}).items()]
                        + [f"{sp.sstr(k)} in [{sp.sstr(lo)}, {sp.sstr(hi)}]" for k, (lo, hi) in (indices or {}).items()])
        return Verdict(claim, "proved", "difference simplifies to 0" + (f" given {hyp}" if hyp else ""))
    return Verdict(claim, "not proved", "difference not shown to be 0 (unknown, not false)")


# ---------------------------------------------------------------- refutation


def high_precision(expr, point=None, digits: int = PRECISION):
    """The value of ``expr`` at ``point`` with mpmath at ``digits`` digits (named functions expanded)."""
    expr = expand_named(_strict(expr)).subs(point or {})
    free = expr.free_symbols
    if free:
        raise ValueError(f"the point leaves {sorted(map(str, free))} free")
    with mpmath.workdps(digits + 10):
        value = sp.lambdify((), expr, modules="mpmath")()
        return mpmath.mpf(value) if not isinstance(value, mpmath.mpc) else value


def certified_value(expr, digits: int = PRECISION):
    """expr (a number) to ``digits`` correct digits by SymPy's evalf with error tracking
    (strict: cancellation it cannot resolve raises instead of returning noise); None when not certified."""
    expr = expand_named(_strict(expr))
    if expr.free_symbols:
        return None
    try:
        value = sp.N(expr, digits, strict=True, maxn=20 * digits)
    except (sp.core.evalf.PrecisionExhausted, ValueError, TypeError, ZeroDivisionError):
        return None
    if value.is_zero and not (expr == 0 or is_zero(expr) is True):
        return None  # "0" from evalf is not a certified zero
    if value.is_extended_real is not True or value.is_finite is not True:
        return None
    return value


def _point_outside(point, domain):
    """Why ``point`` is not an admissible point (a non-real value, or one outside its domain), or None."""
    for var, val in point.items():
        val = _strict(val)
        if not (val.is_number and val.is_extended_real is True and val.is_finite is True):
            return f"{sp.sstr(var)} = {sp.sstr(val)} is not a real number"
        iv = (domain or {}).get(var)
        if iv is None and isinstance(var, sp.Indexed):
            iv = (domain or {}).get(var.base)
        if iv is not None and _strict(iv).contains(val) is not sp.true:
            return f"{sp.sstr(var)} = {sp.sstr(val)} is not shown to lie in {iv}"
    return None


def refute(lhs, rhs, point, relation: str = "==", claim=None, digits: int = PRECISION, domain=None) -> Verdict:
    """Refuted when lhs `relation` rhs fails at ``point``: the gap lhs - rhs, certified to ``digits``
    digits (SymPy evalf, strict), excludes the relation by more than 10^-(digits - 10).

    ``point`` must be real and, where ``domain`` ({symbol: Interval}) names its symbol, inside it.
    """
    lhs, rhs = _strict(lhs), _strict(rhs)
    claim = claim or f"{sp.sstr(lhs)} {relation} {sp.sstr(rhs)}"
    point = dict(point)
    where = ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in point.items())
    outside = _point_outside(point, domain)
    if outside is not None:
        return Verdict(claim, "not proved", f"not a counterexample: {outside}", details=(point, None, None))
    with mpmath.workdps(digits + 10):
        lv, rv = high_precision(lhs, point, digits), high_precision(rhs, point, digits)
        shown = f"lhs = {mpmath.nstr(lv, 20)}, rhs = {mpmath.nstr(rv, 20)} at {where} ({digits} digits)"
    diff = (lhs - rhs).subs(point)
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


@dataclass(frozen=True)
class Proof:
    """A theorem's statement (LaTeX), its certificate (LaTeX / words) and the checker's verdict."""

    statement: str
    certificate: str
    verdict: Verdict
    notes: tuple[str, ...] = ()


def holds_by_refutation(claim: str, verdict: Verdict) -> Verdict:
    """'not P' is proved when P is refuted by a counterexample."""
    if verdict.refuted:
        return Verdict(claim, "proved", f"the opposite is refuted: {verdict.reason}", details=(verdict,))
    return Verdict(claim, "not proved", f"no counterexample: {verdict.reason}", details=(verdict,))
