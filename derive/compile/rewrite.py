"""Stability rewrite rules: each rule is a value that names its phase, applied to a derivation before printing.

A rule is a ``Rule(phase, query, value)``, a ``sympy.codegen.rewriting.ReplaceOptim``
that states where it runs; ``PHASES`` groups every rule of this module by phase (in
``PHASE_ORDER``, each in the order written) and ``stabilize`` applies them phase by
phase, each rule once. The sections below follow the phases. Each rule sits under a
comment stating its identity, and ``tests/test_rewrite.py`` evaluates the naive form
where it fails. The named functions' own stable forms are on their classes
(``derive.symbolic.functions``): the lowering phase reads them there.

>>> from sympy import Symbol, log
>>> from derive.symbolic.functions import sigmoid
>>> t = Symbol("t", real=True)
>>> log_sigmoid(one_minus_sigmoid(log(1 - sigmoid(t))))
-softplus(t)
>>> one_minus_sigmoid.phase
'stability'
>>> optimize(log(1 - sigmoid(t)), STABILITY)
-softplus(t)
>>> stabilize(1 - sigmoid(t))  # then lowered: sigma(-t) = e/(1 + e), e = exp(min(-t, s)), s per dtype
Quotient(exp(Min(sigmoid_saturation, -t)), exp(Min(sigmoid_saturation, -t)) + 1)
"""

from __future__ import annotations

import sympy as sp
from sympy import Abs, Add, Min, Mul, Piecewise, Rational, S, exp, log, sqrt
from sympy.codegen.cfunctions import expm1
from sympy.codegen.rewriting import optimize

from derive.compile.nodes import (BOUNDS, Clip, Minus, Quotient, RowSum, copysign, log1m_softmax, log_softmax, softmax,
                                  softmax_odds_vjp, softmax_residual, softmax_vjp, softmax_vjp_clipped_residual,
                                  softmax_vjp_residual, step, xlog1m_softmax, xlog_softmax)
from derive.compile.rule import PHASE_ORDER, Rule, phases, small_targets, targets_of
from derive.compile.underflow import underflow_product  # noqa: F401  (imported first: first of its phase in RULES)
from derive.compile import loss_rules
from derive.compile.patterns import (gauss_clipped_value, huber_loss_value, is_gauss, is_huber_gradient,
                                     is_huber_loss, is_softmax_bce_delta)
from derive.symbolic.functions import NamedFunction, Phi, elu, sigmoid, silu, softplus

__all__ = [
    "Rule", "PHASE_ORDER", "phases", "NAIVE_FORMS", "STRUCTURE", "RESIDUALS", "STABILITY", "LOWERING", "CLEANUP",
    "PHASES", "RULES", "stabilize", "optimize", "targets_of",
    # the node classes, for callers that match on them
    "Clip", "Minus", "Quotient", "step", "copysign", "RowSum", "softmax", "log_softmax", "log1m_softmax",
    "softmax_odds_vjp", "softmax_residual", "softmax_vjp", "softmax_vjp_residual", "softmax_vjp_clipped_residual",
]

_x = sp.Wild("x")

# --- phase "naive forms": a textbook expression back to the named function it spells ------------

# 1/(1 + exp(-x)) -> sigmoid(x)       (e^{1000} overflows; sigmoid is lowered to e/(1 + e), e = exp(min(x, 40)))
logistic = Rule("naive forms", 1 / (1 + exp(-_x)), sigmoid(_x))
# log(1 + exp(x)) -> softplus(x)      (e^1000 overflows; softplus is lowered to max(x, 0) + log1p(e^{-|x|}))
log1p_exp = Rule("naive forms", log(1 + exp(_x)), softplus(_x))
# (1 + erf(x/sqrt(2)))/2 -> Phi(x)    (1 + erf(-10/sqrt 2) is 0; Phi(-10) = 7.6e-24 by erfc: ndtr)
phi_by_erfc = Rule("naive forms", Rational(1, 2) + sp.erf(sqrt(2) * _x / 2) / 2, Phi(_x))
# exp(x) - 1 -> expm1(x)              (e^{1e-8} - 1 keeps 8 digits)
expm1_rule = Rule("naive forms", exp(_x) - 1, expm1(_x))

# --- phase "structure": whole subexpressions to forms with no overflow and no untaken branch ----


def _sign_preserving(e):
    """f(x) > 0 for a named f positive exactly where its argument is (relu, leaky_relu, elu, ...)."""
    return (isinstance(e, sp.StrictGreaterThan) and e.rhs == 0 and isinstance(e.lhs, NamedFunction)
            and e.lhs.positive_where_argument_is)


