"""delta equals the derivative of the kernel's own loss, taken in mpmath.

    kernel.delta(z, y)_j == d/dz_j C(z, y),   C the symbolic cost, differentiated by mpmath.diff

This checks the chain rule end to end without trusting ``derive_pair(...).delta``:
the only symbolic input is the cost. Float finite differences are not used (they
are what fails first). Where C has a kink in z_j (relu at 0, |a - y| at a = y)
the one-sided derivatives differ and that entry is not compared: the kernel's
convention there (relu'(0) = 0, sign(0) = 0) is checked in the agreement tests.
Tolerance: the rule of ``derive.testing.reference`` (float64, rtol 1e-12).
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given

from derive import kernels
from derive.symbolic.catalogue import valid_pairings
from derive.testing import strategies as sts
from derive.testing.matching import KernelMismatch, show_array
from derive.testing.reference import DIGITS, loss_gradient, loss_gradient_raw, rtol_for, tolerance

DTYPE = np.dtype(np.float64)


def assert_delta_is_loss_gradient(activation, loss, z, y, delta):
    rtol, tiny = rtol_for(DTYPE), float(np.finfo(DTYPE).tiny)
    zb, yb = np.broadcast_arrays(z, y)
    for idx in np.ndindex(zb.shape[:-1]):
        z_row, y_row = [float(v) for v in zb[idx]], [float(v) for v in yb[idx]]
        want = loss_gradient(activation, loss, z_row, y_row)
        got = delta[idx]
        for c, (w, g) in enumerate(zip(want, got)):
            if w is None:
                continue  # a kink of C in z_c
            err = abs(mpmath.mpf(float(g)) - w) if np.isfinite(g) else mpmath.inf
            if err <= rtol * abs(w) + tiny:
                continue
            bound = tolerance(lambda zr, yr: loss_gradient_raw(activation, loss, zr, yr), z_row, y_row,
                              [0 if v is None else v for v in want], rtol, tiny)[c]
            if err > bound:
                raise KernelMismatch(
                    f"{activation} + {loss}: delta is not the derivative of the loss\n"
                    f"  inputs: z = {show_array(z)}, y = {show_array(y)}\n  at index {(*idx, c)}:\n"
                    f"    dC/dz by mpmath.diff {float(w)!r} ({mpmath.nstr(w, 20)}, {DIGITS} digits)\n"
                    f"    kernel delta         {float(g)!r}\n"
                    f"    |difference| {mpmath.nstr(err, 3)} > allowed {mpmath.nstr(bound, 3)}"
                )


@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_delta_is_derivative_of_loss(activation, loss):
    k = kernels.get(activation, loss)

    @given(sts.kernel_inputs(activation, loss, DTYPE))
    def check(inputs):
        z, y = inputs["z"], inputs["y"]
        assert_delta_is_loss_gradient(activation, loss, z, y, k.delta(z, y))

    sts.pinned(check, activation, loss, DTYPE)()
