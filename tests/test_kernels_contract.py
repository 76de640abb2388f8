"""The public kernel contract (DESIGN.md "Numeric kernel contract"), parametrised from the catalogue.

Names, errors, dtypes, shapes, broadcasting, conventions at the edge points, and
stability: no nan, no inf, no warning for any finite input (warnings are errors here).
Reference values are independent: mpmath, or plain definitions written in the test.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest

from derive import PairingError, UnknownNameError, kernels
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings, valid_pairings

INVALID = [(a, lo, why) for a, lo, why in pairings() if why is not None]
VALID = valid_pairings()
ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
EDGES = [1000.0, -1000.0, 745.0, -745.0, 710.0, -710.0, 50.0, -50.0, 1e-8, -1e-8, 0.0, -0.0]
DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def logits(activation, dtype, rng=None, huge=False):
    """Edge logits plus wide random ones: (rows, units). ``huge`` adds +-0.9 of the largest float
    (a loss of those can be beyond the largest float: inf is then its right value)."""
    rng = rng or np.random.default_rng(0)
    big = float(np.finfo(dtype).max) * 0.9
    if activation == "softmax":
        rows = [[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [-745.0, 745.0, 0.0], [710.0, 710.0, -710.0],
                [50.0, -50.0, 1e-8], [1e-8, -1e-8, 0.0]] + ([[big, -big, 0.0], [-big, big, big]] if huge else [])
        return np.array(rows + rng.uniform(-1000, 1000, (30, 3)).tolist(), dtype)
    extra = [1e17, -1e17] + ([big, -big] if huge else [])
    col = np.array(EDGES + extra + rng.uniform(-1000, 1000, 40).tolist() + rng.normal(0, 5, 40).tolist())
    return np.stack([col, col[::-1], -col], axis=-1).astype(dtype)


def targets(loss, shape, dtype, rng=None):
    rng = rng or np.random.default_rng(1)
    if LOSSES[loss].targets_sum_to_one:
        y = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        y[0] = np.eye(shape[-1])[0]  # one-hot on the top class of [1000, 0, -1000]
        return y.astype(dtype)
    y = rng.uniform(0, 1, shape)
    y[:3] = [[0.0] * shape[-1], [1.0] * shape[-1], [0.5] * shape[-1]]
    return y.astype(dtype)


# --- names and errors ------------------------------------------------------------------------


@pytest.mark.parametrize("activation,loss,why", INVALID)
def test_invalid_pairing_raises_with_the_catalogue_reason(activation, loss, why):
    with pytest.raises(PairingError) as err:
        kernels.get(activation, loss)
    assert why in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("bad", ["sigmoyd", "", "Sigmoid", None, 3])
def test_unknown_activation_lists_the_known_names(bad):
    with pytest.raises(UnknownNameError) as err:
        kernels.get(bad, "bce")
    for name in ACTIVATIONS:
        assert name in str(err.value)
    with pytest.raises(UnknownNameError):
        kernels.activation(bad)


@pytest.mark.parametrize("bad", ["log-likelihood", "BCE", None])
def test_unknown_loss_lists_the_known_names(bad):
    with pytest.raises(UnknownNameError) as err:
        kernels.get("sigmoid", bad)
    for name in LOSSES:
        assert name in str(err.value)


def test_every_valid_pairing_has_a_kernel():
    assert {(k.activation, k.loss_name) for k in (kernels.get(a, lo) for a, lo in VALID)} == set(VALID)


def test_softmax_has_a_jacobian_not_a_derivative():
    f = kernels.activation("softmax")
    with pytest.raises(ValueError, match="jacobian"):
        f.derivative(np.zeros(3))


# --- dtype, shape, broadcasting ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", VALID)
def test_dtype_and_shapes(activation, loss, dtype):
    k = kernels.get(activation, loss)
    z = np.linspace(-3, 3, 2 * 4 * 5).reshape(2, 4, 5).astype(dtype)
    y = np.full((2, 4, 5), 0.2, dtype)
    x = np.ones((2, 4, 3), dtype)
    assert k.loss(z, y).shape == (2, 4) and k.loss(z, y).dtype == dtype
    for out in (k.delta(z, y), k.grad_b(z, y)):
        assert out.shape == z.shape and out.dtype == dtype
    gw = k.grad_w(x, z, y)
    assert gw.shape == (2, 4, 5, 3) and gw.dtype == dtype
    np.testing.assert_array_equal(gw, k.delta(z, y)[..., :, None] * x[..., None, :])
    np.testing.assert_array_equal(k.grad_b(z, y), k.delta(z, y))


@pytest.mark.parametrize("activation,loss", VALID)
def test_integers_promote_to_float64(activation, loss):
    k = kernels.get(activation, loss)
    z, y = np.array([[1, 0, -2]]), np.array([[0, 1, 0]])
    assert k.delta(z, y).dtype == np.float64 and k.loss(z, y).dtype == np.float64
    np.testing.assert_array_equal(k.delta(z, y), k.delta(z.astype(float), y.astype(float)))
    assert kernels.activation(activation)(z).dtype == np.float64


@pytest.mark.parametrize("activation,loss", VALID)
def test_broadcasting_matches_explicit_repeat(activation, loss):
    k = kernels.get(activation, loss)
    z = np.array([[0.3, -1.2, 2.0], [4.0, 0.0, -7.0]])
    y = np.array([0.2, 0.5, 0.3])
    full = np.broadcast_to(y, z.shape).copy()
    np.testing.assert_array_equal(k.delta(z, y), k.delta(z, full))
    np.testing.assert_array_equal(k.loss(z, y), k.loss(z, full))


@pytest.mark.parametrize("activation,loss", [VALID[0], ("softmax", "cce")])
def test_shape_mismatch_names_both_shapes(activation, loss):
    k = kernels.get(activation, loss)
    with pytest.raises(ValueError) as err:
        k.delta(np.zeros((4, 3)), np.zeros((4, 2)))
    assert "(4, 3)" in str(err.value) and "(4, 2)" in str(err.value)
    with pytest.raises(ValueError) as err:
        k.grad_w(np.zeros((5, 2)), np.zeros((4, 3)), np.zeros((4, 3)))
    assert "(5, 2)" in str(err.value) and "(4, 3)" in str(err.value)


def test_non_real_input_is_refused():
    with pytest.raises(TypeError, match="real"):
        kernels.get("sigmoid", "bce").delta(np.array(["a"]), np.array([1.0]))


def test_float32_stays_float32_without_promotion_by_constants():
    z = np.array([1.5, -2.0], np.float32)
    for name in ACTIVATIONS:
        f = kernels.activation(name)
        assert f(z).dtype == np.float32
        if name != "softmax":
            assert f.derivative(z).dtype == np.float32


# --- conventions -------------------------------------------------------------------------------


def test_relu_derivative_at_zero_is_zero():
    d = kernels.activation("relu").derivative(np.array([-0.0, 0.0, 1e-300, -1e-300]))
    np.testing.assert_array_equal(d, [0.0, 0.0, 1.0, 0.0])


def test_l1_subgradient_at_zero_is_zero():
    np.testing.assert_array_equal(kernels.get("identity", "l1").delta([0.5, 0.0], [0.5, 1.0]), [0.0, -1.0])


def test_leaky_relu_slope_below_zero():
    np.testing.assert_array_equal(kernels.activation("leaky_relu").derivative([-1.0, 0.0, 2.0]), [0.01, 0.01, 1.0])


def test_softmax_jacobian_against_definition():
    z = np.array([[0.5, -1.0, 2.0]])
    s = np.exp(z[0]) / np.exp(z[0]).sum()
    want = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(kernels.activation("softmax").jacobian(z)[0], want, rtol=1e-14, atol=1e-16)


# --- stability: finite, no warning, right where it matters --------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", VALID)
def test_finite_without_warning_for_finite_input(activation, loss, dtype):
    k = kernels.get(activation, loss)
    z = logits(activation, dtype)
    y = targets(loss, z.shape, dtype)
    for out in (k.loss(z, y), k.delta(z, y), k.grad_w(np.ones((z.shape[0], 2), dtype), z, y)):
        assert out.dtype == dtype
        assert np.all(np.isfinite(out)), np.argwhere(~np.isfinite(out))[:5]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("loss", [lo for a, lo in VALID if a == "softmax"])
def test_softmax_delta_finite_when_logits_are_a_float_range_apart(loss, dtype):
    # z - max z overflows to -inf there; the delta is bounded, so it stays finite
    z = logits("softmax", dtype, huge=True)
    out = kernels.get("softmax", loss).delta(z, targets(loss, z.shape, dtype))
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_finite_without_warning(name, dtype):
    f = kernels.activation(name)
    z = logits(name, dtype, huge=True)
    out = f(z)
    second = f.jacobian(z) if name == "softmax" else f.derivative(z)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(second))


mpmath.mp.dps = 50


def _sig(v):
    return 1 / (1 + mpmath.exp(-v))


def _softplus(v):
    return mpmath.log1p(mpmath.exp(v))


# independent definitions (mpmath), one per activation: f and f'
MP = {
    "sigmoid": (_sig, lambda v: _sig(v) * _sig(-v)),
    "tanh": (mpmath.tanh, lambda v: mpmath.sech(v) ** 2),
    "softplus": (_softplus, _sig),
    "elu": (lambda v: v if v > 0 else mpmath.expm1(v), lambda v: 1 if v > 0 else mpmath.exp(v)),
    "silu": (lambda v: v * _sig(v), lambda v: _sig(v) * (1 + v * _sig(-v))),
    "gelu": (lambda v: v * mpmath.ncdf(v), lambda v: mpmath.ncdf(v) + v * mpmath.npdf(v)),
}


@pytest.mark.parametrize("name", list(MP))
def test_activation_and_derivative_match_mpmath_at_edges(name):
    f, df = MP[name]
    z = np.array(EDGES + [0.7, -1.3, 3.0, -20.0, 20.0, 37.0, -37.0])
    got, dgot = kernels.activation(name)(z), kernels.activation(name).derivative(z)
    for v, g, dg in zip(z, got, dgot):
        for have, want in ((g, f(mpmath.mpf(v))), (dg, df(mpmath.mpf(v)))):
            want = float(want)
            assert abs(have - want) <= 1e-13 * abs(want) + 1e-300, (name, v, have, want)


def test_sigmoid_bce_at_saturated_logits():
    k = kernels.get("sigmoid", "bce")
    z = np.array([[50.0, -50.0, 1000.0, -1000.0]])
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss_want = float(_softplus(-50) + _softplus(-50) + 1000 + 1000)
    assert abs(k.loss(z, y)[0] - loss_want) <= 1e-14 * loss_want
    d = k.delta(z, y)[0]
    assert d[0] == pytest.approx(float(-_sig(-50)), rel=1e-13)  # sigma(50) - 1, not 0
    assert d[1] == pytest.approx(float(_sig(-50)), rel=1e-13)
    assert d[2] == 1.0 and d[3] == -1.0


def test_softmax_cce_at_a_saturated_row():
    k = kernels.get("softmax", "cce")
    z, y = np.array([1000.0, 0.0, -1000.0]), np.array([1.0, 0.0, 0.0])
    np.testing.assert_array_equal(k.delta(z, y), [0.0, 0.0, 0.0])
    assert k.loss(z, y) == 0.0
    z2 = np.array([40.0, 0.0, -3.0])
    want = mpmath.log(1 + mpmath.exp(-40) + mpmath.exp(-43))
    assert k.loss(z2, y) == pytest.approx(float(want), rel=1e-13)  # exact at the top class
    assert k.delta(z2, y)[0] == pytest.approx(-float(1 - 1 / (1 + mpmath.exp(-40) + mpmath.exp(-43))), rel=1e-13)


def test_softmax_bce_at_a_saturated_row():
    k = kernels.get("softmax", "bce")
    z, y = np.array([1000.0, 0.0, -1000.0]), np.array([1.0, 0.0, 0.0])
    # loss: -log a_0 - log(1 - a_1) - log(1 - a_2), each term ~e^{-1000}: 0 in float64
    assert k.loss(z, y) == 0.0
    # delta_j = a_j sum(y) - y_j + w_j - a_j sum(w), w = (1 - y) a/(1 - a): finite, e^{-1000} ~ 0
    np.testing.assert_array_equal(k.delta(z, y), [0.0, 0.0, 0.0])
    y2 = np.array([0.0, 1.0, 0.0])
    # -log(1 - a_0) = 1000 + log1p(e^-1000 ...) ; -log a_1 = 1000
    assert k.loss(z, y2) == pytest.approx(2000.0, rel=1e-15)
    d = k.delta(z, y2)
    assert np.all(np.isfinite(d))


def test_gelu_derivative_tail_uses_erfc_not_one_plus_erf():
    d = kernels.activation("gelu").derivative(np.array([-10.0]))[0]
    want = float(mpmath.ncdf(-10) - 10 * mpmath.npdf(-10))
    assert d == pytest.approx(want, rel=1e-13)


# --- import cost -------------------------------------------------------------------------------


def test_import_kernels_does_not_import_sympy():
    code = "import sys, derive.kernels; print('sympy' in sys.modules, 'derive.symbolic.catalogue' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- what the derivation assumed is checked, not assumed --------------------------------------


@pytest.mark.parametrize("y", [[1.0, 1.0, 0.0], [0.5, 0.0, 0.0], [np.nan, 1.0, 0.0]])
def test_softmax_cce_refuses_targets_that_do_not_sum_to_one(y):
    """Its delta a - y holds only for sum y = 1; for [1, 1, 0] the loss's gradient is 2a - y."""
    k = kernels.get("softmax", "cce")
    with pytest.raises(ValueError, match="sum to 1 over the last axis"):
        k.delta([1.0, 2.0, 3.0], y)
    with pytest.raises(ValueError, match="sum to 1"):
        k.loss([1.0, 2.0, 3.0], y)