# silu(x) + sigmoid(x)*(1 - silu(x)) -> sigmoid(x)*(1 + x*sigmoid(-x))   (at x = 1e17, a + s(1 - a) is
#   1e17 - 1e17 = 0; silu' is 1)
silu_prime = Rule("structure", silu(_x) + sigmoid(_x) * (1 - silu(_x)), sigmoid(_x) * (1 + _x * sigmoid(-_x)))
# exp(-x**2/2) -> exp(-clip(x, -g, g)**2/2), g = gauss_clip per dtype   (x**2 overflows at x = 1e155; the value is 0)
gauss_clipped = Rule("structure", is_gauss, gauss_clipped_value)
# a sum(y) - y + w - a sum(w), w = (1 - y) a/(1 - a) -> softmax_odds_vjp(z, y)
#   (1/(1 - softmax(z)_0) is 1/0 at [1000, 0, -1000]; the delta there is finite)
softmax_bce_vjp = Rule("structure", is_softmax_bce_delta,
                       lambda e: softmax_odds_vjp(next(iter(e.atoms(softmax))).args[0], sp.Symbol("y", real=True)))
# log(softmax(x)) -> log_softmax(x)        (log of e^{z}/sum e^{z} is -inf or nan at [1000, 0, -1000])
log_of_softmax = Rule("structure", log(softmax(_x)), log_softmax(_x))
# log(1 - softmax(x)) -> log1m_softmax(x)  (1 - softmax(z)_0 is 0 at [1000, 0, -1000]; the log is -1000)
log_one_minus_softmax = Rule("structure", log(1 - softmax(_x)), log1m_softmax(_x))
# f(x) > 0 -> x > 0 for f positive where x is: relu, leaky_relu, elu, ...   (the test needs no f(x))
positive_where_argument_is = Rule("structure", _sign_preserving, lambda e: e.lhs.args[0] > 0)
# Piecewise((r, |r| <= 1), (sign(r), True)) -> clip(r, -1, 1)   (no value from an untaken branch)
huber_gradient = Rule("structure", is_huber_gradient, lambda e: Clip(e.args[0].expr, -1, 1))
# Piecewise((r**2/2, |r| <= 1), (|r| - 1/2, True)) -> c (r - c/2), c = clip(r, -1, 1)   (r**2 overflows at r = 1e200)
huber_loss = Rule("structure", is_huber_loss, huber_loss_value)

# --- phase "residuals": a - y where a saturates ---------------------------------------------------

# Saturated outputs: a = f(x) rounds to its asymptote L (sigma(50) == 1.0), so a - y loses
# everything when y is near L. Write a - y = (a - L) - (y - L) with a - L computed directly.


def _residual(cls):
    """Match cls(x) + w or -cls(x) + w (w not a number): the residual a - y in either orientation."""

    def find(e):
        if e.is_Add and len(e.args) == 2:
            for t in e.args:
                for sgn in (S.One, S.NegativeOne):
                    if isinstance(sgn * t, cls):
                        w = e - t
                        if not w.is_number:
                            return sgn, (sgn * t).args[0], w
        return None

    return find


def _residual_rule(cls, value):
    find = _residual(cls)

    def rewrite(e):
        sgn, x, w = find(e)
        return sgn * value(x, -sgn * w)  # sgn*(f(x) - y) with y = -sgn*w

    return Rule("residuals", lambda e: find(e) is not None, rewrite)


def _sigmoid_residual(x, y):
    # s = sigma(-|x|) is the smaller of sigma(x), 1 - sigma(x): it never rounds to 1. Then
    # x >= 0: (1 - y) - s;  x < 0: (0 - y) + s. No branch: step() and copysign() select exactly.
    s = sigmoid(-Abs(x))
    return Minus(step(x) - y, copysign(s, x))


def _elu_residual(x, y):
    return Piecewise((Minus(exp(Min(x, 0)), 1 + y), x < -Rational(1, 2)), (elu(x) - y, True))


def _tanh_residual(x, y):
    # |x| > 1/2: a - y = (+-1 - y) - copysign(1 - |tanh x|, x), 1 - |tanh x| <= 0.54 computed directly
    # (tanh(20) is 1.0); near 0 that complement is near 1 and tanh x - y is the accurate form. +-1 is
    # 2 step(x) - 1, so the first branch equals tanh x - y at every x, 0 included.
    return Piecewise((Minus(2 * step(x) - 1 - y, copysign(_tanh_complement(x), x)), Abs(x) > Rational(1, 2)),
                     (sp.tanh(x) - y, True))


