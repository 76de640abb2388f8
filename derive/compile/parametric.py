"""Stability rules for call-time parameters (elu's alpha, huber's delta as symbols): what the rules of
``derive.compile.rewrite`` do for the fixed values, for every value in the parameter's domain.

``derive.compile.expressions`` runs these before the rules of the same phase in ``rewrite``.

>>> from sympy import Symbol, Abs, Piecewise, sign
>>> r, t = Symbol("r", real=True), Symbol("t", positive=True)
>>> threshold_clip(Piecewise((r, Abs(r) <= t), (t * sign(r), True)))
Clip(r, -t, t)
"""

from __future__ import annotations

import sympy as sp
from sympy import Abs, Add, Piecewise, S, exp, sign
from sympy.codegen.cfunctions import expm1

from derive.compile.nodes import Clip
from derive.compile.rule import Rule
from derive.symbolic.functions import NamedFunction

__all__ = ["RULES", "parametric_residual", "threshold_clip", "threshold_loss", "scaled_expm1_plus"]


def _residual(e):
    """e = +-f(x, p) + w, f a named function with parameters p and a ``residual`` form: (sign, f(x, p), w)."""
    if not (e.is_Add and len(e.args) == 2):
        return None
    for t in e.args:
        for sgn in (S.One, S.NegativeOne):
            f = sgn * t
            if isinstance(f, NamedFunction) and len(f.args) > 1 and hasattr(f, "residual") and not (e - t).is_number:
                return sgn, f, e - t
    return None


def _residual_value(e):
    sgn, f, w = _residual(e)
    return sgn * type(f).residual(f.args[0], -sgn * w, *f.args[1:])  # sgn (f - y), y = -sgn w


# f(x, p) - y -> f's residual form (elu: alpha e^x - (alpha + y) for x < -1/2)   (elu(-50, 2) + 2 rounds to 0; the
#   value is 3.9e-22); before rewrite's rule for f(x), which knows p's default only
parametric_residual = Rule("residuals", lambda e: _residual(e) is not None, _residual_value)


def _threshold(e):
    """Piecewise((u, |r| <= t), (v, True)) with t a positive non-number (huber's delta): (r, t, u, v), else None."""
    if not (isinstance(e, Piecewise) and len(e.args) == 2 and e.args[1].cond == True):  # noqa: E712
        return None
    (u, c), (v, _) = e.args
    if not isinstance(c, (sp.LessThan, sp.GreaterThan)):
        return None
    small, big = (c.lhs, c.rhs) if isinstance(c, sp.LessThan) else (c.rhs, c.lhs)  # SymPy writes t >= |r|
    if isinstance(small, Abs) and not big.is_number and big.is_positive:
        r = small.args[0]
        return (-r if sp.expand(u + r) == 0 else r), big, u, v  # |r| = |-r|: r as the first branch has it
    return None


def _clip_factor(e):
    """k for e = Piecewise((k r, |r| <= t), (k t sign(r), True)) = k clip(r, -t, t) (k = 1 for huber's
    gradient; softmax's chain rule multiplies it by a), else None."""
    m = _threshold(e)
    if m is None:
        return None
    r, t, u, v = m
    for s in (r, -r):
        k = sp.cancel(u / s)
        if not k.has(s) and sp.expand(v - k * t * sign(s)) == 0:
            return k, s
    return None


def _clip_value(e):
    (k, r), t = _clip_factor(e), _threshold(e)[1]
    return k * Clip(r, -t, t)


def _is_clip_loss(e):
    m = _threshold(e)
    return m is not None and sp.expand(m[2] - m[0] ** 2 / 2) == 0 and sp.expand(m[3] - m[1] * (Abs(m[0]) - m[1] / 2)) == 0


def _clip_loss_value(e):
    r, t, _, _ = _threshold(e)
    c = Clip(r, -t, t)
    return c * Add(r, -c / 2, evaluate=False)  # unflattened: cse shares r with clip(r)


# Piecewise((k r, |r| <= t), (k t sign(r), True)) -> k clip(r, -t, t)   (no value from an untaken branch)
threshold_clip = Rule("structure", lambda e: _clip_factor(e) is not None, _clip_value)
# Piecewise((r**2/2, |r| <= t), (t (|r| - t/2), True)) -> c (r - c/2), c = clip(r, -t, t)   (r**2 overflows at r = 1e200)
threshold_loss = Rule("structure", _is_clip_loss, _clip_loss_value)


def _scaled(e):
    """(c, x): terms c expm1(x) and c of a sum, c not a number (alpha), else None."""
    if not e.is_Add:
        return None
    for t in e.args:
        if t.is_Mul:
            found = [f for f in t.args if isinstance(f, expm1)]
            if len(found) == 1:
                c = t / found[0]
                if not c.is_number and c in e.args:
                    return c, found[0].args[0]
    return None


# c expm1(x) + c -> c exp(x)   (elu' through its output, a + alpha: expm1(-50) + 1 is 0; e^{-50} = 1.9e-22)
scaled_expm1_plus = Rule("cleanup", lambda e: _scaled(e) is not None, lambda e: (
    lambda c, x: Add(*[t for t in e.args if t not in (c, c * expm1(x))]) + c * exp(x))(*_scaled(e)))

RULES: tuple[Rule, ...] = (parametric_residual, threshold_clip, threshold_loss, scaled_expm1_plus)