def test_soft_labels_that_round_away_from_one_are_accepted():
    rng = np.random.default_rng(1)
    y = rng.dirichlet(np.ones(1000), size=8).astype(np.float32)
    assert not np.all(y.sum(-1, dtype=np.float64) == 1.0)
    assert np.isfinite(kernels.get("softmax", "cce").delta(np.zeros((8, 1000), np.float32), y)).all()


def test_sigmoid_cce_makes_no_such_assumption():
    delta = kernels.get("sigmoid", "cce").delta([0.0, 0.0], [1.0, 1.0])  # multi-label rows are fine
    np.testing.assert_array_equal(delta, [-0.5, -0.5])


def test_an_empty_unit_axis_is_refused():
    with pytest.raises(ValueError, match=r"\(2, 0\).*must not be empty"):
        kernels.get("softmax", "cce").delta(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(ValueError, match="must not be empty"):
        kernels.activation("softmax").jacobian(np.zeros((0,)))


def test_grad_w_names_the_argument_at_fault():
    with pytest.raises(ValueError, match="^x must have at least one axis"):
        kernels.get("sigmoid", "bce").grad_w(1.0, np.zeros(3), np.zeros(3))


def test_long_double_stays_long_double_through_gelu():
    z = np.array([-3.0, 0.5], dtype=np.longdouble)
    assert kernels.activation("gelu")(z).dtype == np.longdouble
    assert kernels.get("gelu", "huber").delta(z, 0.0).dtype == np.longdouble


def test_swapped_names_say_the_activation_comes_first():
    with pytest.raises(ValueError, match="the activation comes first"):
        kernels.get("bce", "sigmoid")


def test_an_empty_unit_axis_through_y_is_refused():
    with pytest.raises(ValueError, match=r"\(2, 0\).*must not be empty"):
        kernels.get("sigmoid", "mse").loss(np.zeros((2, 1)), np.zeros((2, 0)))


@pytest.mark.parametrize("loss", ["bce", "cce", "quadratic"])
def test_softmax_of_one_unit_is_refused(loss):
    """softmax of one unit is 1: outside the range (0, 1) that made the pairing valid (bce: log 0)."""
    with pytest.raises(ValueError, match="at least 2 units"):
        kernels.get("softmax", loss).loss(np.array([[2.0]]), np.array([[1.0]]))


def test_target_sum_tolerance_is_the_targets_own_rounding():
    k = kernels.get("softmax", "cce")
    thirds = np.full(3, 1 / 3, np.float16)  # sums to 0.99976 in float16 rounding: a fine target
    assert np.isfinite(k.delta(np.zeros(3), thirds)).all()
    wide = np.zeros(2**21, np.float32)  # all-zero targets stay refused however wide the row
    with pytest.raises(ValueError, match="sums to 0"):
        k.delta(wide, wide)
