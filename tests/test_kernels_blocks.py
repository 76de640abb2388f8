"""Blocked, threaded evaluation (``derive._blocks``): bit for bit what one call on the whole array gives.

Blocks are made small here (64 / 256 float64 elements) so that arrays of a few thousand
elements are cut into dozens of boxes: along rows, along the last axis (elementwise
kernels only), through broadcast operands and leading axes.
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest

from derive import _blocks, kernels
from derive.catalogue import ACTIVATIONS, LOSSES, valid_pairings

VALID = valid_pairings()
# (z shape, y shape): rows of 300 (elementwise: 300 > 64, so the last axis is cut too), one
# long row per box, z broadcast over rows, y broadcast over rows, three axes
SHAPES = [((37, 300), (37, 300)), ((3, 1300), (3, 1300)), ((1, 300), (23, 300)), ((23, 300), (300,)),
          ((5, 8, 40), (8, 40))]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(_blocks, "BLOCK", 64 * 8)  # bytes: 64 float64, 128 float32
    monkeypatch.setattr(_blocks, "ROW_BLOCK", 256 * 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    kernels.set_num_threads(_blocks._default_threads())


@pytest.fixture
def box_count(monkeypatch):
    """How many boxes the last blocked call was cut into."""
    seen = []
    boxes = _blocks._boxes
    monkeypatch.setattr(_blocks, "_boxes", lambda *a: seen.append(list(boxes(*a))) or iter(seen[-1]))
    return lambda: len(seen[-1]) if seen else 0


def _whole(monkeypatch, call):
    """``call()`` with blocking off: one call of the generated function on the whole array."""
    with monkeypatch.context() as m:
        m.setattr(_blocks, "BLOCK", 10**12)
        m.setattr(_blocks, "ROW_BLOCK", 10**12)
        return call()


def _inputs(activation, loss, zs, ys, dtype):
    rng = np.random.default_rng(7)
    z = rng.uniform(-60, 60, zs)
    z.reshape(-1)[:12] = [1000, -1000, 745, -745, 710, -710, 50, -50, 1e-8, -1e-8, 0.0, -0.0][: z.size]
    if LOSSES[loss].targets_sum_to_one:
        y = rng.dirichlet(np.ones(ys[-1]), ys[:-1])
    else:
        y = rng.uniform(0, 1, ys)
    return z.astype(dtype), y.astype(dtype)


def _same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", VALID)
def test_blocked_equals_one_call_bit_for_bit(activation, loss, dtype, threads, monkeypatch, box_count):
    kernels.set_num_threads(threads)
    k = kernels.get(activation, loss)
    for zs, ys in SHAPES:
        z, y = _inputs(activation, loss, zs, ys, dtype)
        for what in ("delta", "loss"):
            got = getattr(k, what)(z, y)
            assert box_count() > 1, (what, zs, ys)  # it was blocked
            _same_bits(got, _whole(monkeypatch, lambda: getattr(k, what)(z, y)))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_blocked_activation_equals_one_call(name, threads, monkeypatch, box_count):
    kernels.set_num_threads(threads)
    f = kernels.activation(name)
    z = np.random.default_rng(3).uniform(-800, 800, (41, 130))
    calls = [f] + ([f.derivative] if ACTIVATIONS[name].elementwise else [])
    for call in calls:
        got = call(z)
        assert box_count() > 1
        _same_bits(got, _whole(monkeypatch, lambda: call(z)))


def test_a_long_single_row_is_cut_only_where_the_kernel_is_elementwise(box_count):
    z, y = np.linspace(-30, 30, 1000), np.linspace(0, 1, 1000)
    kernels.get("sigmoid", "bce").delta(z, y)
    assert box_count() == 1000 // 64 + 1
    before = box_count()
    kernels.get("softmax", "cce").delta(z, y / y.sum())  # one row: softmax needs it whole
    kernels.get("sigmoid", "mse").delta(z, y)  # mse divides by n, the row's length
    assert box_count() == before  # neither was blocked


def _raising(z, shape, dtype, empty=np.empty, out=None):
    out = empty(shape, dtype) if out is None else out
    np.log(z, out=out)  # log(0): a divide-by-zero in every box
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_a_floating_point_error_reaches_the_caller(threads):
    kernels.set_num_threads(threads)
    z = np.zeros((64, 64))
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        _blocks.evaluate(_raising, (z,), z.shape, z.dtype, rows=False, elementwise=True)
    with np.errstate(divide="ignore"):  # warnings are errors here
        got = _blocks.evaluate(_raising, (z,), z.shape, z.dtype, rows=False, elementwise=True)
    assert np.all(got == -np.inf)


def test_the_callers_errstate_reaches_every_thread():
    kernels.set_num_threads(2)
    seen = {}

    def fn(z, shape, dtype, empty=np.empty, out=None):
        time.sleep(0.002)  # slow boxes: the helper thread surely takes some
        seen[threading.get_ident()] = np.geterr()["divide"]
        out[...] = z
        return out

    z = np.zeros((64, 64))
    with np.errstate(divide="raise"):
        _blocks.evaluate(fn, (z,), z.shape, z.dtype, rows=False, elementwise=True)
    assert len(seen) == 2 and set(seen.values()) == {"raise"}


def test_a_failing_box_stops_the_call_and_raises_in_the_caller():
    kernels.set_num_threads(2)
    done = []

    def fn(z, shape, dtype, empty=np.empty, out=None):
        done.append(threading.get_ident())
        if len(done) == 3:
            raise ValueError("box 3 failed")
        out[...] = z
        return out

    z = np.ones((4096, 64))
    with pytest.raises(ValueError, match="box 3 failed"):
        _blocks.evaluate(fn, (z,), z.shape, z.dtype, rows=False, elementwise=True)
    assert len(done) < 4096 * 64 // 64  # the rest were not evaluated


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_set_num_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match=r"whole number of threads >= 1, got"):
        kernels.set_num_threads(bad)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setattr(_blocks, "_threads", None)
    monkeypatch.setenv("DERIVE_NUM_THREADS", "3")
    assert kernels.get_num_threads() == 3
    monkeypatch.setattr(_blocks, "_threads", None)
    monkeypatch.setenv("DERIVE_NUM_THREADS", "many")
    with pytest.raises(ValueError, match=r"DERIVE_NUM_THREADS must be a whole number of threads >= 1, got 'many'"):
        kernels.get_num_threads()
    monkeypatch.delenv("DERIVE_NUM_THREADS")
    monkeypatch.setattr(_blocks, "_threads", None)
    assert kernels.get_num_threads() >= 1


@pytest.mark.parametrize("threads", [1, 2])
def test_targets_off_one_in_a_late_block_are_refused_naming_the_row(threads):
    kernels.set_num_threads(threads)
    k = kernels.get("softmax", "cce")
    y = np.full((50, 40), 1 / 40)
    y[47, 3] += 1e-3
    z = np.zeros((50, 40))
    for call in (k.delta, k.loss):
        with pytest.raises(ValueError, match=r"row 47 of y sums to 1\.0009999"):
            call(z, y)
        call(z, np.full((50, 40), 1 / 40))  # the same shapes, on target: fine


def test_one_target_unit_broadcast_over_the_row_is_summed_as_broadcast():
    k = kernels.get("softmax", "cce")
    z = np.zeros((4, 3))
    assert np.allclose(k.delta(z, np.array([1 / 3])), 0.0)  # three units of 1/3
    with pytest.raises(ValueError, match="sums to 1.5"):
        k.delta(z, np.array([0.5]))


def _child_delta(queue):
    z = np.linspace(-40, 40, 64 * 64).reshape(64, 64)
    queue.put(float(kernels.get("sigmoid", "bce").delta(z, np.zeros_like(z)).sum()))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork is POSIX")
def test_a_forked_child_gets_threads_of_its_own():
    import multiprocessing as mp

    kernels.set_num_threads(2)
    z = np.linspace(-40, 40, 64 * 64).reshape(64, 64)
    want = float(kernels.get("sigmoid", "bce").delta(z, np.zeros_like(z)).sum())  # the parent's pool runs
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_delta, args=(queue,))
    child.start()
    child.join(timeout=30)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the child hung waiting for the parent's threads"
    assert queue.get(timeout=5) == want
