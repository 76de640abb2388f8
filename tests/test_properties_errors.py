"""Bad input gets the documented error, saying what was wrong and what is allowed.

    invalid pairing -> PairingError naming the reason (the catalogue's invalid_reason)
    unknown name    -> UnknownNameError listing the known names
    shape mismatch  -> ValueError naming both shapes
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derive import PairingError, UnknownNameError, kernels
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings, valid_pairings
from derive.testing import assert_kernel_matches

INVALID = [(a, lo, why) for a, lo, why in pairings() if why is not None]


def test_catalogue_has_invalid_pairings():
    assert INVALID  # the parametrisation below is not empty


@pytest.mark.parametrize("activation,loss,reason", INVALID)
def test_invalid_pairing_raises_with_reason(activation, loss, reason):
    with pytest.raises(PairingError, match=re.escape(reason)):
        kernels.get(activation, loss)
    with pytest.raises(PairingError, match=re.escape(reason)):
        assert_kernel_matches(lambda z, y: z, activation, loss)


unknown_names = st.text(min_size=0, max_size=12).filter(lambda s: s not in ACTIVATIONS and s not in LOSSES)


@given(unknown_names)
def test_unknown_activation_lists_known(name):
    for call in (lambda: kernels.get(name, "quadratic"), lambda: kernels.activation(name)):
        with pytest.raises(UnknownNameError) as err:
            call()
        assert all(known in str(err.value) for known in ACTIVATIONS)


@given(unknown_names)
def test_unknown_loss_lists_known(name):
    with pytest.raises(UnknownNameError) as err:
        kernels.get("sigmoid", name)
    assert all(known in str(err.value) for known in LOSSES)


@st.composite
def mismatched_shapes(draw):
    """(z shape, y shape) that do not broadcast together."""
    z_shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    y_shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    try:
        np.broadcast_shapes(z_shape, y_shape)
    except ValueError:
        return z_shape, y_shape
    return z_shape, (*y_shape[:-1], y_shape[-1] + 1)  # a last axis that cannot broadcast


@pytest.mark.parametrize("activation,loss", valid_pairings())
@given(shapes=mismatched_shapes())
def test_shape_mismatch_names_both_shapes(activation, loss, shapes):
    z_shape, y_shape = shapes
    k = kernels.get(activation, loss)
    z, y = np.zeros(z_shape), np.zeros(y_shape)
    for call in (k.loss, k.delta, k.grad_b):
        with pytest.raises(ValueError) as err:
            call(z, y)
        assert str(z_shape) in str(err.value) and str(y_shape) in str(err.value), err.value


@pytest.mark.parametrize("activation,loss", valid_pairings())
def test_grad_w_sample_mismatch_names_both_shapes(activation, loss):
    k = kernels.get(activation, loss)
    z, y, x = np.zeros((3, 2)), np.zeros((3, 2)), np.ones((4, 5))
    with pytest.raises(ValueError) as err:
        k.grad_w(x, z, y)
    assert str(x.shape) in str(err.value) and "(3, 2)" in str(err.value), err.value
