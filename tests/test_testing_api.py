"""derive.testing: assert_kernel_matches accepts a correct hand-written kernel and rejects broken ones
with one clear message; the oracle agrees with an independent mpmath implementation; the strategies
produce what they are named for.
"""

import re

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit, xlogy

from derive import PairingError, UnknownNameError
from derive.symbolic.catalogue import LOSSES
from derive.testing import (
    EDGE_LOGITS,
    KernelMismatch,
    activation_truth,
    assert_kernel_matches,
    kernel_inputs,
    probability_rows,
    row_shapes,
    soft_labels,
    targets,
    truth,
)

# ---------------------------------------------------------------- hand-written kernels


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def bce_loss(z, y):
    """y softplus(-z) + (1 - y) softplus(z), summed: stable."""
    return (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum(axis=-1)


def softmax_jacobian(z):
    """diag(a) - a a^T with the diagonal a_i sum_{k != i} a_k (no 1 - a_i cancellation)."""
    s = softmax(z)
    off = np.ones(s.shape[-1]) - np.eye(s.shape[-1])
    jac = -s[..., :, None] * s[..., None, :]
    others = (s[..., None, :] * off).sum(axis=-1)
    idx = np.arange(s.shape[-1])
    jac[..., idx, idx] = s * others
    return jac


CORRECT = [
    ("sigmoid", "bce", "delta", lambda z, y: expit(z) - y),
    ("sigmoid", "bce", "loss", bce_loss),
    ("softmax", "cce", "delta", lambda z, y: softmax(z) - y),
    ("softmax", "cce", "grad_w", lambda x, z, y: (softmax(z) - y)[..., :, None] * x[..., None, :]),
    ("sigmoid", None, "derivative", lambda z: expit(z) * expit(-z)),
    ("softmax", None, "jacobian", softmax_jacobian),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("activation,loss,quantity,fn", CORRECT, ids=[f"{a}-{lo}-{q}" for a, lo, q, _ in CORRECT])
def test_accepts_correct_hand_written_kernel(activation, loss, quantity, fn, dtype):
    assert_kernel_matches(fn, activation, loss, quantity=quantity, dtype=dtype)


def rejection(fn, activation, loss, quantity, **options):
    with pytest.raises(KernelMismatch) as err:
        assert_kernel_matches(fn, activation, loss, quantity=quantity, **options)
    message = str(err.value)
    for part in ("does not match the symbolic derivation", "inputs: z = np.array(", "expected", "got",
                 "relative error", "allowed"):
        assert part in message, message
    return message


def relative_error(message):
    return float(re.search(r"relative error (\S+);", message).group(1))


def test_rejects_missing_constant_factor():
    # sse's delta is 2 (a - y) a (1 - a): without the 2 every value is half the truth
    message = rejection(lambda z, y: (expit(z) - y) * expit(z) * expit(-z), "sigmoid", "sse", "delta")
    assert relative_error(message) == pytest.approx(0.5, rel=1e-6), message


def test_rejects_flipped_sign():
    message = rejection(lambda z, y: y - softmax(z), "softmax", "cce", "delta")
    assert relative_error(message) == pytest.approx(2.0, rel=1e-6), message


def test_rejects_softmax_without_max_shift():
    message = rejection(lambda z, y: softmax_naive(z) - y, "softmax", "cce", "delta")
    assert re.search(r"got +nan", message), message
    assert "z = np.array([[ 1000., -1000.]]" in message, message  # the largest logits fail first
    assert "overflow encountered in exp" in message, message


def test_rejects_bce_loss_through_log_of_sigmoid():
    def log_a(z, y):
        a = expit(z)
        return -(xlogy(y, a) + xlogy(1 - y, 1 - a)).sum(axis=-1)

    message = rejection(log_a, "sigmoid", "bce", "loss")
    assert re.search(r"got +inf", message), message
    assert "-1000." in message, message


def test_rejects_relative_error_of_one_in_a_million():
    message = rejection(lambda z, y: (expit(z) - y) * (1 + 1e-6), "sigmoid", "bce", "delta")
    assert relative_error(message) == pytest.approx(1e-6, rel=1e-3), message


def test_rejects_a_generated_counterexample_and_shrinks_it():
    # right at every edge point, wrong for 100 < z < 700: only generation finds it
    def wrong_inside(z, y):
        return np.where((z > 100) & (z < 700), 0.0, expit(z) - y)

    message = rejection(wrong_inside, "sigmoid", "bce", "delta", max_examples=100)
    zs = [float(v) for v in re.search(r"z = np\.array\(([^)]*)\)", message).group(1).strip("[], dtype=float64").split(",")]
    assert any(100 < v < 700 for v in zs), message


def test_rejects_wrong_dtype_and_warnings():
    with pytest.raises(KernelMismatch, match="returned dtype float64"):
        assert_kernel_matches(lambda z, y: (expit(z) - y).astype(np.float64), "sigmoid", "bce", dtype=np.float32)

    def warns(z, y):
        with np.errstate(over="warn"):
            np.exp(np.float64(1000))
        return expit(z) - y

    with pytest.raises(KernelMismatch, match="the kernel warned: RuntimeWarning: overflow"):
        assert_kernel_matches(warns, "sigmoid", "bce", max_examples=1)


def test_bad_arguments_raise_documented_errors():
    with pytest.raises(PairingError, match="relu's range"):
        assert_kernel_matches(lambda z, y: z, "relu", "bce")
    with pytest.raises(UnknownNameError, match="known activations"):
        assert_kernel_matches(lambda z, y: z, "sigmoidd", "bce")
    with pytest.raises(ValueError, match="unknown quantity 'hessian'"):
        assert_kernel_matches(lambda z, y: z, "sigmoid", "bce", quantity="hessian")
    with pytest.raises(ValueError, match="needs a loss"):
        assert_kernel_matches(lambda z, y: z, "sigmoid", quantity="delta")
    with pytest.raises(ValueError, match="'jacobian'"):
        assert_kernel_matches(lambda z: z, "softmax", quantity="derivative")


# ---------------------------------------------------------------- the oracle vs an independent mpmath


def sig(t):
    return 1 / (1 + mpmath.exp(-t))


INDEPENDENT = {
    # (activation, loss): (loss(z, y), delta_j(z, y)) for one unit, written by hand
    ("sigmoid", "bce"): (lambda z, y: y * mpmath.log1p(mpmath.exp(-z)) + (1 - y) * mpmath.log1p(mpmath.exp(z)),
                         lambda z, y: sig(z) - y),
    ("tanh", "quadratic"): (lambda z, y: (mpmath.tanh(z) - y) ** 2 / 2,
                            lambda z, y: (mpmath.tanh(z) - y) * mpmath.sech(z) ** 2),
    ("gelu", "huber"): (None, lambda z, y: mpmath.sign(z * mpmath.ncdf(z) - y)
                        * min(abs(z * mpmath.ncdf(z) - y), 1) * (mpmath.ncdf(z) + z * mpmath.npdf(z))),
}


@pytest.mark.parametrize("pair", list(INDEPENDENT), ids=lambda p: "-".join(p))
@pytest.mark.parametrize("z", [-1000.0, -745.0, -37.0, -1e-8, 0.0, 5e-324, 18.0, 710.0, 1000.0])
@pytest.mark.parametrize("y", [0.0, 0.25, 1.0])
def test_oracle_matches_independent_formulas(pair, z, y):
    loss_fn, delta_fn = INDEPENDENT[pair]
    cost, (delta,) = truth(*pair).row([z], [y])
    def close(got, want):  # 45 digits, or below 1e-900; pytest.approx takes no mpf tolerance
        return abs(got - want) <= max(mpmath.mpf(10) ** -45 * abs(want), mpmath.mpf(10) ** -900)

    with mpmath.workdps(1000):
        want = delta_fn(mpmath.mpf(z), mpmath.mpf(y))
        assert close(delta, want), (delta, want)
        if loss_fn is not None:
            want = loss_fn(mpmath.mpf(z), mpmath.mpf(y))
            assert close(cost, want), (cost, want)


def test_oracle_keeps_what_as_written_floats_lose():
    """tanh' at 20, 1 - sigmoid inside bce at 40, gelu at -30, elu at a subnormal: all nonzero and right."""
    (_, ), (tanh_prime, ) = activation_truth("tanh").row([20.0])
    assert tanh_prime == pytest.approx(4 * mpmath.exp(-40) / (1 + mpmath.exp(-40)) ** 2, rel=1e-45)
    (gelu_value, ), _ = activation_truth("gelu").row([-30.0])
    assert gelu_value == pytest.approx(-30 * mpmath.ncdf(-30), rel=1e-45) and gelu_value < 0
    (elu_value, ), _ = activation_truth("elu").row([-5e-324])
    assert elu_value == pytest.approx(mpmath.expm1(mpmath.mpf(-5e-324)), rel=1e-45)
    cost, _ = truth("sigmoid", "bce").row([40.0], [0.0])
    assert cost == pytest.approx(40 + mpmath.log1p(mpmath.exp(-40)), rel=1e-45)
    values, jac = activation_truth("softmax", 3).row([1000.0, 0.0, -1000.0])
    assert values[2] == pytest.approx(mpmath.exp(-2000) / (1 + mpmath.exp(-1000) + mpmath.exp(-2000)), rel=1e-45)
    assert jac[0][0] == pytest.approx(values[0] * (values[1] + values[2]), rel=1e-45)


# ---------------------------------------------------------------- strategies


@given(st.data())
def test_targets_follow_the_catalogue(data):
    name = data.draw(st.sampled_from(list(LOSSES)))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    shape = data.draw(row_shapes(1, 4))
    y = data.draw(targets(name, dtype, shape))
    lo = LOSSES[name]
    assert y.dtype == dtype and y.shape == shape
    assert all(lo.targets.contains(sp.Float(float(v))) == sp.true for v in y.ravel())
    if lo.targets_sum_to_one:
        assert np.all(y.sum(axis=-1) == 1)  # exactly: the derivation substitutes sum y = 1


@given(probability_rows(np.float32, (2, 3)), soft_labels(np.float64, (4,)))
def test_probability_rows_and_soft_labels(p, s):
    assert np.all(p >= 0) and np.all(p.sum(axis=-1) == 1)
    assert np.all((0 <= s) & (s <= 1))


@given(kernel_inputs("softmax", "cce", np.float32, with_x=True))
def test_kernel_inputs_broadcast(inputs):
    z, y, x = inputs["z"], inputs["y"], inputs["x"]
    assert z.dtype == y.dtype == x.dtype == np.float32 and z.shape[-1] >= 2
    np.broadcast_shapes(z.shape, y.shape)
    np.broadcast_shapes(z.shape[:-1], y.shape[:-1], x.shape[:-1])


def test_edge_logits_are_the_issue_s():
    assert set(EDGE_LOGITS) == {0.0, 1e-8, -1e-8, 18.0, -18.0, 37.0, -37.0, 710.0, -710.0,
                                745.0, -745.0, 1000.0, -1000.0}


@pytest.mark.parametrize("bound", [None, 0, 1e300])
def test_magnitudes_the_oracle_cannot_reach_are_refused(bound):
    from scipy.special import expit

    with pytest.raises(ValueError, match="max_magnitude must be in"):
        assert_kernel_matches(lambda z, y: expit(z) - y, "sigmoid", "bce", max_magnitude=bound)
