"""The entries added in issue 12 (mish, selu, softsign, hard_sigmoid; kl, poisson, log_cosh, hinge).

Each: its valid and invalid pairing rows with their reasons, and its kernels at the inputs where the
textbook form fails, against the mpmath oracle (50 digits), with the textbook form shown failing there.
(The property suites, parametrised from the catalogue, cover them at random inputs too.)
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import PairingError, kernels
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, MISH_MIN, check_pairing, pairings
from derive.symbolic.functions import SELU_ALPHA, SELU_SCALE, xlogx
from derive.testing.reference import activation_truth, truth

LAMBDA_ALPHA = float(SELU_SCALE * SELU_ALPHA)


def _rel(got, want) -> float:
    want = float(want)
    return abs(float(got) - want) / abs(want) if want else abs(float(got))


def _naive(fn):
    """fn() with NumPy's warnings silenced: the textbook forms overflow and divide by zero here."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(fn(), dtype=float)


# --- pairing rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["bce", "cce", "kl"])
def test_hard_sigmoid_is_refused_where_0_and_1_are_outside(loss):
    with pytest.raises(PairingError, match=rf"hard_sigmoid's range \[0, 1\] is not inside \(0, 1\), which {loss} "
                                           r"needs: 0 and 1 are in the range"):
        check_pairing("hard_sigmoid", loss)


def test_poisson_pairs_with_positive_ranges_only():
    rows = {a: why for a, lo, why in pairings() if lo == "poisson"}
    assert {a for a, why in rows.items() if why is None} == {"sigmoid", "softplus", "softmax"}
    assert rows["relu"] == ("relu's range [0, oo) is not inside (0, oo), which poisson needs: 0 is in the range")
    assert "elu's range (-1, oo) is not inside (0, oo)" in rows["elu"]


def test_kl_pairs_like_cce_and_hinge_log_cosh_with_everything():
    for loss in ("kl", "cce"):
        assert {a for a, lo, why in pairings() if lo == loss and why is None} == {"sigmoid", "softmax"}
    for loss in ("hinge", "log_cosh"):
        assert all(why is None for a, lo, why in pairings() if lo == loss)
    assert LOSSES["kl"].targets_sum_to_one and LOSSES["hinge"].targets == sp.FiniteSet(-1, 1)


def test_selu_range_is_shown_to_six_digits_and_kept_exact():
    with pytest.raises(PairingError, match=r"selu's range \(-1\.75810, oo\) is not inside \(0, 1\)"):
        check_pairing("selu", "bce")
    assert ACTIVATIONS["selu"].range.start == -SELU_SCALE * SELU_ALPHA  # exact rationals, not floats
    assert SELU_SCALE == sp.Rational("1.0507009873554804934193349852946") and SELU_ALPHA.q == 10**31


def test_xlogx_is_zero_at_zero_and_x_ln_x_elsewhere():
    assert xlogx(0) == 0 and xlogx(sp.Rational(-1, 2)).rewrite(sp.Piecewise) == 0
    assert sp.simplify(xlogx(sp.E).rewrite(sp.Piecewise) - sp.E) == 0


# --- kernels where the textbook form fails --------------------------------------------------------------


def test_poisson_with_softplus_at_minus_800():
    """log(softplus(-800)) = log(0) and y sigma/softplus = 0/0 in the textbook form; the values are finite."""
    k, z, y = kernels.get("softplus", "poisson"), np.array([[-800.0, 30.0]]), np.array([[2.0, 3.0]])
    want_loss, want_delta = truth("softplus", "poisson", 2).row(z[0], y[0])
    assert _rel(k.loss(z, y)[0], want_loss) < 1e-14
    assert all(_rel(g, w) < 1e-14 for g, w in zip(k.delta(z, y)[0], want_delta))
    sp_, sig = _naive(lambda: np.log1p(np.exp(z))), _naive(lambda: 1 / (1 + np.exp(-z)))
    assert not np.isfinite(_naive(lambda: np.sum(sp_ - y * np.log(sp_)))).all()
    assert np.isnan(_naive(lambda: sig * (1 - y / sp_))[0, 0])


