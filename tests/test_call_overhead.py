"""Small calls: the fast path of NumPy float arrays (``objects``), one direct call (``blocks.direct``) and
the caller's scratch buffers for unblocked calls (``blocks._one_call``) give what the generic path gives,
refuse what it refuses, and never hand out or overwrite a buffer another call still uses.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from derive import kernels
from derive.kernels import blocks
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings

VALID = valid_pairings()
SMALL, SCRATCH = (3, 7), (100, 1000)  # one direct call; unblocked, on the scratch buffers (800 KB in float64)


class _Tagged(np.ndarray):
    """An ndarray subclass: not the fast path's plain ndarray, so the generic path (``_args``) runs."""


def _inputs(loss, shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-40, 40, shape)
    y = rng.dirichlet(np.ones(shape[-1]), shape[:-1]) if LOSSES[loss].targets_sum_to_one else rng.uniform(0, 1, shape)
    return z.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", VALID)
def test_the_fast_path_gives_the_generic_paths_bits(activation, loss, dtype):
    k = kernels.get(activation, loss)
    for shape in (SMALL, SCRATCH):
        z, y = _inputs(loss, shape, dtype)
        for what in ("loss", "delta"):
            got = getattr(k, what)(z, y)
            want = getattr(k, what)(z.view(_Tagged), y.view(_Tagged))
            assert type(got) is np.ndarray and got.dtype == dtype
            assert got.shape == want.shape and got.tobytes() == want.tobytes(), (what, shape)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_activations_fast_path_gives_the_generic_paths_bits(name):
    f = kernels.activation(name)
    for shape in (SMALL, SCRATCH):
        z = np.random.default_rng(1).uniform(-40, 40, shape)
        for call in [f] + ([f.derivative] if ACTIVATIONS[name].elementwise else []):
            assert call(z).tobytes() == call(z.view(_Tagged)).tobytes()


def test_what_the_fast_path_skips_is_still_refused():
    z = np.zeros((4, 1))
    with pytest.raises(ValueError, match=r"softmax \+ cce needs at least 2 units on the last axis, got shape \(4, 1\)"):
        kernels.get("softmax", "cce").loss(z, np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"z has shape \(4, 0\): the last axis holds the units"):
        kernels.get("sigmoid", "bce").delta(np.zeros((4, 0)), np.zeros((4, 0)))
    with pytest.raises(ValueError, match="must have at least one axis"):
        kernels.get("sigmoid", "bce").delta(np.array(0.5), np.array(1.0))
    with pytest.raises(ValueError, match="has shape \\(4, 0\\): the last axis holds the units"):
        kernels.activation("softmax")(np.zeros((4, 0)))
    y = np.full((3, 5), 0.2)
    y[1, 2] = 0.3
    with pytest.raises(ValueError, match=r"row 1 of y sums to 1\.09999"):
        kernels.get("softmax", "cce").delta(np.zeros((3, 5)), y)


@pytest.mark.parametrize("what", ["loss", "delta"])
def test_a_result_outlives_the_next_call(what):
    # unblocked calls share the thread's scratch buffers: each result must be an array of its own
    for activation, loss in [("sigmoid", "sse"), ("softmax", "huber"), ("identity", "quadratic")]:
        k = getattr(kernels.get(activation, loss), what)
        z1, y1 = _inputs(loss, SCRATCH, np.float64, seed=1)
        z2, y2 = _inputs(loss, SCRATCH, np.float64, seed=2)
        first = k(z1, y1)
        kept = first.copy()
        second = k(z2, y2)
        assert not np.shares_memory(first, second)
        assert first.tobytes() == kept.tobytes() and first.tobytes() != second.tobytes()
    f = kernels.activation("tanh")
    a = f(z1)
    kept = a.copy()
    f.derivative(z2)
    assert a.tobytes() == kept.tobytes()


def test_a_kernel_called_from_an_errcall_inside_an_unblocked_call():
    # the handler runs between two NumPy calls of the outer kernel, on the caller's thread: the inner
    # call must not take the outer call's scratch buffers (identity + quadratic: (z - y)^2 then its row sum)
    k, inner = kernels.get("identity", "quadratic"), kernels.get("sigmoid", "bce")
    z = np.ones(SCRATCH)
    z[::7] = 1e200  # the square overflows in these rows: the handler is called
    zi = np.linspace(-30, 30, z.size).reshape(SCRATCH)
    assert z.nbytes >= blocks.SCRATCH and z.size < 2 * blocks.BLOCK // z.itemsize  # unblocked, on the scratch
    want_inner = inner.delta(zi, np.zeros_like(zi))
    with np.errstate(over="ignore"):
        want = k.loss(z, np.zeros_like(z))
    seen = []

    def handler(kind, flag):
        seen.append(inner.delta(zi, np.zeros_like(zi)))

    with np.errstate(over="call", call=handler):
        got = k.loss(z, np.zeros_like(z))
    assert seen and all(s.tobytes() == want_inner.tobytes() for s in seen)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("what", ["loss", "delta"])
def test_an_unblocked_call_allocates_only_its_result(what):
    # the buffers are the thread's, made on the first call: later calls allocate the output, and no
    # full-size buffer (NumPy's casting loops take 64 KB buffers of their own: a quarter of z allowed)
    k = getattr(kernels.get("sigmoid", "huber"), what)
    z, y = _inputs("huber", SCRATCH, np.float64)
    k(z, y)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        out = k(z, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before <= out.nbytes + z.nbytes // 4, f"{(peak - before) / 2**20:.2f} MiB for a {out.nbytes / 2**20:.2f} MiB result"


def test_an_empty_batch_of_a_sum_to_one_pairing_is_an_empty_result():
    # the one-reduction screen once took the max of no rows (review, session 6)
    for shape in ((0, 3), (2, 0, 3)):
        k = kernels.get("softmax", "cce")
        assert k.loss(np.zeros(shape), np.zeros(shape)).shape == shape[:-1]
        assert k.delta(np.zeros(shape), np.zeros(shape)).shape == shape


def test_gelu_float32_called_from_an_errcall_inside_gelu_keeps_the_outer_values():
    f = kernels.activation("gelu")
    x = np.linspace(-20, 20, 8, dtype=np.float32)
    want, calls = f(x), []
    old = np.seterrcall(lambda kind, flag: calls or calls.append(f(np.full(8, 0.25, np.float32))))
    try:
        with np.errstate(under="call"):
            got = f(x)
    finally:
        np.seterrcall(old)
    assert calls and np.array_equal(got, want)
