"""Each stability rule at the input where its naive form fails: the naive form fails there, the rewrite is right.

Reference values come from mpmath at 50 digits, never from the code under test.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import sympy as sp
from scipy.special import expit, ndtr

from derive.compile import rewrite as rw
from derive.symbolic.functions import Phi, elu, gelu, leaky_relu, relu, sigmoid, silu, softplus

t = sp.Symbol("t", real=True)
u = sp.Symbol("u", real=True)
mpmath.mp.dps = 50


def naive(f, *args):
    """Evaluate a naive NumPy form, recording its warnings instead of raising them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = f(*args)
    return value, [w.category for w in caught]


def stable(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args)


def close(got, want, rel=1e-12):
    return abs(got - float(want)) <= rel * abs(float(want))


def test_one_minus_sigmoid():
    assert rw.one_minus_sigmoid(1 - sigmoid(t)) == sigmoid(-t)
    assert rw.one_minus_sigmoid(sigmoid(t) - 1) == -sigmoid(-t)
    want = 1 / (1 + mpmath.exp(50))
    assert naive(lambda: 1 - expit(50.0))[0] == 0.0  # the naive form loses everything
    assert close(stable(expit, -50.0), want)


def test_log_sigmoid():
    assert rw.log_sigmoid(sp.log(sigmoid(t))) == -softplus(-t)
    value, caught = naive(lambda: np.log(expit(np.float64(-1000))))
    assert value == -np.inf and RuntimeWarning in caught
    assert stable(lambda: -np.logaddexp(1000.0, 0.0)) == -1000.0


def test_log_one_minus_sigmoid():
    assert rw.optimize(sp.log(1 - sigmoid(t)), rw.STABILITY) == -softplus(t)
    value, caught = naive(lambda: np.log(1 - expit(np.float64(1000))))
    assert value == -np.inf and RuntimeWarning in caught
    assert stable(lambda: -np.logaddexp(1000.0, 0.0)) == -1000.0


def test_log1p_exp():
    assert rw.log1p_exp(sp.log(1 + sp.exp(t))) == softplus(t)
    value, caught = naive(lambda: np.log(1 + np.exp(np.float64(1000))))
    assert value == np.inf and RuntimeWarning in caught
    assert stable(np.logaddexp, 1000.0, 0.0) == 1000.0
    # and at -50, log(1 + e^-50) is 0 in floating point
    assert naive(lambda: np.log(1 + np.exp(-50.0)))[0] == 0.0
    assert close(stable(np.logaddexp, -50.0, 0.0), mpmath.log1p(mpmath.exp(-50)))


def test_logistic():
    assert rw.logistic(1 / (1 + sp.exp(-t))) == sigmoid(t)
    value, caught = naive(lambda: 1 / (1 + np.exp(-np.float64(-1000))))
    assert RuntimeWarning in caught
    assert stable(expit, -1000.0) == 0.0


def test_phi_by_erfc():
    assert rw.phi_by_erfc((1 + sp.erf(t / sp.sqrt(2))) / 2) == Phi(t)
    from scipy.special import erf

    assert naive(lambda: (1 + erf(-10 / np.sqrt(2))) / 2)[0] == 0.0
    assert close(stable(ndtr, -10.0), mpmath.ncdf(-10))


def float64_bounds(expr):
    """expr with each per-format bound (tanh_clamp, ...) at its float64 value."""
    from derive.compile.nodes import BOUNDS
    from derive.kernels.bits import bound

    return expr.xreplace({b: sp.Float(float(bound(name, np.float64))) for name, b in BOUNDS.items()})


def test_sech_squared():
    out = float64_bounds(rw.sech_squared(1 - sp.tanh(t) ** 2))
    assert sp.simplify((out - (1 - sp.tanh(t) ** 2)).rewrite(sp.exp).subs(t, sp.Rational(3, 7))) == 0
    f = sp.lambdify(t, out, "numpy")
    assert naive(lambda: 1 - np.tanh(20.0) ** 2)[0] == 0.0
    assert close(stable(f, 20.0), 1 - mpmath.tanh(20) ** 2)
    assert stable(f, 1000.0) == 0.0


