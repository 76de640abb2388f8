"""Invariances: softmax(z + c) = softmax(z), sigma(-z) = 1 - sigma(z), dtype in = dtype out.

The shift test draws z and c on a dyadic grid coarse enough that z + c is exact
in the dtype (float64: multiples of 2^-20 below 2^10; float32: of 2^-4 below 2^10),
so any difference comes from the kernel, not from rounding the input; a max-shifted
kernel is then bitwise invariant, and 4 eps allows a kernel that rounds differently.
sigma(z) + sigma(-z) = 1: each value is in [0, 1] with error <= eps/2, the sum adds
one more rounding, so |sigma(z) + sigma(-z) - 1| <= 2 eps.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derive import kernels
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from derive.testing import strategies as sts

DTYPES = [np.float64, np.float32]
DT_IDS = lambda d: np.dtype(d).name  # noqa: E731
SOFTMAXES = [a for a, act in ACTIVATIONS.items() if not act.elementwise]
GRID = {np.dtype(np.float64): 20, np.dtype(np.float32): 4}  # fractional bits of the exact grid


def grid_values(dtype):
    bits = GRID[np.dtype(dtype)]
    return st.integers(-(2 ** (10 + bits)), 2 ** (10 + bits)).map(lambda k: k / 2**bits)


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation", SOFTMAXES)
def test_softmax_shift_invariant(activation, dtype):
    f = kernels.activation(activation)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny

    @given(sts.row_shapes(2, 4).flatmap(lambda s: hnp.arrays(dtype, s, elements=grid_values(dtype))),
           grid_values(dtype))
    @example(np.array([1000.0, 0.0, -1000.0]), 1000.0)
    @example(np.array([0.0, -1000.0, -999.5]), -1000.0)
    def check(z, c):
        z = z.astype(dtype)
        shifted = z + dtype(c)
        assert np.array_equal(shifted - dtype(c), z)  # the grid makes the shift exact
        np.testing.assert_allclose(f(shifted), f(z), rtol=4 * eps, atol=tiny)

    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
def test_sigmoid_reflection(dtype):
    f = kernels.activation("sigmoid")
    eps = np.finfo(dtype).eps

    @given(sts.activation_inputs("sigmoid", dtype, max_magnitude=None))
    def check(z):
        assert np.all(np.abs(f(-z) + f(z) - 1) <= 2 * eps), (z, f(z), f(-z))

    sts.pinned(check, "sigmoid", None, dtype, z_only=True)()


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_dtype_preserved(activation, loss, dtype):
    k = kernels.get(activation, loss)
    f = kernels.activation(activation)

    @given(sts.kernel_inputs(activation, loss, dtype, with_x=True))
    def check(inputs):
        z, y, x = inputs["z"], inputs["y"], inputs["x"]
        outs = [k.loss(z, y), k.delta(z, y), k.grad_b(z, y), k.grad_w(x, z, y), f(z)]
        outs.append(f.derivative(z) if ACTIVATIONS[activation].elementwise else f.jacobian(z))
        assert [o.dtype for o in outs] == [np.dtype(dtype)] * len(outs)

    check()


@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_integers_promote_to_float64(activation, loss):
    k = kernels.get(activation, loss)
    units = 1 if ACTIVATIONS[activation].elementwise else 2
    z = np.arange(units, dtype=np.int64)[None, :]
    y = np.eye(units, dtype=np.int64)[:1]
    assert k.loss(z, y).dtype == np.float64 and k.delta(z, y).dtype == np.float64