def test_poisson_with_softmax_on_a_saturated_row():
    """a (g - sum a g), g = 1 - y/a: y/a = 1/0 where softmax underflows; the delta a sum(y) - y is finite."""
    k, z, y = kernels.get("softmax", "poisson"), np.array([[1000.0, 0.0, -1000.0]]), np.array([[0.0, 0.0, 1.0]])
    _, want = truth("softmax", "poisson", 3).row(z[0], y[0])
    got = k.delta(z, y)[0]
    assert all(abs(float(g) - float(w)) <= 1e-15 * max(1.0, abs(float(w))) for g, w in zip(got, want))
    a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    g = _naive(lambda: 1 - y / a)
    assert not np.isfinite(_naive(lambda: a * (g - np.sum(a * g)))).all()


@pytest.mark.parametrize("act", ["softmax", "sigmoid"])
def test_kl_at_zero_targets(act):
    """0 ln(0/a) is 0 (the limit), not 0 * -inf = nan; with a row spanning the float range too."""
    k, z = kernels.get(act, "kl"), np.array([[1000.0, 0.0, -1000.0]])
    y = np.array([[0.0, 0.25, 0.75]])
    want_loss, want_delta = truth(act, "kl", 3).row(z[0], y[0])
    assert _rel(k.loss(z, y)[0], want_loss) < 1e-14
    assert all(abs(float(g) - float(w)) <= 1e-15 * max(1.0, abs(float(w))) for g, w in zip(k.delta(z, y)[0], want_delta))
    a = _naive(lambda: 1 / (1 + np.exp(-z)) if act == "sigmoid" else np.exp(z - z.max()) / np.exp(z - z.max()).sum())
    assert np.isnan(_naive(lambda: np.sum(y * np.log(y / a))))


@pytest.mark.parametrize("residual", [1e3, -1e3, 1e-8, 0.75])
def test_log_cosh_far_from_and_near_zero(residual):
    """log(cosh(1e3)) overflows; log(cosh(1e-8)) = 0 where the value is 5e-17; sinh/cosh is inf/inf at 1e3."""
    k, z, y = kernels.get("identity", "log_cosh"), np.array([[residual]]), np.array([[0.0]])
    want_loss, (want_delta,) = truth("identity", "log_cosh", 1).row(z[0], y[0])
    assert _rel(k.loss(z, y)[0], want_loss) < 1e-14 and _rel(k.delta(z, y)[0, 0], want_delta) < 1e-14
    naive_loss = _naive(lambda: np.log(np.cosh(z)))[0, 0]
    naive_delta = _naive(lambda: np.sinh(z) / np.cosh(z))[0, 0]
    if abs(residual) > 700:
        assert not np.isfinite(naive_loss) and np.isnan(naive_delta)
    elif abs(residual) < 1e-4:
        assert _rel(naive_loss, want_loss) == 1.0  # every digit lost: cosh(1e-8) is 1.0


def test_log_cosh_with_tanh_keeps_sech_squared():
    """tanh + log_cosh: delta = tanh(a - y)(1 - a^2); tanh(20)^2 - 1 is 0, the value 1.7e-17."""
    k, z, y = kernels.get("tanh", "log_cosh"), np.array([[20.0]]), np.array([[-1.0]])
    _, (want,) = truth("tanh", "log_cosh", 1).row(z[0], y[0])
    assert _rel(k.delta(z, y)[0, 0], want) < 1e-13
    assert _naive(lambda: np.tanh(np.tanh(z) - y) * (1 - np.tanh(z) ** 2))[0, 0] == 0