def test_expm1():
    from sympy.codegen.cfunctions import expm1

    assert rw.expm1_rule(sp.exp(t) - 1) == expm1(t)
    want = mpmath.expm1(mpmath.mpf("-1e-8"))
    assert not close(naive(lambda: np.exp(-1e-8) - 1)[0], want, rel=1e-10)
    assert close(stable(np.expm1, -1e-8), want)


def test_expm1_plus_one():
    from sympy.codegen.cfunctions import expm1

    assert rw.expm1_plus_one(expm1(t) + 1) == sp.exp(t)
    assert naive(lambda: np.expm1(-50.0) + 1)[0] == 0.0
    assert close(stable(np.exp, -50.0), mpmath.exp(-50))


def test_silu_as_sigmoid():
    assert silu.lowering(t) == t * sigmoid(t) and rw.lower_named(silu(t)).has(rw.Quotient)
    _, caught = naive(lambda: np.float64(-1000) / (1 + np.exp(np.float64(1000))))
    assert RuntimeWarning in caught
    assert stable(lambda: -1000.0 * expit(-1000.0)) == 0.0


def test_gelu_as_phi():
    assert rw.lower_named(gelu(t)) == t * Phi(t)  # Phi is the printers' primitive (ndtr)
    from scipy.special import erf

    assert naive(lambda: -10 * (1 + erf(-10 / np.sqrt(2))) / 2)[0] == 0.0
    assert close(stable(lambda: -10.0 * ndtr(-10.0)), -10 * mpmath.ncdf(-10))


def test_elu_branch_free():
    out = rw.lower_named(elu(t))
    f = sp.lambdify(t, out, "numpy")
    _, caught = naive(lambda: np.where(np.float64(1000) > 0, 1000.0, np.exp(np.float64(1000)) - 1))
    assert RuntimeWarning in caught
    assert stable(f, 1000.0) == 1000.0
    assert close(stable(f, -1e-8), mpmath.expm1(mpmath.mpf("-1e-8")))


def test_relu_and_leaky_relu_as_max():
    assert rw.lower_named(relu(t)) == sp.Max(t, 0)
    assert rw.lower_named(leaky_relu(t)) == sp.Max(t, t / 100)


def test_sign_preserving_conditions():
    for f in (relu, leaky_relu, elu):
        assert rw.positive_where_argument_is(sp.Piecewise((1, f(t) > 0), (0, True))) == sp.Piecewise((1, t > 0), (0, True))


def test_huber_gradient_is_clip():
    r = t - u
    out = rw.huber_gradient(sp.Piecewise((r, sp.Abs(r) <= 1), (sp.sign(r), True)))
    assert out == rw.Clip(r, -1, 1)


def test_huber_loss_branch_free():
    r = t - u
    out = rw.huber_loss(sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.S.Half, True)))
    assert out.has(rw.Clip) and not out.has(sp.Piecewise)
    _, caught = naive(lambda: np.where(abs(1e200) <= 1, np.float64(1e200) ** 2 / 2, abs(1e200) - 0.5))
    assert RuntimeWarning in caught
    from derive import kernels

    assert stable(kernels.get("identity", "huber").loss, [1e200], [0.0]) == 1e200


def test_log_softmax():
    assert rw.log_of_softmax(sp.log(rw.softmax(t))) == rw.log_softmax(t)
    z = np.array([1000.0, 0.0, -1000.0])
    value, caught = naive(lambda: np.log(np.exp(z) / np.exp(z).sum()))
    assert not np.all(np.isfinite(value)) and RuntimeWarning in caught
    from derive.kernels.rows import log_softmax

    got = stable(log_softmax, z, np.empty(3))
    want = [mpmath.log(mpmath.exp(v) / mpmath.fsum(mpmath.exp(w) for w in z)) for v in z]
    assert all(close(g, w) for g, w in zip(got, want))


def test_log_one_minus_softmax():
    assert rw.log_one_minus_softmax(sp.log(1 - rw.softmax(t))) == rw.log1m_softmax(t)
    z = np.array([1000.0, 0.0, -1000.0])
    e = np.exp(z - z.max())
    value, caught = naive(lambda: np.log(1 - e / e.sum()))
    assert value[0] == -np.inf and RuntimeWarning in caught
    from derive.kernels.rows import log1m_softmax

    got = stable(log1m_softmax, z, np.empty(3))
    total = mpmath.fsum(mpmath.exp(w) for w in z)
    want = [mpmath.log(1 - mpmath.exp(v) / total) for v in z]
    assert all(close(g, w) for g, w in zip(got, want))


