"""The underflow rule: a delta P(z) R(z, y) whose own magnitude, not P's, decides underflow.

    P(z) R -> LogProduct(P, R, SignedExp(s sign(R), l + log|R|)),  P = s e^l (``signed_log``, symbolic)

P is the activation's derivative (every factor free of the target), R the residual a - y,
unbounded where the loss allows targets outside [0, 1] (quadratic, sse, mse; l1's sign and
huber's clip are bounded by 1, so there |P R| <= |P| and the product underflows with its
true value). At z = -750 sigma'(z) = 1.9e-326 is 0 in float64 and y = 1e300 makes the delta
-1.9e-26: P R is 0 but e^{-750 + log 1e300} is the float. ``LogProduct`` is printed as P R with
the log-space value on the rare lanes where |P| < tiny and |R| > 1 only
(``derive.kernels.bits.patch``). The log form l = log|P| is derived from P itself, one
procedure for every function class: products and powers are sums of logs, a sum is
M + log|sum s_i e^{l_i - M}|, M = max l_i (two positive terms: logaddexp as softplus), a
Piecewise one log per branch with its piecewise named functions (elu) folded under the
branch's condition, and the named functions' own log forms (log sigma -> -softplus(-x) by
the stability phase; log Phi -> log_ndtr). A sum holding tanh is first written in exp and
factored: 1 - tanh^2 = 4 e^{2x}/(e^{2x} + 1)^2, whose log is log 4 + 2x - 2 softplus(2x).

>>> from sympy import Symbol, exp
>>> x = Symbol("x", real=True)
>>> signed_log(-3 * exp(x) ** 2)
(-1, 2*x + log(3))
"""

from __future__ import annotations

import sympy as sp
from sympy import Abs, Add, Max, Mul, Piecewise, S, exp, log, sign

from derive.compile.nodes import BOUNDS, ROW_FUNCTIONS, Clip, LogProduct, Minus, SignedExp, log_ndtr
from derive.compile.rule import Rule
from derive.symbolic.functions import NamedFunction, Phi, softplus

__all__ = ["signed_log", "underflow_product", "slow_paths_apart"]

Z, Y, N = sp.symbols("z y n", real=True)  # derive.compile.expressions's logits, targets, units (it imports the rules)


def _unclipped_gauss(u):
    """An exponent with the Gaussian clip exp(-clip(x, -g, g)^2/2) undone: in log space -x^2/2 is finite
    where e^{-x^2/2} underflows. |x| is kept below gauss_log_clip, past which e^{-x^2/2} times the
    largest float still underflows (x^2 overflows at 1e155)."""
    g = BOUNDS["gauss_log_clip"]
    return u.replace(lambda e: isinstance(e, Clip), lambda e: Clip(e.args[0], -g, g))


def _piecewise_defined(e) -> bool:
    return isinstance(e, NamedFunction) and isinstance(e.definition(*e.args), Piecewise)


def signed_log(e):
    """(s, l) with e = s e^l exactly: s = sign(e) and l = log|e| in forms that never underflow."""
    if e.is_number:
        return sign(e), log(Abs(e))
    if isinstance(e, exp):
        return S.One, _unclipped_gauss(e.args[0])
    if isinstance(e, Phi):
        return S.One, log_ndtr(e.args[0])
    if isinstance(e, NamedFunction) and e.positive_on_reals:
        return S.One, log(e)  # the stability phase lowers it: log sigma(x) -> -softplus(-x)
    if e.is_Mul or e.is_Pow and e.exp.is_Integer:
        factors = [(e.base, e.exp)] if e.is_Pow else [(f, 1) for f in e.args]
        parts = [(signed_log(b), k) for b, k in factors]
        return Mul(*[s**k for (s, _), k in parts]), Add(*[k * lg for (_, lg), k in parts])
    if isinstance(e, Piecewise):  # each branch under its condition and the earlier ones' negations
        held = [sp.And(c, *[sp.Not(d) for _, d in e.args[:k]]) for k, (_, c) in enumerate(e.args)]
        branches = [(signed_log(_folded(v, h)), c) for (v, c), h in zip(e.args, held)]
        return (Piecewise(*[(s, c) for (s, _), c in branches]), Piecewise(*[(lg, c) for (_, lg), c in branches]))
    if e.is_Add and e.has(sp.tanh):
        return signed_log(sp.factor(sp.cancel(e.rewrite(exp))))
    for k in (S.One, S.NegativeOne):  # +-(1 - sigma(x)), 1 - sigma(x) > 0: the stability phase makes its log
        if e.is_Add and _one_minus_unit(k * e):  # log sigma(-x) = -softplus(x)
            return k, log(k * e)
    if e.is_Add:
        return _signed_log_sum([signed_log(t) for t in e.args])
    if isinstance(e, Abs):
        return S.One, signed_log(e.args[0])[1]
    return sign(e), log(Abs(e))  # a factor that never underflows (x, 1 + x sigma(-x))


