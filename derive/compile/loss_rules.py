"""Stability rules of the losses added to the catalogue after the first round (see ``derive.compile.rewrite``).

Each is a ``Rule(phase, query, value)``; ``rewrite.RULES`` appends ``RULES`` to its own. Each sits
under a comment stating its identity and the input where the naive form fails
(``tests/test_builtins.py`` evaluates both there).

>>> from sympy import Symbol, cosh, log, sinh
>>> t = Symbol("t", real=True)
>>> sinh_over_cosh(sinh(t) / cosh(t))
tanh(t)
>>> log_cosh.phase
'stability'
"""

from __future__ import annotations

import sympy as sp
from sympy import Abs, Add, Max, Min, Mul, Piecewise, S, exp, log
from sympy.codegen.cfunctions import expm1, log1p

from derive.compile.nodes import RowSum, softmax, softmax_cce, softmax_residual, softmax_vjp, xlog_softmax
from derive.compile.rule import Rule
from derive.symbolic.functions import sigmoid, silu, softplus

_x = sp.Wild("x")

# Past -40, sigma(x)/softplus(x) = 1 - e^x/2 + O(e^{2x}) rounds to 1 in float64 and float32.
RATIO_SATURATION = 40


def _sinh_over_cosh(e):
    """The factors sinh(x) and 1/cosh(x) of a product, for one x (log_cosh's derivative as SymPy writes it)."""
    if not e.is_Mul:
        return None
    return next((f.args[0] for f in e.args if isinstance(f, sp.sinh) and 1 / sp.cosh(f.args[0]) in e.args), None)


# sinh(x)/cosh(x) -> tanh(x)   (at x = 1e3 both overflow: inf/inf = nan; tanh(1e3) = 1)
sinh_over_cosh = Rule("naive forms", lambda e: _sinh_over_cosh(e) is not None,
                      lambda e: (lambda x: e / sp.sinh(x) * sp.cosh(x) * sp.tanh(x))(_sinh_over_cosh(e)))


def _log_cosh_value(x):
    # |x| >= 1: |x| + log1p(e^{-2|x|}) - ln 2 (cosh(1e3) overflows); |x| < 1: log1p(2 sinh(x/2)^2), since
    # cosh x - 1 = 2 sinh(x/2)^2 keeps the digits of x^2/2 that cosh(1e-8) = 1.0 rounds away. The small branch's
    # argument is capped at 1: the printers evaluate both branches, and sinh(500)^2 overflows.
    r = Abs(x)
    return Piecewise((log1p(2 * sp.sinh(Min(r, 1) / 2) ** 2), r < 1), (r + log1p(exp(-2 * r)) - log(2), True))


# log(cosh(x)) -> |x| + log1p(e^{-2|x|}) - ln 2, or log1p(2 sinh(x/2)^2) where |x| < 1
#   (log(cosh(1e3)) = log(inf); log(cosh(1e-8)) = 0, the value is 5e-17)
log_cosh = Rule("stability", log(sp.cosh(_x)), lambda x: _log_cosh_value(x))


