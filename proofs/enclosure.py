"""Certified enclosures by interval arithmetic (``mpmath.iv``, outward rounding).

    erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)),  |x| <= 1:
    an alternating series with decreasing terms, so the tail is at most the next term.

A root is bracketed when an interval evaluation at each end has a certain
sign; a value is enclosed by evaluating over an interval that holds its
argument. ``mpmath.iv.erf`` does not converge on intervals, hence ``iv_erf``.
The functions evaluated are never retyped: ``interval_function`` compiles a
SymPy expression (derive's, named functions expanded) to interval arithmetic.

>>> lo, hi = bracket_root(lambda t: t * t - 2, 1.4142135623730951)
>>> lo < hi
True
"""

from __future__ import annotations

from types import SimpleNamespace

import mpmath
import sympy as sp
from mpmath import iv
from sympy.printing.pycode import MpmathPrinter

from derive.symbolic.functions import expand_named

__all__ = ["DIGITS", "iv_erf", "interval_function", "bracket_root", "enclose", "Enclosure"]

DIGITS = 60
_TERMS = 80


def iv_erf(x):
    """An interval holding erf(t) for every t in x (requires |x| <= 1)."""
    x = iv.mpf(x)
    if not (x.a >= -1 and x.b <= 1):
        raise ValueError(f"iv_erf series needs |x| <= 1, got {x}")
    total = iv.mpf(0)
    term = x  # x^(2n+1)/n!
    for n in range(_TERMS):
        total += (-1) ** n * term / (2 * n + 1)
        term = term * x * x / (n + 1)
    tail = abs(term / (2 * _TERMS + 1)).b
    total += iv.mpf([-tail, tail])
    return 2 / iv.sqrt(iv.pi) * total


# What lambdify's mpmath printer writes (mpmath.exp, mpmath.mpf(1)/mpmath.mpf(3), ...), bound to
# interval arithmetic: rationals become interval quotients (1/3 enclosed, not rounded); any other
# function is an AttributeError, never a silent point evaluation.
_IV_MPMATH = SimpleNamespace(exp=iv.exp, erf=iv_erf, sqrt=iv.sqrt, log=iv.log, pi=iv.pi, e=iv.e, mpf=iv.mpf)


def interval_function(expr, var):
    """t -> an interval holding expr(var = every point of t), compiled from ``expr`` itself
    (named functions expanded, hyperbolics rewritten in exp): an unknown function fails loudly."""
    body = expand_named(sp.sympify(expr)).rewrite(sp.exp)
    return sp.lambdify(var, body, modules=[{"mpmath": _IV_MPMATH}], printer=MpmathPrinter)


class Enclosure:
    """lo <= value <= hi, certified; printed with ``digits`` digits."""

    def __init__(self, lo, hi):
        with mpmath.workprec(4 * DIGITS + 64):  # exact copies of the interval's binary endpoints
            self.lo, self.hi = mpmath.mpf(lo), mpmath.mpf(hi)
        if not self.lo <= self.hi:
            raise ValueError(f"empty enclosure [{lo}, {hi}]")

    def __contains__(self, v) -> bool:
        with mpmath.workprec(4 * DIGITS + 64):
            return self.lo <= mpmath.mpf(v) <= self.hi

    @property
    def width(self):
        return self.hi - self.lo

    def _ends(self, digits):
        # outward: the printed lower end is <= lo, the printed upper end >= hi
        with mpmath.workprec(4 * DIGITS + 64):
            scale = mpmath.mpf(10) ** (digits - 1 - int(mpmath.floor(mpmath.log10(max(abs(self.lo), abs(self.hi), 1e-300)))))
            lo = mpmath.floor(self.lo * scale) / scale
            hi = mpmath.ceil(self.hi * scale) / scale
            return mpmath.nstr(lo, digits + 2), mpmath.nstr(hi, digits + 2)

    def show(self, digits: int = 20) -> str:
        lo, hi = self._ends(digits)
        return f"[{lo}, {hi}]"

    def latex(self, digits: int = 20) -> str:
        lo, hi = self._ends(digits)
        return rf"\left[{lo},\ {hi}\right]"


def bracket_root(f_iv, guess, eps=mpmath.mpf(10) ** -40):
    """(lo, hi) with f certainly of opposite, nonzero signs at lo and hi: a root lies between.

    ``f_iv`` takes an interval and returns an interval; ``guess`` is a float
    estimate refined here by mpmath's findroot at high precision.
    """
    iv.dps = DIGITS
    with mpmath.workdps(DIGITS):
        root = mpmath.findroot(lambda t: mpmath.mpf(f_iv(iv.mpf(t)).mid), mpmath.mpf(guess))
        lo, hi = root - eps, root + eps
    flo, fhi = f_iv(iv.mpf(lo)), f_iv(iv.mpf(hi))
    if not ((flo.b < 0 < fhi.a) or (fhi.b < 0 < flo.a)):
        raise ArithmeticError(f"no certified sign change of f on [{lo}, {hi}]: {flo}, {fhi}")
    return lo, hi


def enclose(f_iv, lo, hi) -> Enclosure:
    """An enclosure of f over [lo, hi] (interval evaluation, outward rounded)."""
    iv.dps = DIGITS
    val = f_iv(iv.mpf([lo, hi]))
    return Enclosure(val.a, val.b)
