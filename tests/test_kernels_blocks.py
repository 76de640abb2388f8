"""Blocked, threaded evaluation (``derive.kernels.blocks``): bit for bit what one call on the whole array gives.

Blocks are made small here (64 / 256 float64 elements) so that arrays of a few thousand
elements are cut into dozens of boxes: along rows, along the last axis (elementwise
kernels only), through broadcast operands and leading axes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from derive import kernels
from derive.kernels import blocks as _blocks
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings

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


LAYOUTS = {"C": lambda a: a, "Fortran": np.asfortranarray, "reversed": lambda a: a[..., ::-1].copy()[..., ::-1]}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", VALID)
def test_blocked_equals_one_call_bit_for_bit(activation, loss, dtype, threads, monkeypatch, box_count):
    kernels.set_num_threads(threads)
    k = kernels.get(activation, loss)
    for (zs, ys), layout in zip(SHAPES + SHAPES[:2], ["C"] * len(SHAPES) + ["Fortran", "reversed"]):
        z, y = (LAYOUTS[layout](v) for v in _inputs(activation, loss, zs, ys, dtype))
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


_FORK_SCRIPT = """
import multiprocessing as mp, numpy as np
from derive import kernels

def delta():
    z = np.linspace(-40, 40, 64 * 64).reshape(64, 64)
    return float(kernels.get("sigmoid", "bce").delta(z, np.zeros_like(z)).sum())

def child(queue):
    queue.put(delta())

if __name__ == "__main__":
    kernels.set_num_threads(2)
    want = delta()  # the parent's pool runs
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=child, args=(queue,))
    proc.start()
    proc.join(timeout=30)
    if proc.is_alive():
        proc.kill()
        raise SystemExit("the child hung waiting for the parent's threads")
    assert queue.get(timeout=5) == want
    print("ok")
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork is POSIX")
def test_a_forked_child_gets_threads_of_its_own(tmp_path):
    # in a fresh interpreter: what other tests left in this one (JAX's and torch's threads) is not ours to fork
    script = tmp_path / "fork_child.py"
    script.write_text(_FORK_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("blocked", [True, False])
def test_a_row_off_one_by_many_tiny_parts_is_found_in_any_layout(layout, blocked, monkeypatch):
    # row 2 sums to 1 + 3e-4 from 3e5 parts of 1e-9: a sequential float32 sum loses them all
    n = 300_000
    y = np.zeros((4, n), np.float32)
    y[:, 0] = 1
    y[:, 1:] = np.float32(1 / (n - 1))
    y /= y.sum(-1, dtype=np.float64, keepdims=True).astype(np.float32)
    y[2, 0], y[2, 1:] = 1, np.float32(1e-9)
    if not blocked:
        monkeypatch.setattr(_blocks, "ROW_BLOCK", 10**12)
    with pytest.raises(ValueError, match=r"row 2 of y sums to 1\.000299"):
        kernels.get("softmax", "cce").delta(np.zeros((4, n), np.float32), LAYOUTS[layout](y))


def test_a_scalar_target_is_summed_over_the_units():
    k = kernels.get("softmax", "cce")
    with pytest.raises(ValueError, match="y sums to 10"):
        k.delta(np.zeros((4, 10)), 1.0)
    assert np.allclose(k.delta(np.zeros((4, 10)), 0.1), 0.0)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_kernel_called_from_an_errcall_inside_a_block(threads, monkeypatch):
    # np.seterrcall's handler runs inside a block, on whichever thread met the overflow
    kernels.set_num_threads(threads)
    k, inner = kernels.get("identity", "quadratic"), kernels.get("sigmoid", "bce")
    z = np.ones((400, 64))
    z[::7] = 1e200  # (z - y)^2 overflows in these rows: the handler is called
    zi = np.linspace(-30, 30, 400 * 64).reshape(400, 64)
    want_inner = _whole(monkeypatch, lambda: inner.delta(zi, np.zeros_like(zi)))
    seen = []

    def handler(kind, flag):
        seen.append(inner.delta(zi, np.zeros_like(zi)))  # a blocked call, inside a block

    result = []

    def outer():
        with np.errstate(over="call", call=handler):
            result.append(k.loss(z, np.zeros_like(z)))

    caller = threading.Thread(target=outer, daemon=True)  # a deadlock fails the test, not the run
    caller.start()
    caller.join(timeout=60)
    assert not caller.is_alive(), "the nested call waited on the pool it was running on"
    (got,) = result
    with np.errstate(over="ignore"):
        want = _whole(monkeypatch, lambda: k.loss(z, np.zeros_like(z)))
    _same_bits(got, want)  # the nested call did not write over the outer block's buffers
    assert seen and all(s.tobytes() == want_inner.tobytes() for s in seen)


def test_dirichlet_targets_of_a_quarter_million_classes_are_accepted():
    # numpy.random.dirichlet normalises by a sequential sum: off 1 by ~sqrt(n) eps, not log2(n) eps
    y = np.random.default_rng(0).dirichlet(np.ones(262_145))
    assert abs(y.sum(dtype=np.float64) - 1) > 4 * np.finfo(float).eps * (1 + np.log2(y.size))
    assert np.isfinite(kernels.get("softmax", "cce").delta(np.zeros_like(y), y)).all()
