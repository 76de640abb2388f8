"""``row_parts.row_loops``: the row primitives run with NumPy's ufunc buffer at 16 elements on long rows (a per-row
operand is then read in place, not copied out row by row). The values must be the same bits as with the default
buffer, the caller's buffer size and error state must come back unchanged, also when the primitive raises, and
short rows keep the default buffer."""

from __future__ import annotations

import numpy as np
import pytest

from derive.kernels import row_parts, rows, rows_residual

PRIMITIVES = {  # name: fn(z, y, out) on rows of probabilities y
    "softmax_vjp": lambda z, y, out: rows.softmax_vjp(z, y, out=out),
    "softmax_vjp_residual": lambda z, y, out: rows_residual.softmax_vjp_residual(z, y, out=out),
    "softmax_vjp_clipped_residual": lambda z, y, out: rows.softmax_vjp_clipped_residual(z, y, out=out),
    "softmax_odds_vjp": lambda z, y, out: rows.softmax_odds_vjp(z, y, out=out),
    "log_softmax": lambda z, y, out: rows.log_softmax(z, out=out),
    "xlog_softmax": lambda z, y, out: rows.xlog_softmax(y, z, out),
}


def _inputs(dtype, n=300):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 5, (40, n)).astype(dtype)
    z[0, :2] = [30.0, -30.0]  # a saturated row: the exact paths run inside the wrapper too
    z[1, 1] = z[1, 0] - 1e-3  # a close second
    y = rng.uniform(0, 1, (40, n)).astype(dtype)
    return z, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_same_bits_as_the_default_buffer(name, dtype, monkeypatch):
    z, y = _inputs(dtype)
    assert z.shape[-1] * z.itemsize >= row_parts.ROW_BYTES  # the row loops apply here
    fn = PRIMITIVES[name]
    got = fn(z, y, np.empty_like(z))
    monkeypatch.setattr(row_parts, "ROW_BYTES", 1 << 40)  # off: the default buffer
    want = fn(z, y, np.empty_like(z))
    np.testing.assert_array_equal(got, want)


def test_the_callers_buffer_and_error_state_come_back():
    z, y = _inputs(np.float64)
    seen = []
    probe = row_parts.row_loops(lambda z, out: seen.append(np.getbufsize()) or out)
    with np.errstate(over="raise"):
        before = np.geterr()
        probe(z, out=np.empty_like(z))
        assert seen == [16] and np.getbufsize() == 8192 and np.geterr() == before
        probe(z[:, :100], out=np.empty((40, 100)))  # 800-byte rows: the default buffer
        assert seen[-1] == 8192


def test_the_buffer_comes_back_when_the_primitive_raises():
    def fails(z, out):
        assert np.getbufsize() == 16
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        row_parts.row_loops(fails)(np.zeros((2, 200)), out=np.zeros((2, 200)))
    assert np.getbufsize() == 8192
