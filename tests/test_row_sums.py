"""The generated code's row sums (``rows.row_sum``, ``rows.row_dot``: BLAS dots): RowSum(x) and RowSum(x**2) as
NumPy's own sums give them, within the rounding of a sum, and integers summed as before (squares as floats)."""

from __future__ import annotations

import numpy as np
import pytest

from derive.compile.expressions import Y, Z
from derive.compile.nodes import RowSum
from derive.compile.printer_numpy import function_source
from derive.kernels import bits, rows


def _compiled(expr):
    scope = {"np": np, "bits": bits, "rows": rows}
    exec(function_source("f", "z, y, shape, dtype", expr, reduce_last=True), scope)
    return lambda z, y: scope["f"](z, y, np.broadcast_shapes(z.shape, y.shape), np.result_type(z, y, 1.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sums_and_squares_match_numpy(dtype):
    rng = np.random.default_rng(3)
    z, y = (rng.normal(0, 3, (37, 1000)).astype(dtype) for _ in range(2))
    exact = {"sum": (z.astype(np.longdouble) - y).sum(axis=-1), "squares": ((z.astype(np.longdouble) - y) ** 2).sum(axis=-1)}
    for name, expr in (("sum", RowSum(Z - Y)), ("squares", RowSum((Z - Y) ** 2))):
        src = function_source("f", "z, y, shape, dtype", expr, reduce_last=True)
        assert ("rows.row_dot" in src) == (name == "squares") and "np.square" not in src
        got = _compiled(expr)(z, y)
        assert got.dtype == dtype and got.shape == (37,)
        scale = np.abs(z.astype(np.longdouble) - y).sum(axis=-1) if name == "sum" else exact[name]
        assert (np.abs(got - exact[name]) <= 64 * np.finfo(dtype).eps * scale).all(), name


def test_integer_inputs_square_as_floats():
    z = np.array([[4_000_000_000, 2]])  # (4e9)^2 wraps around in int64
    got = _compiled(RowSum(Z**2))(z, np.zeros(1))
    assert got.dtype.kind == "f" and got[0] == 1.6e19 + 4
    assert rows.row_sum(np.array([[True, True, False]])).tolist() == [[2]]  # not a logical or