def test_log_cosh_with_softmax_keeps_the_top_class():
    """softmax + log_cosh at [50, -50, 0], y on class 1: delta_0 ~ 1e-22, lost by a (g - sum a g) as written."""
    k, z, y = kernels.get("softmax", "log_cosh"), np.array([[50.0, -50.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    _, want = truth("softmax", "log_cosh", 3).row(z[0], y[0])
    got = k.delta(z, y)[0]
    assert all(_rel(g, w) < 1e-12 for g, w in zip(got, want))
    a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    g = np.tanh(a - y)
    assert _rel((a * (g - np.sum(a * g)))[0, 0], want[0]) > 1e-3


def test_hinge_kink_and_targets():
    """relu's convention at the kink y a = 1 (derivative 0); y = +-1 as labels; other y evaluate the formula."""
    k = kernels.get("identity", "hinge")
    z, y = np.array([[1.0, 0.5, -2.0]]), np.array([[1.0, 1.0, -1.0]])
    np.testing.assert_array_equal(k.delta(z, y), [[0.0, -1.0, 0.0]])
    assert k.loss(z, y)[0] == 0.5
    assert k.loss(np.array([[2.0]]), np.array([[0.25]]))[0] == 0.5  # max(0, 1 - 0.5): no target check (documented)


def test_selu_derivative_at_minus_50():
    """selu' through its output, a + lambda alpha, loses every digit of lambda alpha e^{-50}; exp(min(z, 0)) keeps them."""
    f, z = kernels.activation("selu"), np.array([-50.0, -1e-8, 0.0, 1000.0])
    _, want = activation_truth("selu", 4).row(z)
    assert all(_rel(g, w) < 1e-14 for g, w in zip(f.derivative(z), want))
    a = float(SELU_SCALE) * (np.maximum(z, 0) + float(SELU_ALPHA) * np.expm1(np.minimum(z, 0)))
    assert _rel((a + LAMBDA_ALPHA)[0], want[0]) > 1e-3



def test_softsign_derivative_through_z():
    """softsign' = (1 - |a|)^2 as written keeps 8 digits at z = 1e10; 1/(1 + |z|)^2 keeps them all."""
    f, z = kernels.activation("softsign"), np.array([1e10, -1e10, 0.5])
    with mpmath.workdps(50):  # the textbook derivative d/dz z/(1 + |z|) (the oracle's digit rule is for |z| <= 1e3)
        want = [1 / (1 + abs(mpmath.mpf(v))) ** 2 for v in z]
    assert all(_rel(g, w) < 1e-14 for g, w in zip(f.derivative(z), want))
    assert _rel(((1 - np.abs(f(z))) ** 2)[0], want[0]) > 1e-9
    assert f.derivative(np.array([1e200]))[0] == 0.0  # 1e-400 rounds to 0, without an overflow of (1 + |z|)^2


def test_hard_sigmoid_values_and_derivative_at_the_corners():
    f = kernels.activation("hard_sigmoid")
    z = np.array([-3.0, -1.5, 0.0, 3.0, 1000.0, -1000.0])
    np.testing.assert_array_equal(f(z), [0.0, 0.25, 0.5, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(f.derivative(z), [0.0, 1 / 6, 1 / 6, 0.0, 0.0, 0.0])


def test_mish_at_the_ends_and_its_minimum():
    f, z = kernels.activation("mish"), np.array([-1000.0, -745.0, -30.0, -1.1924, 20.0, 1000.0])
    values, derivs = activation_truth("mish", 6).row(z)
    for got, want in ((f(z), values), (f.derivative(z), derivs)):
        # absolute: mish' at -1.1924 (8e-6, near its root) is a difference of terms near 0.3; subnormals below
        # the least normal float64 have no relative precision to demand (the property suites' rule, simplified)
        assert np.isfinite(got).all()
        assert all(abs(float(g) - float(w)) <= 1e-15 * (1 + abs(v)) + 2.3e-308 for g, w, v in zip(got, want, z))
    assert float(MISH_MIN) <= float(values[3]) < float(MISH_MIN) + 1e-9  # near the minimum, z* = -1.19
