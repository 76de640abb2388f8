"""The kernel front (issue 14): batch reductions, dtypes of mixed arguments, int8 widened per
block, errors that say what to do (a missing loss, a bad thread count, targets cast up from float32).

References are written here from the definitions (sums and means by NumPy over the per-sample values).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from derive import kernels

RNG = np.random.default_rng(11)


# --- reductions --------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation,loss", [("sigmoid", "bce"), ("softmax", "cce"), ("identity", "mse"), ("tanh", "huber")])
def test_reductions_are_the_total_and_mean_over_the_batch_axes(activation, loss):
    k = kernels.get(activation, loss)
    z = RNG.normal(0, 3, (4, 5, 3))
    y = np.eye(3)[RNG.integers(0, 3, (4, 5))] if loss == "cce" else RNG.uniform(0, 1, (4, 5, 3))
    x = RNG.normal(size=(5, 2))  # broadcast over the first batch axis
    per_loss, per_delta, per_w = k.loss(z, y), k.delta(z, y), k.grad_w(x, z, y)
    batch = 20
    np.testing.assert_allclose(k.loss(z, y, reduction="sum"), per_loss.sum(), rtol=1e-14)
    np.testing.assert_allclose(k.loss(z, y, reduction="mean"), per_loss.sum() / batch, rtol=1e-14)
    np.testing.assert_array_equal(k.delta(z, y, reduction="sum"), per_delta)
    np.testing.assert_allclose(k.delta(z, y, reduction="mean"), per_delta / batch, rtol=1e-15)
    np.testing.assert_allclose(k.grad_b(z, y, reduction="sum"), per_delta.sum((0, 1)), rtol=1e-13)
    np.testing.assert_allclose(k.grad_b(z, y, reduction="mean"), per_delta.sum((0, 1)) / batch, rtol=1e-13)
    np.testing.assert_allclose(k.grad_w(x, z, y, reduction="sum"), per_w.sum((0, 1)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(k.grad_w(x, z, y, reduction="mean"), per_w.sum((0, 1)) / batch, rtol=1e-12, atol=1e-14)
    assert k.grad_w(x, z, y, reduction="sum").shape == (3, 2)


def test_mean_mse_is_the_mean_over_every_element():
    """identity + mse with reduction="mean": mse is already a mean over the units of each sample,
    so the batch mean is the mean over all elements (F.mse_loss(z, y, reduction="mean"))."""
    z, y = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 4))
    np.testing.assert_allclose(kernels.get("identity", "mse").loss(z, y, reduction="mean"), np.mean((z - y) ** 2), rtol=1e-14)


def test_an_unknown_reduction_says_which_there_are():
    with pytest.raises(ValueError, match=r"'none' \(per sample\), 'sum' or 'mean'.*got 'avg'"):
        kernels.get("sigmoid", "bce").loss(np.zeros(3), np.zeros(3), reduction="avg")


# --- dtypes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("targets", [np.array([True, False, True]), np.array([1, 0, 1], np.int8), 0.5, 1],
                         ids=["bool", "int8", "float", "int"])
def test_targets_take_the_float_dtype_of_the_logits(targets):
    z = np.array([0.5, -40.0, 3.0], np.float32)
    k = kernels.get("sigmoid", "bce")
    for out in (k.loss(z, targets), k.delta(z, targets), k.grad_w(np.ones(2, np.int8), z, targets)):
        assert out.dtype == np.float32
    np.testing.assert_array_equal(k.delta(z, targets), k.delta(z, np.broadcast_to(np.float32(targets), z.shape)))


def test_int8_inputs_are_widened_one_block_at_a_time():
    n = 4 * 10**6
    z = RNG.normal(size=n).astype(np.float32)
    y = (RNG.uniform(size=n) < 0.5).astype(np.int8)
    k = kernels.get("sigmoid", "bce")
    k.delta(z, y)  # the threads' block buffers, kept for later calls
    tracemalloc.start()
    try:
        out = k.delta(z, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    # the result (16 MB) and a block's widened y (1 MB per thread); widening y whole would add 16 MB
    assert peak < out.nbytes + 4 * 2**20, f"peak {peak / 2**20:.1f} MiB for a {out.nbytes / 2**20:.0f} MiB result"


# --- errors ---------------------------------------------------------------------------------------------

def test_get_without_a_loss_says_one_is_needed():
    with pytest.raises(TypeError, match=r"kernels\.get\('relu'\) needs a loss.*relu pairs with: quadratic.*kernels\.activation\('relu'\)"):
        kernels.get("relu")


@pytest.mark.parametrize("value", ["", "zero", "0", "-2", "1.5"])
def test_a_bad_thread_count_fails_on_the_first_call(value):
    code = "import numpy as np; from derive import kernels; kernels.get('sigmoid', 'bce').delta(np.zeros(3), np.zeros(3))"
    env = dict(os.environ, DERIVE_NUM_THREADS=value)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"DERIVE_NUM_THREADS must be a whole number of threads >= 1, got {value!r}" in done.stderr


def test_targets_cast_up_from_float32_get_a_fix():
    y32 = RNG.dirichlet(np.ones(1000), 3).astype(np.float32)
    z = np.zeros((3, 1000))
    with pytest.raises(ValueError, match=r"within float32 rounding.*pass them in float32, or renormalise"):
        kernels.get("softmax", "cce").delta(z, y32.astype(np.float64))
    kernels.get("softmax", "cce").delta(z.astype(np.float32), y32)  # in their own precision they pass


def test_scalar_logits_have_no_units_axis():
    for z in (1.0, np.float64(1.0), np.array(1.0)):
        with pytest.raises(ValueError, match="at least one axis"):
            kernels.activation("sigmoid").jacobian(z)
