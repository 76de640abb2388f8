"""``rows.log1m_softmax``: log(1 - softmax(z)_i) from one exp pass where the others' sum rest = sum_{k != t} e^{z_k - z_t}
is at least n times the least normal number (``_log1m_softmax_plain``), the other rows alone by the second largest
logit (``_log1m_softmax_second``).
Oracle: mpmath from the textbook definition log(1 - e^{z_i} / sum_k e^{z_k}) at 80 digits plus the row's spread; the naive NumPy form
fails at the top class of the saturated rows (1 - a_t rounds to 0 there)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derive.kernels import rows

ROWS = {  # name: (row, which path)
    "ordinary": ([1.0, 0.5, -2.0, 3.0], "plain"),
    "close": ([1e-8, 0.0, -1.0], "plain"),
    "saturated": ([0.0, -50.0, -60.0], "plain"),  # 1 - a_t = 2e-22: log1p(-a_t) = 0 naively
    "others underflow": ([0.0, -800.0, -900.0], "second"),  # rest = 0 in float64
    "others subnormal": ([0.0, -740.0, -745.0], "second"),  # rest below n tiny
}


def _truth(row):
    with mpmath.workdps(80 + int(max(row) - min(row))):  # 1 - a_t is e^{-(spread)}: that many digits more
        z = [mpmath.mpf(float(v)) for v in row]
        total = mpmath.fsum(mpmath.exp(v) for v in z)
        return [float(mpmath.log(1 - mpmath.exp(v) / total)) for v in z]


@pytest.mark.parametrize("name", sorted(ROWS))
def test_against_mpmath(name, monkeypatch):
    row, path = ROWS[name]
    z = np.array([row], np.float64)
    seen = []
    second = rows._log1m_softmax_second
    monkeypatch.setattr(rows, "_log1m_softmax_second", lambda z, *a: seen.append(z.copy()) or second(z, *a))
    got = rows.log1m_softmax(z, np.empty_like(z))[0]
    assert len(seen) == (path == "second")
    want = np.array(_truth(row))
    np.testing.assert_allclose(got, want, rtol=16 * np.finfo(np.float64).eps, atol=0)


def test_the_naive_form_fails_where_the_top_saturates():
    z = np.array([[0.0, -50.0, -60.0]])
    a = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        naive = np.log(1.0 - a)[0, 0]
    assert naive == -np.inf and np.isfinite(_truth([0.0, -50.0, -60.0])[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_row_does_not_depend_on_its_block(dtype):
    """Each row takes its own path: the same bits alone as in a block mixing both paths (blocked calls of a
    kernel must equal one call bit for bit)."""
    block = np.array([ROWS["ordinary"][0][:3], [0.0, -800.0, -900.0], ROWS["saturated"][0], [0.0, -100.0, -101.0]], dtype)
    got = rows.log1m_softmax(block, np.empty_like(block))
    for row, values in zip(block, got, strict=True):
        alone = rows.log1m_softmax(row[None], np.empty_like(row[None]))[0]
        assert values.tobytes() == alone.tobytes()
        if dtype == np.float64:
            np.testing.assert_allclose(values, _truth(row), rtol=16 * np.finfo(np.float64).eps, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_row_spanning_the_float_range_leaves_its_block_mates_bits_alone(dtype):
    # one row with z - z_t overflowing once sent the whole block down the second-largest shift (review, session 6)
    from derive import kernels

    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (40, 300)).astype(dtype)
    z[1, :2] = [np.finfo(dtype).max, -np.finfo(dtype).max]
    y = np.zeros_like(z)
    y[np.arange(40), rng.integers(0, 300, 40)] = 1
    k = kernels.get("softmax", "bce")
    with np.errstate(over="ignore"):
        loss, delta = k.loss(z, y), k.delta(z, y)
        for i in range(40):
            assert k.loss(z[i:i + 1], y[i:i + 1])[0] == loss[i] or (np.isinf(loss[i]) and i == 1), i
            assert np.array_equal(k.delta(z[i:i + 1], y[i:i + 1])[0], delta[i]), i
