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


# ---------------------------------------------------------------- tolerances a user can tune


def tanh_quadratic_textbook(z, y):
    return (np.tanh(z) - y) * (1 - np.tanh(z) ** 2)


def sigmoid_prime_textbook(z):
    return expit(z) * (1 - expit(z))


def cce_loss_log_softmax(z, y):
    from scipy.special import log_softmax

    return -(y * log_softmax(z, axis=-1)).sum(axis=-1)


EPS = float(np.finfo(np.float64).eps)
# (kernel, activation, loss, quantity, atol): each loses every relative digit where the truth is below
# eps (1 - tanh(37)^2 and 1 - expit(37) round to 0), by at most eps |a - y| (targets up to 1e4) there
TEXTBOOK = [
    (tanh_quadratic_textbook, "tanh", "quadratic", "delta", 2e-12),
    (sigmoid_prime_textbook, "sigmoid", None, "derivative", EPS),
    (cce_loss_log_softmax, "softmax", "cce", "loss", EPS),
]
IDS = ["tanh-quadratic", "sigmoid-prime", "log_softmax-cce"]


@pytest.mark.parametrize("fn, activation, loss, quantity, atol", TEXTBOOK, ids=IDS)
def test_textbook_kernels_fail_by_default_and_say_the_atol_that_passes(fn, activation, loss, quantity, atol):
    with pytest.raises(KernelMismatch) as failed:
        assert_kernel_matches(fn, activation, loss, quantity, max_examples=5)
    message = str(failed.value)
    assert "relative error 1.0" in message  # the truth is ~1e-32, the kernel returned 0
    needed = float(re.search(r"the smallest atol that passes this example: (\S+)", message).group(1))
    assert 0 < needed <= atol
    assert "atol 0 + rtol 1e-12 of the value and of each input's perturbation" in message


@pytest.mark.parametrize("fn, activation, loss, quantity, atol", TEXTBOOK, ids=IDS)
def test_textbook_kernels_pass_with_the_stated_atol(fn, activation, loss, quantity, atol):
    assert_kernel_matches(fn, activation, loss, quantity, atol=atol, max_examples=40)


@pytest.mark.parametrize("fn, activation, loss, quantity, atol", TEXTBOOK, ids=IDS)
@pytest.mark.parametrize("factor", [2.0, 1.001])
def test_no_tolerance_lets_a_wrong_constant_pass(fn, activation, loss, quantity, atol, factor):
    def wrong(*args):
        return factor * fn(*args)

    for options in (dict(atol=atol), dict(atol=atol, rtol=1e-6)):
        with pytest.raises(KernelMismatch, match="relative error"):
            assert_kernel_matches(wrong, activation, loss, quantity, max_examples=20, **options)


def test_the_stated_atol_passes_the_failing_example_and_less_does_not():
    from derive.testing.matching import check_output

    z = np.array([[37.0, -37.0]])
    y = np.array([[1.0, 0.0]])
    inputs = {"z": z, "y": y}
    out = tanh_quadratic_textbook(z, y)
    with pytest.raises(KernelMismatch) as failed:
        check_output(out, "tanh", "quadratic", "delta", inputs)
    needed = float(re.search(r"passes this example: (\S+)", str(failed.value)).group(1))
    check_output(out, "tanh", "quadratic", "delta", inputs, atol=needed)
    with pytest.raises(KernelMismatch):
        check_output(out, "tanh", "quadratic", "delta", inputs, atol=needed / 2)


def test_rtol_is_relative_and_scales_the_perturbations():
    # off by a relative 1e-6: fails at the default 1e-12, passes with rtol 1e-5, not with rtol 1e-7
    def off(z, y):
        return (expit(z) - y) * (1 + 1e-6)

    with pytest.raises(KernelMismatch):
        assert_kernel_matches(off, "sigmoid", "bce", max_examples=5)
    assert_kernel_matches(off, "sigmoid", "bce", rtol=1e-5, max_examples=20)
    with pytest.raises(KernelMismatch, match="rtol 1e-07"):
        assert_kernel_matches(off, "sigmoid", "bce", rtol=1e-7, max_examples=5)


def test_nan_gets_no_atol():
    def nan_at_the_edge(z, y):
        return np.where(np.abs(z) > 700, np.nan, expit(z) - y)

    with pytest.raises(KernelMismatch, match="no atol passes"):
        assert_kernel_matches(nan_at_the_edge, "sigmoid", "bce", atol=1.0, max_examples=2)


@pytest.mark.parametrize("bound", [1.0, 20.0])
def test_edge_inputs_stay_within_max_magnitude(bound):
    seen = []

    def recording(z, y):
        seen.append(float(np.max(np.abs(z), initial=0.0)))
        return expit(z) - y

    assert_kernel_matches(recording, "sigmoid", "bce", max_magnitude=bound, max_examples=5)
    assert seen and max(seen) <= bound
    if bound == 20.0:
        assert 18.0 in seen  # the edge rows inside the bound are still tried


def test_edges_can_be_left_out():
    calls = []

    def counting(z, y):
        calls.append(z)
        return expit(z) - y

    assert_kernel_matches(counting, "sigmoid", "bce", edges=False, max_examples=3)
    assert 1 <= len(calls) <= 3
    calls.clear()
    assert_kernel_matches(counting, "sigmoid", "bce", max_examples=3)
    assert len(calls) >= len(EDGE_LOGITS)


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "1e-3"])
def test_bad_tolerances_are_refused(bad):
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        assert_kernel_matches(lambda z, y: expit(z) - y, "sigmoid", "bce", atol=bad)
    with pytest.raises(ValueError, match="rtol must be a finite number >= 0"):
        assert_kernel_matches(lambda z, y: expit(z) - y, "sigmoid", "bce", rtol=bad)


def test_every_parameter_is_explained_in_the_docstring():
    import inspect

    doc = assert_kernel_matches.__doc__
    explained = doc.split("Parameters:")[1]
    for name in inspect.signature(assert_kernel_matches).parameters:
        assert re.search(rf"^\s+(\w+, )*{name}(, \w+)*:", explained, re.M), name
    assert "atol + rtol |truth| + sum_v" in doc  # how atol, rtol and the conditioning term combine


def test_kernels_of_torch_tensors():
    torch = pytest.importorskip("torch")

    def torch_delta(z, y):
        assert isinstance(z, torch.Tensor) and isinstance(y, torch.Tensor)
        return torch.sigmoid(z) - y

    assert_kernel_matches(torch_delta, "sigmoid", "bce", to_array=torch.from_numpy, max_examples=10)
    with pytest.raises(KernelMismatch):
        assert_kernel_matches(lambda z, y: 2 * (torch.sigmoid(z) - y), "sigmoid", "bce",
                              to_array=torch.from_numpy, max_examples=5)