def _softmax_pair(e):
    """In a sum, the terms +-softmax(x) and -+y (y a symbol): the residual a - y."""
    if not e.is_Add:
        return None
    for t in e.args:
        for sgn in (S.One, S.NegativeOne):
            if isinstance(sgn * t, softmax):
                for u in e.args:
                    if isinstance(-sgn * u, sp.Symbol):
                        return sgn, t, u
    return None


def _softmax_residual_value(e):
    sgn, t, u = _softmax_pair(e)
    rest = Add(*[v for v in e.args if v not in (t, u)])
    return rest + sgn * softmax_residual((sgn * t).args[0], -sgn * u)


def _vjp_parts(e):
    """e = c * a * (g - RowSum(a * g)), a = softmax(x): (c, x, g), else None."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if isinstance(f, softmax):
            A = f
            for h in e.args:
                if h.is_Add:
                    sums = [t for t in h.args if t.could_extract_minus_sign() and isinstance(-t, RowSum)]
                    if len(sums) == 1:
                        g = h - sums[0]
                        inner = sp.piecewise_fold((-sums[0]).args[0] / A).replace(
                            lambda p: isinstance(p, Piecewise),
                            lambda p: Piecewise(*[(sp.cancel(ex), c) for ex, c in p.args]))
                        inner = huber_gradient(sp.cancel(inner) if not inner.has(Piecewise) else inner)
                        if sp.simplify(inner - g) == 0:
                            c = Mul(*[k for k in e.args if k not in (A, h)])
                            return c, A.args[0], g
    return None


# a (g - sum(a g)) -> softmax_vjp(x, g), a = softmax(x)   (g_t - a_t g_t is 0 once softmax([50, -50, 0])_0 rounds to 1)
softmax_jacobian_product = Rule("residuals", lambda e: _vjp_parts(e) is not None,
                                lambda e: (lambda c, x, g: c * softmax_vjp(x, g))(*_vjp_parts(e)))
# sigmoid(x) - y -> (step(x) - y) - copysign(sigmoid(-|x|), x)   (sigma(50) - 1 is 0; the value is -1.9e-22)
sigmoid_residual = _residual_rule(sigmoid, _sigmoid_residual)
# elu(x) - y -> e^x - (1 + y) if x < -1/2   (elu(-50) + 1 is 0; the value is 1.9e-22)
elu_residual = _residual_rule(elu, _elu_residual)
# tanh(x) - y -> (sign x - y) - copysign(1 - |tanh x|, x) if |x| > 1/2   (tanh(20) - 1 is 0; the value is -8.5e-18)
tanh_residual = _residual_rule(sp.tanh, _tanh_residual)
# softmax(x) - y -> softmax_residual(x, y)   (softmax([50, -50, 0])_0 - 1 is 0; the value is -1.9e-22)
softmax_residual_rule = Rule("residuals", lambda e: _softmax_pair(e) is not None, _softmax_residual_value)

# --- phase "stability": complements, products and logs of saturating functions --------------------


def _complement(cls):
    """The rule ``k - k*cls(x) -> k*cls(-x)`` for k = +-1 (a two-term Add: (1 - y) - s stays as it is)."""

    def find(e):
        if e.is_Add and len(e.args) == 2:
            for one in (S.One, S.NegativeOne):
                if one in e.args:
                    for t in e.args:
                        if isinstance(-one * t, cls):
                            return one, t
        return None

    def value(e):
        one, t = find(e)
        rest = Add(*[s for s in e.args if s not in (one, t)])
        return rest + one * cls(-(-one * t).args[0])

    return Rule("stability", lambda e: find(e) is not None, value)


def _clipped_residual(e):
    g = e.args[1] if isinstance(e, softmax_vjp) else None
    return (isinstance(g, Clip) and g.args[1:] == (-1, 1) and isinstance(g.args[0], softmax_residual)
            and g.args[0].args[0] == e.args[0])


def _sigmoid_product(e):
    f = next(f for f in e.args if isinstance(f, sigmoid) and sigmoid(-f.args[0]) in e.args)
    s = sigmoid(-Abs(f.args[0]))
    rest = [g for g in e.args if g not in (f, sigmoid(-f.args[0]))]
    return Mul(*rest) * s * (1 - s)


def _tanh_complement(x):
    """1 - |tanh x| = 2 e^{-2|x|} / (1 + e^{-2|x|}); |x| capped at tanh_clamp, past which e^{-2|x|} is 0
    (374 in float64, 5702 in long double): 2|x| may overflow."""
    q = exp(-2 * Min(Abs(x), BOUNDS["tanh_clamp"]))
    return 2 * q / (1 + q)


def _one_minus_tanh_squared(e):
    if not (e.is_Add and S.One in e.args):
        return None
    for t in e.args:
        if t.could_extract_minus_sign():
            u = -t
            if u.is_Pow and u.exp == 2 and isinstance(u.base, sp.tanh):
                return t
    return None


def _sech_squared(e):
    t = _one_minus_tanh_squared(e)
    m = _tanh_complement((-t).base.args[0])
    rest = Add(*[s for s in e.args if s not in (S.One, t)])
    return rest + m * (2 - m)


# softmax_vjp(x, softmax_residual(x, y)) -> softmax_vjp_residual(x, y)   (at z = [1e-8, 0], a_0 - a_1 = 5e-9
#   keeps 8 of 16 digits; expm1(z_0 - z_1)/sum e keeps all)
vjp_of_residual = Rule(
    "stability",
    lambda e: isinstance(e, softmax_vjp) and isinstance(e.args[1], softmax_residual) and e.args[1].args[0] == e.args[0],
    lambda e: softmax_vjp_residual(e.args[0], e.args[1].args[1]),
)
# softmax_vjp(x, clip(softmax_residual(x, y), -1, 1)) -> softmax_vjp_clipped_residual(x, y)   (huber: same digits)
vjp_of_clipped_residual = Rule("stability", _clipped_residual,
                               lambda e: softmax_vjp_clipped_residual(e.args[0], e.args[1].args[0].args[1]))
# 1 - sigmoid(x) -> sigmoid(-x)       (1 - sigma(50) is 0 in floating point, sigma(-50) = 2e-22)
one_minus_sigmoid = _complement(sigmoid)
# sigmoid(x)*sigmoid(-x) -> s (1 - s), s = sigmoid(-|x|)   (one exponential, not two; sigma(40)(1 - sigma(40)) is 0)
sigmoid_product = Rule("stability", lambda e: e.is_Mul and any(
    isinstance(f, sigmoid) and sigmoid(-f.args[0]) in e.args for f in e.args), _sigmoid_product)
# log(softplus(x)) -> x where x < -s, else log(softplus(max(x, -s))), s = sigmoid_saturation per dtype   (softplus(-800)
#   is 0: log gives -inf; the value is -800 - 2e-348: log softplus(x) - x = log(log1p(e^x)/e^x) is below e^-s/2 there)
_s = BOUNDS["sigmoid_saturation"]
log_softplus = Rule("stability", log(softplus(_x)), Piecewise((_x, _x < -_s), (log(softplus(-Min(-_x, _s))), True)))
# log(sigmoid(x)) -> -softplus(-x)    (log(sigma(-1000)) = log(0) = -inf; the value is -1000)
log_sigmoid = Rule("stability", log(sigmoid(_x)), -softplus(-_x))
# k c log_softmax(x) -> k xlog_softmax(c, x), c >= 0 free of x; log1m_softmax alike   (log a_i is -inf below
#   -max, in a row spanning the float range: 0*-inf = nan where y_i = 0; the product is finite)


def _xlog(e, _XLOG={log_softmax: xlog_softmax, log1m_softmax: xlog1m_softmax}):  # noqa: B006
    found = [f for f in Mul.make_args(e) if type(f) in _XLOG and not (e / f).has(f.args[0])] if e.is_Mul else ()
    k, c = (e / found[0]).as_coeff_Mul() if len(found) == 1 else (S.Zero, S.Zero)
    s = -1 if c.could_extract_minus_sign() or c.as_coeff_Add()[0].is_negative else 1  # the weight y or 1 - y
    return k and s * k * _XLOG[type(found[0])](s * c, found[0].args[0])


weighted_log_softmax = Rule("stability", _xlog, _xlog)
# 1 - tanh(x)**2 -> m (2 - m), m = 1 - |tanh x| = 2 e^{-2|x|} / (1 + e^{-2|x|})   (1 - tanh(20)^2 is 0; the value is 1.7e-17)
sech_squared = Rule("stability", lambda e: _one_minus_tanh_squared(e) is not None, _sech_squared)

# the outputs with a residual rule (above): each saturates to a limit L = +-1 that a target reaches
SATURATING = (sigmoid, sp.tanh, elu, softmax)


# The margin form cancels as y^2 past |y| = 2: it applies only inside ``targets_of(targets)`` with the targets in
# [-2, 2] (hinge's {-1, 1}), never to a user's 1 - y a with y real.
def _margin_parts(e):
    """(y, a) for e = 1 - y a or the relation y a < 1, a = f(x) of a SATURATING f and y a symbol, else None."""
    if not small_targets():
        return None
    if isinstance(e, sp.StrictLessThan) and e.rhs == 1:
        product = e.lhs
    elif e.is_Add and len(e.args) == 2 and S.One in e.args:
        product = 1 - e
    else:
        return None
    y, a = product.as_two_terms() if product.is_Mul and len(product.args) == 2 else (None, None)
    y, a = (a, y) if isinstance(y, SATURATING) else (y, a)
    return (y, a) if isinstance(y, sp.Symbol) and isinstance(a, SATURATING) else None


def _margin_value(e):
    # 1 - y a = (1 - y)(1 + y) - y (a - y), exact, with a - y by the residual rules: for y = +-1 (hinge's targets)
    # the first term is 0 and the value keeps the residual's digits; for |y| <= 2 the terms are at most a few
    # times the value's conditioning (a per-lane guard would cost 3-10x the kernel: the targets' set decides)
    y, a = _margin_parts(e)
    m = Minus((1 - y) * (1 + y), y * optimize(a - y, RESIDUALS))
    return m > 0 if e.is_Relational else m


# 1 - y a -> (1 - y)(1 + y) - y (a - y), a saturating, a - y by its residual rule; y a < 1 -> that margin > 0
#   (hinge: 1 - sigma(40) is 0, and the kink test y a < 1 false; the value is 4.2e-18, the delta -4.2e-18)
hinge_margin = Rule("stability", lambda e: _margin_parts(e) is not None, _margin_value)

# --- phase "lowering": each named function into the stable form its class declares ---------------


def _lowerable(e):
    return isinstance(e, NamedFunction) and e.lowering(e.args[0]) is not None


def _lowered(e):
    """e's lowering, with the named functions that lowering uses lowered in turn (silu -> x sigmoid(x) -> ...)."""
    return e.lowering(e.args[0]).replace(_lowerable, _lowered)


