"""The plain sweeps of the softmax + bce and softmax + huber deltas, and the rows they hand to the exact forms.

``rows_odds.odds_vjp`` (bce) keeps plain passes on rows with 1 - a_t >= 2^-6 (float32: 2^-2), with
a_k - a_t by expm1 on the lanes close to the top; ``rows_residual.softmax_vjp_residual(clip=True)`` (huber) on rows whose
residuals all stay off +-1. Elsewhere the exact forms run. Checked against the tolerance rule of
``derive.testing`` (mpmath oracle) at rows on both sides of each limit, and by counting the rows
the exact forms see.
"""

from __future__ import annotations

import numpy as np
import pytest

from derive import kernels
from derive.kernels import rows, rows_residual
from derive.testing.matching import check_output


def _rows_near_the_limits(dtype, rng):
    """Saturated rows (1 - a_t from 1e-17 to 1/2), close logits (1e-8 .. 1 apart), ordinary rows."""
    out = [([1e-8, 0.0], [0.0, 1.0]), ([1e-8, 0.0], [0.0, 0.0]), ([40.0, 0.0, -40.0], [1.0, 0.0, 0.0]), ([40.0, 0.0, -40.0], [0.0, 1.0, 0.5]),
           ([3.0, 0.0, -1.0], [0.2, 0.7, 0.1]), ([5.0, 5.0 - 1e-6, 0.0], [0.5, 0.5, 0.0])]
    for gap in (1.0, 2.0, 3.0, 4.0, 5.0, 40.0):  # 1 - a_t about e^-gap, either side of the limit
        for _ in range(2):
            n = int(rng.integers(2, 6))
            z = rng.normal(0, 1, n)
            z[np.argmax(z)] = z.max() + gap
            if rng.random() < 0.5:
                z[np.argsort(z)[-2]] = z.max() - 10.0 ** rng.uniform(-8, 0)  # a close second
            out.append((z.tolist(), rng.uniform(0, 1, n).tolist()))
    return [(np.array(z, dtype), np.array(y, dtype)) for z, y in out]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("loss", ["bce", "huber"])
def test_rows_near_the_limits_meet_the_tolerance_rule(loss, dtype):
    k = kernels.get("softmax", loss)
    for z, y in _rows_near_the_limits(dtype, np.random.default_rng(3)):
        if loss == "huber":
            y = y * 3 - 1  # residuals on both sides of the clip
        check_output(k.delta(z, y), "softmax", loss, "delta", {"z": z, "y": y})


def _count_exact_rows(monkeypatch, module, name):
    seen = []
    exact = getattr(module, name)

    def counting(z, y, out, *args, **kw):
        seen.append(z.shape[0] if z.ndim > 1 else 1)
        return exact(z, y, out, *args, **kw)

    monkeypatch.setattr(module, name, counting)
    return seen


def test_bce_plain_rows_and_exact_rows(monkeypatch):
    seen = _count_exact_rows(monkeypatch, rows, "_odds_vjp_exact")
    z = np.array([[0.5, 0.0, -1.0], [40.0, 0.0, -1.0], [1e-8, 0.0, -1.0], [2.0, 0.5, 0.0]])
    y = np.full(z.shape, 0.25)
    kernels.get("softmax", "bce").delta(z, y)
    assert seen == [1]  # the saturated row; the close one's a_0 - a_1 by expm1 in the sweep


def test_huber_rows_with_a_clipped_residual_are_exact(monkeypatch):
    seen = _count_exact_rows(monkeypatch, rows_residual, "_exact")
    z = np.zeros((4, 3))
    y = np.array([[0.0, 0.5, 0.2], [5.0, 0.5, 0.2], [0.1, 0.1, -3.0], [0.3, 0.3, 0.3]])
    d = kernels.get("softmax", "huber").delta(z, y)
    assert seen == [2]
    # all lanes of a row clipped alike: g_j - g_k = 0 exactly, so the delta is exactly 0
    assert not kernels.get("softmax", "huber").delta(np.array([0.3, -0.2, 0.1]), np.array([5.0, 6.0, 7.0])).any()
    assert np.isfinite(d).all()


def _naive_bce_delta(z, y):
    """The textbook chain rule: a = softmax(z) (max-shifted), g = -y/a + (1 - y)/(1 - a), delta = a (g - a.g)."""
    e = np.exp(z - z.max(-1, keepdims=True))
    a = e / e.sum(-1, keepdims=True)
    g = -y / a + (1 - y) / (1 - a)
    return a * (g - (a * g).sum(-1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("z, y", [([1e-8, 0.0], [0.0, 0.0]), ([40.0, 0.0, -40.0], [0.0, 1.0, 0.5])],
                         ids=["close logits", "saturated top"])
def test_the_naive_bce_delta_fails_where_the_rows_do_not(z, y, dtype):
    # the rows above that the plain and exact forms pass: the textbook form fails the same rule there
    z, y = np.array(z, dtype), np.array(y, dtype)
    check_output(kernels.get("softmax", "bce").delta(z, y), "softmax", "bce", "delta", {"z": z, "y": y})
    with np.errstate(all="ignore"), pytest.raises(AssertionError):
        check_output(_naive_bce_delta(z, y), "softmax", "bce", "delta", {"z": z, "y": y})