def test_softmax_max_shift():
    z = np.array([1000.0, 0.0, -1000.0])
    value, caught = naive(lambda: np.exp(z) / np.exp(z).sum())
    assert np.isnan(value[0]) and RuntimeWarning in caught
    from derive.kernels.rows import softmax

    assert np.array_equal(stable(softmax, z, np.empty(3)), [1.0, 0.0, 0.0])


# --- saturated residuals, lowering and the softmax products ------------------------------------


def test_sigmoid_residual():
    y = sp.Symbol("y", real=True)
    out = rw.sigmoid_residual(sigmoid(t) - y)
    assert isinstance(out, rw.Minus) and out.has(rw.step, rw.copysign)
    assert naive(lambda: expit(50.0) - 1.0)[0] == 0.0
    from derive import kernels

    got = stable(kernels.get("sigmoid", "bce").delta, [50.0, -50.0], [1.0, 0.0])
    want = 1 / (1 + mpmath.exp(50))
    assert close(got[0], -want) and close(got[1], want)


def test_elu_residual():
    y = sp.Symbol("y", real=True)
    assert rw.elu_residual(elu(t) - y).has(rw.Minus)
    assert naive(lambda: np.expm1(-50.0) - (-1.0))[0] == 0.0
    from derive import kernels

    got = stable(kernels.get("elu", "l1").loss, [[-50.0]], [[-1.0]])[0]
    assert close(got, mpmath.exp(-50))


def test_sigmoid_product_is_one_exp():
    out = rw.sigmoid_product(sigmoid(t) * sigmoid(-t))
    assert out == sigmoid(-sp.Abs(t)) * (1 - sigmoid(-sp.Abs(t)))
    assert naive(lambda: expit(40.0) * (1 - expit(40.0)))[0] == 0.0
    from derive import kernels

    assert close(stable(kernels.activation("sigmoid").derivative, [40.0])[0], mpmath.exp(-40) / (1 + mpmath.exp(-40)) ** 2)


def test_sigmoid_by_exp_keeps_subnormals():
    assert rw.lower_named(sigmoid(t)).has(rw.Quotient)
    assert naive(expit, -710.0)[0] == 0.0  # scipy flushes sigma(-710) = 4.5e-309
    from derive import kernels

    got = stable(kernels.activation("silu").derivative, [-710.0])[0]  # -709 sigma(-710): a normal number
    want = _sig(-710) * (1 - 710 * _sig(710))
    assert close(got, want)


def test_softplus_by_log1p():
    assert rw.lower_named(softplus(t)) == sp.Max(t, 0) + sp.codegen.cfunctions.log1p(sp.exp(-sp.Abs(t)))
    _, caught = naive(lambda: np.log1p(np.exp(np.float64(1000))))
    assert RuntimeWarning in caught
    from derive import kernels

    got = stable(kernels.activation("softplus"), [1000.0, -710.0, 1e-8])
    assert got[0] == 1000.0 and close(got[1], mpmath.exp(-710)) and close(got[2], mpmath.log1p(mpmath.exp(1e-8)))


def test_gauss_clipped():
    x2 = rw.gauss_clipped(sp.exp(-t**2 / 2))
    assert x2.has(rw.Clip)
    _, caught = naive(lambda: np.exp(-np.float64(1e200) ** 2 / 2))
    assert RuntimeWarning in caught
    from derive import kernels

    assert stable(kernels.activation("gelu").derivative, [1e200, -1e200]).tolist() == [1.0, 0.0]


def test_silu_prime():
    out = rw.silu_prime(silu(t) + sigmoid(t) * (1 - silu(t)))
    assert out == sigmoid(t) * (1 + t * sigmoid(-t))
    assert naive(lambda: 1e17 * expit(1e17) + expit(1e17) * (1 - 1e17 * expit(1e17)))[0] == 0.0
    from derive import kernels

    assert stable(kernels.activation("silu").derivative, [1e17])[0] == 1.0


def _sig(v):
    return 1 / (1 + mpmath.exp(-mpmath.mpf(v)))


