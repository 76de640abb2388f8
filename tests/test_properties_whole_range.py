"""Over the whole finite float range (subnormals, +-1000, up to +-max): never nan, never a warning where the value is finite.

Every activation and its derivative (softmax: its Jacobian) is bounded by |z| or
by a constant, so its true value is a finite float for every finite z: the kernel
must return finite values and emit no RuntimeWarning. Losses and deltas may
legitimately overflow ((a - y)^2 at 1e300), so for them the property is no nan.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given

from derive import kernels
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from derive.testing import strategies as sts

DTYPES = [np.float64, np.float32]
DT_IDS = lambda d: np.dtype(d).name  # noqa: E731


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_activation_finite_without_warnings(activation, dtype):
    f = kernels.activation(activation)
    second = f.derivative if ACTIVATIONS[activation].elementwise else f.jacobian

    @given(sts.activation_inputs(activation, dtype, max_magnitude=None))
    def check(z):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a, d = f(z), second(z)
        assert np.all(np.isfinite(a)) and np.all(np.isfinite(d)), (z, a, d)

    sts.pinned(check, activation, None, dtype, z_only=True)()


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_loss_and_delta_never_nan(activation, loss, dtype):
    k = kernels.get(activation, loss)

    @given(sts.kernel_inputs(activation, loss, dtype, max_magnitude=None))
    def check(inputs):
        z, y = inputs["z"], inputs["y"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow to inf is allowed here; nan is not
            values, delta = k.loss(z, y), k.delta(z, y)
        assert not np.any(np.isnan(values)) and not np.any(np.isnan(delta)), (z, y, values, delta)

    sts.pinned(check, activation, loss, dtype)()
