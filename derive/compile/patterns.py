"""What some rewrite rules match, and what they build from a match: predicates and values too long for a line.

    is_gauss(e):              e = exp(-x**2/2)
    is_huber_gradient(e):     e = Piecewise((r, |r| <= 1), (sign(r), True))
    is_huber_loss(e):         e = Piecewise((r**2/2, |r| <= 1), (|r| - 1/2, True))
    is_softmax_bce_delta(e):  e = a sum(y) - y + w - a sum(w), w = (1 - y) a/(1 - a), a = softmax(z)
    clamp_of(e, run):         Piecewise((lo, x <= a), (hi, x >= b), (line, True)) -> Clip(line, lo, hi) when exact
    signs_out(expr):          numbers out of row sums and symmetric clips (the printer's form)

The rules themselves, each with its identity and phase, are in ``derive.compile.rewrite``.

>>> from sympy import Symbol, exp
>>> t = Symbol("t", real=True)
>>> is_gauss(exp(-t**2 / 2)), is_gauss(exp(-t))
(True, False)
>>> gauss_clipped_value(exp(-t**2 / 2))
exp(-Clip(t, -gauss_clip, gauss_clip)**2/2)
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Abs, Add, Piecewise, S, exp, sign

from derive.compile.nodes import BOUNDS, Clip, Over, RowSum, softmax

__all__ = ["GAUSS_CLIP", "is_gauss", "gauss_clipped_value", "is_huber_gradient", "is_huber_loss", "huber_loss_value",
           "is_softmax_bce_delta", "clamp_of", "signs_out"]

# e^{-x^2/2} is 0 in floating point past |x| = gauss_clip (40 in float64, 152 in long double): clip x there.
GAUSS_CLIP = BOUNDS["gauss_clip"]


def is_gauss(e):
    """exp(-x**2/2)."""
    if not isinstance(e, exp):
        return False
    x2 = -2 * e.args[0]
    return x2.is_Pow and x2.exp == 2


def gauss_clipped_value(e):
    x = (-2 * e.args[0]).base
    return exp(-Clip(x, -GAUSS_CLIP, GAUSS_CLIP) ** 2 / 2)


def is_huber_gradient(e):
    """Piecewise((r, |r| <= 1), (sign(r), True))."""
    if not (isinstance(e, Piecewise) and len(e.args) == 2 and e.args[1].cond == True):  # noqa: E712
        return False
    (r, c), (other, _) = e.args
    return c == (Abs(r) <= 1) and sp.expand(other - sign(r)) == 0 or c == (Abs(r) <= 1) and other == -sign(-r)


def is_huber_loss(e):
    """Piecewise((r**2/2, |r| <= 1), (|r| - 1/2, True))."""
    if not (isinstance(e, Piecewise) and len(e.args) == 2 and e.args[1].cond == True):  # noqa: E712
        return False
    (sq, c), (other, _) = e.args
    if not (isinstance(c, sp.LessThan) and isinstance(c.lhs, Abs) and c.rhs == 1):
        return False
    r = c.lhs.args[0]
    return sp.expand(sq - r**2 / 2) == 0 and other == Abs(r) - S.Half


def huber_loss_value(e):
    """c (r - c/2), c = clip(r, -1, 1), for a match of ``is_huber_loss``."""
    r = e.args[0].cond.lhs.args[0]
    c = Clip(r, -1, 1)
    return c * Add(r, -c / 2, evaluate=False)  # unflattened: cse shares r with clip(r)


def _rowwise(expr, size, zv, av, yv):
    """``expr`` for unit 0 of an explicit row of ``size`` units: RowSum -> a sum over the row."""
    def at(e, k):
        return e.xreplace({softmax(zv): av[k], yv: ys[k]})
    ys = sp.symbols(f"y0:{size}", real=True)
    expr = expr.replace(lambda e: isinstance(e, RowSum), lambda e: Add(*[at(e.args[0], k) for k in range(size)]))
    return at(expr, 0)


def is_softmax_bce_delta(e):
    """e is, as a rational identity on an explicit row of 3 units, a*sum(y) - y + w - a*sum(w), w = (1 - y) a/(1 - a)."""
    if not (e.is_Mul or e.is_Add) or not e.has(RowSum) or not e.has(softmax):
        return False
    (zv,) = {f.args[0] for f in e.atoms(softmax)}
    yv = sp.Symbol("y", real=True)
    A = softmax(zv)
    w = (1 - yv) * A / (1 - A)
    template = A * RowSum(yv) - yv + w - A * RowSum(w)
    av = sp.symbols("a0:3", positive=True)
    return sp.cancel(_rowwise(e, 3, zv, av, yv) - _rowwise(template, 3, zv, av, yv)) == 0


_SIDES = {sp.LessThan: 0, sp.StrictLessThan: 0, sp.GreaterThan: 1, sp.StrictGreaterThan: 1}


def clamp_of(e, run):
    """Piecewise((lo, x <= a), (hi, x >= b), (f, True)) -> Clip(f, lo, hi) for f increasing and linear in x, when
    f as printed (``run(f, x, points, dtype)``: the printer's calls) is lo at a and hi at b in float32, float64 and
    long double:
    rounding is monotone, so the clip changes no value of f (hard_sigmoid: one pass for two masks and selects).
    Where f's float constants miss an end (p = 1/k in long double), f is evaluated as Over(x + k q, k) if that hits both."""
    if not isinstance(e, Piecewise) or len(e.args) != 3:
        return None
    ends, (f, _) = {}, e.args[2]
    for c, rel in e.args[:2]:
        if type(rel) not in _SIDES or not (rel.rhs.is_number and c.is_number):
            return None
        ends[_SIDES[type(rel)]] = (rel.lhs, rel.rhs, c)
    if len(ends) != 2 or ends[0][0] != ends[1][0] or not ends[0][2] < ends[1][2]:
        return None
    x, (_, a, lo), (_, b, hi) = ends[0][0], ends[0], ends[1]
    if not (x.is_Symbol and f.free_symbols == {x} and sp.diff(f, x).is_number and sp.diff(f, x) > 0
            and sp.diff(f, x, 2) == 0):
        return None
    k = 1 / sp.diff(f, x)  # f as printed, else (x + k q)/k: 1/6 as a float is inexact in long double, 6 is not
    for line in (f, Over(x + k * f.subs(x, 0), k)) if k.is_Integer else (f,):
        hits = [run(line, x, np.array([float(a), float(b)], dt), dt).tolist() == [dt(float(lo)), dt(float(hi))]
                for dt in (np.float32, np.float64, np.longdouble)]
        if all(hits):
            return Clip(line, lo, hi)
    return None


def signs_out(expr):
    """Numbers out where they cost a row or nothing, not a pass: RowSum(c*f) -> c*RowSum(f); Clip(-x, -c, c) ->
    -Clip(x, -c, c) (huber's c (r - c/2) of r = y - a: two negations fewer, the same values bit for bit)."""
    def pull(e):
        coeff, rest = e.args[0].as_coeff_Mul()
        return coeff * RowSum(rest) if coeff != 1 else e
    odd = lambda e: isinstance(e, Clip) and e.args[1] == -e.args[2] and e.args[2].is_nonnegative and e.args[0].could_extract_minus_sign()  # noqa: E731,E501
    return expr.replace(odd, lambda e: -Clip(-e.args[0], *e.args[1:])).replace(lambda e: isinstance(e, RowSum), pull)