def _softmax(z):
    e = [mpmath.exp(mpmath.mpf(v)) for v in z]
    return [v / mpmath.fsum(e) for v in e]


def test_softmax_residual():
    y = sp.Symbol("y", real=True)
    assert rw.softmax_residual_rule(rw.softmax(t) - y) == rw.softmax_residual(t, y)
    z = np.array([50.0, -50.0, 0.0])
    e = np.exp(z - z.max())
    assert naive(lambda: e[0] / e.sum() - 1.0)[0] == 0.0
    from derive import kernels

    got = stable(kernels.get("softmax", "cce").delta, z, [1.0, 0.0, 0.0])
    a = _softmax(z)
    assert close(got[0], a[0] - 1)


def test_softmax_jacobian_product_and_its_residual_form():
    y = sp.Symbol("y", real=True)
    A = rw.softmax(t)
    g = sp.sign(A - y)
    assert rw.softmax_jacobian_product((g - rw.RowSum(A * g)) * A) == rw.softmax_vjp(t, g)
    assert rw.vjp_of_residual(rw.softmax_vjp(t, rw.softmax_residual(t, y))) == rw.softmax_vjp_residual(t, y)
    # a (g - sum a g) at z = [1e-8, 0], y = 0: a_0 - a_1 = 5e-9 loses half its digits naively
    z = np.array([1e-8, 0.0])
    a = np.exp(z) / np.exp(z).sum()
    g0 = a
    naive_delta = a * (g0 - (a * g0).sum())
    a_mp = _softmax(z)
    want = a_mp[0] * (a_mp[0] - (a_mp[0] ** 2 + a_mp[1] ** 2))
    assert not close(naive_delta[0], want, rel=1e-10)
    from derive import kernels

    assert close(stable(kernels.get("softmax", "quadratic").delta, z, [0.0, 0.0])[0], want)


def test_softmax_bce_vjp():
    from derive.compile.generate import delta_expr

    assert delta_expr("softmax", "bce") == rw.softmax_odds_vjp(sp.Symbol("z", real=True), sp.Symbol("y", real=True))
    z = np.array([1000.0, 0.0, -1000.0])
    e = np.exp(z - z.max())
    a = e / e.sum()
    y = np.array([1.0, 0.0, 0.0])
    value, caught = naive(lambda: a * np.sum((a - y) / (a - 1)) - y - a * (y - 1) / (1 - a))
    assert np.isnan(value[0]) and RuntimeWarning in caught
    from derive import kernels

    np.testing.assert_array_equal(stable(kernels.get("softmax", "bce").delta, z, y), [0.0, 0.0, 0.0])


def test_each_rule_sits_under_the_heading_of_its_phase():
    """The source's section headings ``# --- phase "p"`` agree with the phase each rule declares."""
    import inspect
    import re

    from derive.compile import loss_rules, underflow

    lines = inspect.getsource(rw).splitlines()
    names = {id(v): k for k, v in vars(rw).items() if isinstance(v, rw.Rule)}
    elsewhere = {id(r) for r in (*loss_rules.RULES, underflow.underflow_product)}  # with their own headings
    assert all(id(r) in names or id(r) in elsewhere for r in rw.RULES)
    assert underflow.underflow_product.phase == "residuals" and rw.RESIDUALS[0] is underflow.underflow_product
    for r in (r for r in rw.RULES if id(r) not in elsewhere):
        at = next(n for n, line in enumerate(lines) if line.startswith(f"{names[id(r)]} = "))
        heading = next(line for line in reversed(lines[:at]) if line.startswith("# --- phase"))
        assert re.match(r'# --- phase "([^"]+)"', heading).group(1) == r.phase, names[id(r)]


def test_phases_group_rules_in_order_and_refuse_an_unknown_phase():
    assert [r.phase for phase in rw.PHASES for r in phase] == sorted(
        (r.phase for r in rw.RULES), key=rw.PHASE_ORDER.index)
    assert rw.LOWERING == (rw.lower_named,) and rw.stabilize(relu(t) + 1, rw.PHASES[:4]) == relu(t) + 1
    try:
        rw.Rule("tidy", t, u)
    except ValueError as err:
        assert "tidy" in str(err) and "lowering" in str(err)
    else:
        raise AssertionError("an unknown phase was accepted")
