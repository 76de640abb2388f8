"""expr == 0 proved by cases: Abs, sign, Min, Max and every Piecewise split on each variable in turn.

    zero_by_cases(expr, [z, r])   True: proved on every piece of the plane; False: not proved

Each piece's leaf is decided by the three-valued ``proofs.equality.is_zero``, or, for a sum of
logarithms, by exponentiating (``zero_by_exp``): D real and e^D == 1 give D == 0, exp being
injective on the reals (log cosh u == |u| + log(1 + e^{-2|u|}) - log 2 is e^{|u|}(1 + e^{-2|u|})/2
== cosh u, which SymPy proves where it does not reduce the logarithms).
"""

from __future__ import annotations

import sympy as sp

from proofs.equality import cases, is_zero

__all__ = ["zero_by_cases", "zero_by_exp", "zero_in_exponentials", "piecewise_atoms"]


def piecewise_atoms(expr):
    """Abs, sign, Min, Max as Piecewise: each condition then is one the split can decide."""
    rules = {
        sp.Abs: lambda u: sp.Piecewise((u, u >= 0), (-u, True)),
        sp.sign: lambda u: sp.Piecewise((1, u > 0), (-1, u < 0), (0, True)),
        sp.Min: lambda p, q: sp.Piecewise((p, p <= q), (q, True)),
        sp.Max: lambda p, q: sp.Piecewise((p, p >= q), (q, True)),
    }
    return expr.replace(lambda e: type(e) in rules and len(e.args) <= 2, lambda e: rules[type(e)](*e.args))


def _decide(expr, v):
    """[expr decided on each piece of the line] (``proofs.equality.cases``), v set on a point piece."""
    split = cases(expr, v)
    if split is None:
        return None
    return [expr.xreplace(truth).subs(v, next(iter(piece))) if isinstance(piece, sp.FiniteSet)
            else expr.xreplace(truth) for piece, truth in split]


def _tidy_conditions(expr, variables):
    """A condition in several variables rewritten as one in the last of them where its side is +-that
    variable plus a constant (the residual r: sigma(z) - (sigma(z) - r) - 1 > 0 is r - 1 > 0)."""
    r = variables[-1]

    def tidy(rel):
        side = rel.lhs - rel.rhs
        for sgn in (1, -1):
            rest = sp.cancel(side - sgn * r)  # a constant, when the other variables cancel (over one denominator)
            if r in sp.expand(rest).free_symbols:
                continue
            k = rest.subs({v: 0 for v in variables})
            if k.is_number and k.is_finite and is_zero(rest - k) is True:
                return rel.func(sgn * r + k, 0)
        return rel

    rels = {x for pw in expr.atoms(sp.Piecewise) for _, c in pw.args for x in c.atoms(sp.core.relational.Relational)
            if len(x.free_symbols & set(variables)) > 1}
    return expr.xreplace({x: tidy(x) for x in rels}) if rels else expr


def zero_by_exp(expr) -> bool:
    """D == 0 from e^D == 1 (exp is injective on the reals), D real: every logarithm's argument proved
    positive and D itself real by SymPy's facts. A complex D (e^{2 pi i} == 1) is never admitted."""
    logs = expr.atoms(sp.log)
    if not logs or expr.has(sp.Piecewise) or not all(g.args[0].is_positive for g in logs) or expr.is_real is not True:
        return False
    return is_zero(sp.exp(_cancelled(expr)) - 1) is True  # exp pulls each log out: e^{u + log v} -> v e^u


def _cancelled(expr):
    """Each exponent, and the terms outside the logarithms, over one denominator (sigma + sigma(-z) e^{-z} -> 1)."""
    expr = expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.cancel(e.args[0])))
    terms = sp.Add.make_args(expr)
    return sp.cancel(sp.Add(*[t for t in terms if not t.has(sp.log)])) + sp.Add(*[t for t in terms if t.has(sp.log)])


def zero_in_exponentials(expr) -> bool:
    """expr == 0 as a rational function of v and t = e^{v/L}: each e^{c v + d} (c rational, L the lcm of
    the c's denominators) written t^{cL} e^d. Zero for independent t and v is zero at t = e^{v/L} too;
    cancel decides it where simplify would factor for tens of seconds (mish's tanh(softplus(z)); the
    hyperbolic functions are first written in exp, e^{k log u} = u^k)."""
    expr = expr.rewrite(sp.tanh, sp.exp).rewrite(sp.sinh, sp.exp).rewrite(sp.cosh, sp.exp)
    exps = expr.atoms(sp.exp)
    if not exps:
        return False
    return any(_rational_in(expr, exps, v) for v in sorted(expr.free_symbols, key=sp.default_sort_key))


def _rational_in(expr, exps, v) -> bool:
    slopes = [sp.expand(e.args[0]).coeff(v) for e in exps]
    if not all(c.is_Rational for c in slopes) or any(sp.expand(e.args[0] - c * v).has(v) for e, c in zip(exps, slopes)):
        return False
    big = sp.ilcm(1, *[c.q for c in slopes])
    t = sp.Dummy("t", positive=True)
    return sp.cancel(expr.xreplace({e: t ** (c * big) * sp.exp(sp.expand(e.args[0] - c * v)) for e, c in zip(exps, slopes)})) == 0


def _leaf(expr) -> bool:
    return zero_in_exponentials(expr) or is_zero(expr) is True or zero_by_exp(expr)


def _branch_choice(expr):
    """A Piecewise whose condition is transcendental (softplus(z) > 1/2: which of two forms of tanh to evaluate):
    solveset may not finish on it, and where every branch equals the rest of expr on the whole line the
    condition does not matter."""
    return next((pw for pw in expr.atoms(sp.Piecewise) if any(
        c.has(sp.exp, sp.log) and len(c.free_symbols) == 1 for _, c in pw.args)), None)


def zero_by_cases(expr, variables, depth=0) -> bool:
    """expr == 0 proved, splitting into cases on each variable in turn; a Piecewise with a transcendental
    condition first by proving each branch in its place everywhere (then the condition never matters)."""
    if (pw := _branch_choice(expr)) is not None and all(
            zero_by_cases(expr.xreplace({pw: b.expr}), variables, depth) for b in pw.args):
        return True
    expr = sp.piecewise_fold(piecewise_atoms(expr))
    if not expr.has(sp.Piecewise) or depth > 2 * len(variables):
        return _leaf(expr)
    expr = _tidy_conditions(expr, variables)
    for v in variables:
        split = _decide(expr, v)
        if split is not None:
            return all(zero_by_cases(e, variables, depth + 1) for e in split)
    return _leaf(expr)