def _sigmoid_softplus(e):
    """x when the product e has a factor sigma(x) and a 1/softplus(x) inside one of its sums, else None."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if isinstance(f, sigmoid) and (e / f).has(1 / softplus(f.args[0])):
            return f.args[0]
    return None


def _sigmoid_over_softplus(x):
    # x < -40: the ratio is 1 within half an ulp; above, both are normal numbers (the argument capped, as the
    # printers evaluate both branches)
    c = Max(x, -RATIO_SATURATION)
    return Piecewise((1, x < -RATIO_SATURATION), (sigmoid(c) / softplus(c), True))


def _ratio_value(e):
    x = _sigmoid_softplus(e)
    s, inverse = sigmoid(x), 1 / softplus(x)
    return sp.expand_mul(e).replace(lambda t: t.is_Mul and s in t.args and inverse in t.args,
                                    lambda t: t / (s * inverse) * _sigmoid_over_softplus(x))


# sigma(x) (1 - y/softplus(x)) -> sigma(x) - y r(x), r = sigma/softplus: 1 past x < -40   (poisson with softplus:
#   at x = -800 softplus and sigma are 0, y/0 = inf, inf * 0 = nan; the value is -y)
sigmoid_over_softplus = Rule("stability", lambda e: _sigmoid_softplus(e) is not None, _ratio_value)


def _softmax_over_itself(e):
    """softmax_vjp(x, g) whose g is h/softmax(x) with h free of 1/softmax(x): h, else None."""
    if not isinstance(e, softmax_vjp):
        return None
    a = softmax(e.args[0])
    h = sp.expand(e.args[1] * a)
    return None if h.has(1 / a) or not e.args[1].has(1 / a) else h


def _row_sum_of(h, a):
    """RowSum(h) for h a sum of terms: RowSum(softmax) = 1, numbers times n."""
    return Add(*[S.One if t == a else RowSum(t) for t in Add.make_args(h)])


def _vjp_of_quotient(e):
    h, x = _softmax_over_itself(e), e.args[0]
    y = next((-t for t in Add.make_args(h) if (-t).is_Symbol), None)  # h = a - y: the row primitive keeps 1 - a_t
    residual = softmax_residual(x, y) if y is not None and h == softmax(x) - y else h
    return residual - softmax(x) * _row_sum_of(h, softmax(x))


# softmax_vjp(x, h/a) -> h - a RowSum(h), a = softmax(x)   (poisson: g = 1 - y/a; y/a is y/0 = inf where a
#   underflows, at [1000, 0, -1000]; the product a (g - sum a g) = (a - y) - a (1 - sum y) is finite)
softmax_vjp_of_quotient = Rule("stability", lambda e: _softmax_over_itself(e) is not None, _vjp_of_quotient)


def _scaled_expm1_plus(e):
    """(c, x): the terms c expm1(x) and c of a sum (the same number c), else None."""
    if not e.is_Add:
        return None
    for t in e.args:
        c, rest = t.as_coeff_Mul()
        if isinstance(rest, expm1) and c != 1 and c in e.args:
            return c, rest.args[0]
    return None


# c expm1(x) + c -> c exp(x)   (selu' through its output, a + lambda alpha: expm1(-50) + 1 is 0; e^{-50} = 1.9e-22)
scaled_expm1_plus = Rule("cleanup", lambda e: _scaled_expm1_plus(e) is not None, lambda e: (
    lambda c, x: Add(*[t for t in e.args if t not in (c, c * expm1(x))]) + c * exp(x))(*_scaled_expm1_plus(e)))

# The derivative of log cosh at a - y is tanh(a - y), which SymPy writes -tanh(y - a) (an odd function gives up
# the sign): the rules below take the forms the minus sign leaves, where the rewrite's rules take the others.


def _negated_vjp(e):
    """e = c a (-g + RowSum(a g)), a = softmax(x): (-c, x, g), else None."""
    a = next((f for f in e.args if isinstance(f, softmax)), None) if e.is_Mul else None
    for h in e.args if a is not None else ():
        sums = [t for t in Add.make_args(h) if isinstance(t, RowSum)] if h.is_Add else []
        if len(sums) == 1:
            g = sums[0] - h
            if sp.simplify(sp.cancel(sums[0].args[0] / a) - g) == 0:
                return -Mul(*[f for f in e.args if f not in (a, h)]), a.args[0], g
    return None


# -c a (g - sum(a g)) with the sum's sign flipped -> -c softmax_vjp(x, g)   (softmax + log_cosh at [50, -50, 0]:
#   g_t - sum a g cancels to 1e-16 where the value is 1e-22; the row primitive keeps 1 - a_t)
negated_softmax_product = Rule("structure", lambda e: _negated_vjp(e) is not None,
                               lambda e: (lambda c, x, g: c * softmax_vjp(x, g))(*_negated_vjp(e)))
# -silu(x) - sigmoid(x)*(1 - silu(x)) -> -sigmoid(x)*(1 + x*sigmoid(-x))   (silu' negated: at x = 1e17 the sum
#   is 1e17 - 1e17 = 0; the value is -1)
negated_silu_prime = Rule("structure", -silu(_x) - sigmoid(_x) * (1 - silu(_x)),
                          -sigmoid(_x) * (1 + _x * sigmoid(-_x)))


def _tanh_squared_minus_one(e):
    if e.is_Add and len(e.args) == 2 and S.NegativeOne in e.args:
        t = next(u for u in e.args if u != S.NegativeOne)
        if t.is_Pow and t.exp == 2 and isinstance(t.base, sp.tanh):
            return t.base.args[0]
    return None


def _minus_sech_squared(e):
    # m = 1 - |tanh x| = 2 e^{-2|x|} / (1 + e^{-2|x|}), |x| capped at 400 (e^{-800} is 0 in float64: 2|x| may overflow)
    q = exp(-2 * Min(Abs(_tanh_squared_minus_one(e)), 400))
    m = 2 * q / (1 + q)
    return -m * (2 - m)


# tanh(x)**2 - 1 -> -m (2 - m), m = 1 - |tanh x| computed directly   (tanh(20)^2 - 1 is 0; the value is -1.7e-17)
minus_sech_squared = Rule("stability", lambda e: _tanh_squared_minus_one(e) is not None, _minus_sech_squared)



def _cce(e):
    """RowSum(k xlog_softmax(w, x)) -> -k softmax_cce(w, x), k a number; else None. A sum with other terms (softmax +
    kl, poisson, bce) is left whole: split off, it measured 0.91-0.94 of the time at 4096 x 1000, 1.0 at 10 x 100."""
    k, f = e.args[0].as_coeff_Mul() if isinstance(e, RowSum) else (S.Zero, None)
    return -k * softmax_cce(*f.args) if isinstance(f, xlog_softmax) else None


# RowSum(w log softmax(x)) -> -softmax_cce(w, x) = -(sum(w) log sum_k e^{d_k} - sum_k w_k d_k), d = x - max x: one
#   row primitive, no pass for the products; the naive sum(w) logsumexp(x) - sum w x is 40 - 40 = 0 at x = [40, 0],
#   w = [1, 0] (the value is 4.2e-18); sum w d has 0 * -inf = nan at x = [0, -1e308, 1e308], w = [1, 0, 0] (half scale)
cross_entropy = Rule("stability", lambda e: _cce(e) is not None, _cce)

RULES: tuple[Rule, ...] = tuple(v for v in tuple(globals().values()) if isinstance(v, Rule))