def _one_minus_unit(e) -> bool:
    """e = 1 - f(x), f a named function with values in (0, 1)."""
    return (len(e.args) == 2 and S.One in e.args
            and any(isinstance(-t, NamedFunction) and (-t).ends == (0, 1) for t in e.args))


def _folded(value, cond):
    """``value`` with its piecewise named functions (elu) written out and decided under ``cond``."""
    if not value.has(NamedFunction) or not any(_piecewise_defined(f) for f in value.atoms(NamedFunction)):
        return value
    spelled = value.replace(_piecewise_defined, lambda f: f.definition(*f.args))
    folded = sp.piecewise_fold(Piecewise((spelled, cond), (S.NaN, True)))
    return folded.args[0].expr if isinstance(folded, Piecewise) and folded.args[0].cond == cond else value


def _signed_log_sum(parts):
    """log|sum s_i e^{l_i}| as M + log|sum s_i e^{l_i - M}|, M = max l_i: no term overflows, the largest is 1."""
    if len(parts) == 2 and all(s == 1 for s, _ in parts):  # logaddexp: l_0 + softplus(l_1 - l_0)
        (_, l0), (_, l1) = sorted(parts, key=lambda p: (not p[1].is_number, sp.default_sort_key(p[1])))
        return S.One, l0 + softplus(l1 - l0)
    m = Max(*[lg for _, lg in parts])
    total = Add(*[s * exp(lg - m) for s, lg in parts])
    return sign(total), m + log(Abs(total))


def _parts(e):
    """e = c P R: (c, P, R, sign P, log|P|) with c free of z and y, P a function of z alone that may underflow,
    R the one factor holding y, the residual (unbounded in y, unlike sign(r) or clip(r)); else None."""
    if not e.is_Mul:
        return None
    with_y = [f for f in e.args if f.has(Y)]
    p = [f for f in e.args if not f.has(Y) and f.free_symbols - {N}]
    c = [f for f in e.args if f not in with_y and f not in p]
    if len(with_y) != 1 or not _residual(with_y[0]) or not p or e.has(*ROW_FUNCTIONS):
        return None  # (a softmax row's vjp is its own node: rows.py)
    s, lp = signed_log(Mul(*p))
    if lp.has(S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity) or all(
            not v.has(Z) for v in ([b.expr for b in lp.args] if isinstance(lp, Piecewise) else [lp])):
        return None  # P is 0 somewhere (relu') or bounded away from 0 (leaky_relu'): nothing to underflow
    return Mul(*c), Mul(*p), with_y[0], s, lp


def _residual(r) -> bool:
    """r = +-(g(z) - y): the residual, unbounded in y (not 1 - y, y/g, sign(g - y), clip(g - y))."""
    if isinstance(r, Piecewise):  # a residual rule's branches (elu with its alpha)
        return all(_residual(b.expr) for b in r.args)
    r = r.args[0] - r.args[1] if isinstance(r, Minus) else r
    rest = sp.expand(r - r.coeff(Y) * Y) if r.is_Add else None
    return rest is not None and r.coeff(Y) in (1, -1) and not rest.has(Y) and rest.has(Z)


def _product(e):
    c, p, r, s, lp = _parts(e)
    return c * LogProduct(p, r, SignedExp(s * sign(r), lp + log(Abs(r))))


# P(z) R -> LogProduct(P, R, sign(P) sign(R) e^{log|P| + log|R|})   (sigma'(-750) (sigma(-750) - 1e300) is 0: sigma' is
#   1.9e-326, 0 in float64; the value is -1.9e-26). Phase "residuals", first: R is still f(z) - y, P still named.
underflow_product = Rule("residuals", lambda e: _parts(e) is not None, _product)


def slow_paths_apart(expr, name):
    """Each LogProduct's log-space value replaced by a placeholder named for the function that will print it
    (``name__slow``), for ``printer_numpy``: cse then shares nothing with it; it runs on the patched lanes only."""
    slow = {}

    def apart(e):
        key = sp.Symbol(f"{name}__slow{len(slow) or ''}")
        slow[key] = e.args[2]
        return LogProduct(e.args[0], e.args[1], key)

    return expr.replace(lambda e: isinstance(e, LogProduct) and e.args[2] not in slow, apart), slow