# f(x) -> f.lowering(x) for every named function f (the identity and the reason sit on f's class)
lower_named = Rule("lowering", _lowerable, _lowered)

# --- phase "cleanup": what lowering leaves ----------------------------------------------------------


def _expm1_plus_one(e):
    if not (e.is_Add and S.One in e.args):
        return None
    return next((t for t in e.args if isinstance(t, expm1)), None)


# expm1(x) + 1 -> exp(x)              (expm1(-50) + 1 is 0; e^{-50} = 1.9e-22)
expm1_plus_one = Rule(
    "cleanup",
    lambda e: _expm1_plus_one(e) is not None,
    lambda e: Add(*[t for t in e.args if t not in (S.One, _expm1_plus_one(e))]) + exp(_expm1_plus_one(e).args[0]),
)


def _irrational_coefficient(e):
    """e = c g, g holding a Gaussian exp(-x**2/2), c an irrational number: c, else None."""
    if not (e.is_Mul and any(is_gauss(f) for f in e.args)):
        return None
    c = Mul(*[f for f in e.args if f.is_number])
    return None if c.is_Rational else c


def _head_and_tail(e):
    c = _irrational_coefficient(e)
    head = Rational(float(c))  # float64's rounding of c, exact in every wider format
    return head * (e / c) + (c - head) * (e / c)


# c g -> h g + (c - h) g, h = float64's c, for a Gaussian term g   (gelu' = Phi(z) + z e^{-z^2/2}/sqrt(2 pi): the
#   constant printed as a float64 literal leaves long double with float64's 1e-17; h + (c - h) keeps 1e-34)
constant_head_and_tail = Rule("cleanup", lambda e: _irrational_coefficient(e) is not None, _head_and_tail)

# --- the phases --------------------------------------------------------------------------------------

RULES = tuple(v for v in tuple(globals().values()) if isinstance(v, Rule)) + loss_rules.RULES  # every rule above, in order
PHASES = phases(RULES)
NAIVE_FORMS, STRUCTURE, RESIDUALS, STABILITY, LOWERING, CLEANUP = PHASES


def stabilize(expr, phases=PHASES):
    """``expr`` with the rules of each phase applied once, phase by phase."""
    for phase in phases:
        expr = optimize(expr, phase)
    return expr
