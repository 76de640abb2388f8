"""Every kernel equals the symbolic derivation evaluated in mpmath at 50 digits.

    |got - want| <= rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

(rtol 1e-12 float64, 1e-5 float32; see ``derive.testing.reference``). Parametrised
from the catalogue: every valid pairing, every activation, both float dtypes.
"""

import numpy as np
import pytest
from hypothesis import given

from derive import kernels
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from derive.testing import strategies as sts
from derive.testing.matching import call_kernel, check_output

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_loss_delta_grads_match_derivation(activation, loss, dtype):
    k = kernels.get(activation, loss)
    fns = {"loss": k.loss, "delta": k.delta, "grad_b": k.grad_b, "grad_w": k.grad_w}

    @given(sts.kernel_inputs(activation, loss, dtype, with_x=True))
    def check(inputs):
        for quantity, fn in fns.items():
            args = inputs if quantity == "grad_w" else {"z": inputs["z"], "y": inputs["y"]}
            out, caught = call_kernel(fn, quantity, args)
            check_output(out, activation, loss, quantity, args, caught)

    sts.pinned(check, activation, loss, dtype, with_x=True)()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_activation_and_derivative_match_derivation(activation, dtype):
    f = kernels.activation(activation)
    second = "derivative" if ACTIVATIONS[activation].elementwise else "jacobian"
    fns = {"activation": f, second: getattr(f, second)}

    @given(sts.activation_inputs(activation, dtype))
    def check(z):
        for quantity, fn in fns.items():
            out, caught = call_kernel(fn, quantity, {"z": z})
            check_output(out, activation, None, quantity, {"z": z}, caught)

    sts.pinned(check, activation, None, dtype, z_only=True)()
