"""Blocked, threaded evaluation of the generated kernels (SymPy-free).

A generated kernel makes one NumPy pass per operation. Over a whole 1e7-element
array each pass streams 80 MB through memory; over blocks of 1 MB per operand
every pass after the first reads what the previous one left in the cache,
and blocks spread over threads (NumPy's ufuncs release the GIL). Results are
bit-identical to one call on the whole array: blocks are boxes of whole rows
(row-wise kernels: softmax, sums over the units, n = the row length) or, for
elementwise kernels, any box.

    set_num_threads(1)       # or DERIVE_NUM_THREADS=1: one thread, still blocked
"""

from __future__ import annotations

import itertools
import math
import os
import threading

import numpy as np

__all__ = ["evaluate", "get_num_threads", "set_num_threads"]

# bytes per operand per block: a block's z, y, result and buffers stay in cache, and each NumPy
# call is long enough that the other thread's calls (the GIL is held between them) rarely wait
BLOCK = 1 << 20
ROW_BLOCK = 1 << 21  # whole-row kernels make more, smaller NumPy calls per block: larger blocks
SCRATCH = 1 << 16  # bytes per operand from which an unblocked call takes the thread's scratch buffers

_lock = threading.Lock()
_threads: int | None = None
_pool, _pool_size = None, 0  # a concurrent.futures.ThreadPoolExecutor, made on first need (its import costs 6 ms)


def _checked(n, source):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{source} must be a whole number of threads >= 1, got {n!r}")
    return n


def _default_threads() -> int:
    env = os.environ.get("DERIVE_NUM_THREADS")
    if env is not None:
        try:
            return _checked(int(env), "DERIVE_NUM_THREADS")
        except ValueError:
            raise ValueError(f"DERIVE_NUM_THREADS must be a whole number of threads >= 1, got {env!r}") from None
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, not the machine's
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Threads a large kernel call uses: set_num_threads(n), else DERIVE_NUM_THREADS, else the usable cores."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (>= 1) for large kernel calls; 1 keeps every call on the caller's thread."""
    global _threads
    _threads = _checked(n, "set_num_threads(n)")


def _submit(workers: int, task) -> list:
    """``task`` on ``workers`` pool threads. The pool grows under the lock, and submitting is under
    it too: a pool is never shut down between a call's getting it and submitting to it."""
    global _pool, _pool_size
    from concurrent.futures import ThreadPoolExecutor

    with _lock:
        if _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # what it was given still runs
            _pool_size = max(workers, get_num_threads() - 1)
            _pool = ThreadPoolExecutor(_pool_size, thread_name_prefix="derive-kernel")
        return [_pool.submit(task) for _ in range(workers)]


def _after_fork_in_child():
    # a forked child (multiprocessing, data loaders) has none of the parent's threads: a new pool
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Scratch:
    """``empty(shape, dtype)`` for one block: the k-th call of a block gets the k-th buffer of
    this thread, kept across blocks and calls (``reset`` starts a block). Fresh buffers per block
    would be handed back to malloc and page-faulted in again (glibc trims a freed heap top)."""

    def __init__(self):
        self.buffers, self.views, self.used = [], [], 0

    def reset(self):
        self.used = 0

    def empty(self, shape, dtype):
        k = self.used
        if k < len(self.views):  # the same request as in the last block: its view again
            view = self.views[k]
            if view.shape == shape and view.dtype == dtype:
                self.used += 1
                return view
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if nbytes > 2 * ROW_BLOCK:  # a huge row: not worth keeping
            return np.empty(shape, dtype)
        if k == len(self.buffers):
            self.buffers.append(np.empty(0, np.uint8))
            self.views.append(self.buffers[k])
        if self.buffers[k].size < nbytes:
            self.buffers[k] = np.empty(nbytes, np.uint8)
        self.views[k] = self.buffers[k][:nbytes].view(dtype).reshape(shape)
        self.used += 1
        return self.views[k]

    def holds(self, arr) -> bool:
        """True where ``arr`` is a view of one of the buffers (a result that must be copied out)."""
        base = arr.base
        return base is not None and any(base is b for b in self.buffers)


class _Local(threading.local):
    busy = False  # inside a block or a small call: a nested call (an errcall, a warning hook) takes fresh buffers
    scratch = None  # class attributes: a thread's first look finds them without an AttributeError


_local = _Local()


def _scratch() -> _Scratch:
    scratch = _local.scratch
    if scratch is None:
        scratch = _local.scratch = _Scratch()
    return scratch


def _boxes(shape, split_last: bool, block: int):
    """Index tuples that tile ``shape`` in boxes of about ``block`` elements; the last axis is cut
    only when ``split_last``."""
    ndim = len(shape)
    cuttable = ndim if split_last else ndim - 1
    # the outermost axis whose inner box fits a block: cut it in chunks, enumerate the axes before it
    axis = next((k for k in range(cuttable) if math.prod(shape[k + 1:]) <= block), cuttable - 1)
    chunk = max(1, block // max(1, math.prod(shape[axis + 1:])))
    for outer in np.ndindex(*shape[:axis]):
        for start in range(0, shape[axis], chunk):
            yield outer + (slice(start, start + chunk),)


def _widened(args, dtype, widen=None):
    """Bool and integer arguments as ``dtype`` (a block's worth at a time, in ``evaluate``), those
    with ``widen[i]`` False (class indices) as they are; all in C order, broadcast ones (a zero
    stride) aside: NumPy sums C-ordered rows pairwise and others sequentially, and a row sum of an
    argument (poisson's sum y) must round alike in a block and in one call, whatever the layout."""
    for v in args:  # the common case (floating, C order) costs a loop, no copies
        if v.dtype.kind != "f" or not v.flags.c_contiguous:
            break
    else:
        return args
    out = []
    for i, v in enumerate(args):
        if v.dtype.kind != "f" and (widen is None or widen[i]):
            v = v.astype(dtype, order="C")
        elif not v.flags.c_contiguous and all(v.strides):
            v = np.ascontiguousarray(v)
        out.append(v)
    return out


def direct(*args) -> bool:
    """True where ``evaluate`` makes one call on these floating arrays of one shape and dtype as they are,
    with fresh buffers: small, in C order, the thread count known (a bad DERIVE_NUM_THREADS fails there)."""
    nbytes = args[0].nbytes
    if nbytes >= SCRATCH or nbytes >= 2 * BLOCK or _threads is None:
        return False
    for v in args:
        if not v.flags.c_contiguous:
            return False
    return True


def evaluate(fn, args, shape, dtype, *, rows: bool, elementwise: bool, check=None, widen=None):
    """``fn(*args, shape, dtype)`` over blocks of ``shape``, into one result.

    ``rows``: fn reduces the last axis (result shape ``shape[:-1]``); ``elementwise``: fn may
    see any box, else whole rows only. ``check(*args)``, when given, sees each block's arguments
    before fn does (an exception stops the call). ``widen``: per argument, False to pass an integer
    argument as it is (default: bool and integer arguments become ``dtype``).
    """
    threads = _threads or get_num_threads()  # a bad DERIVE_NUM_THREADS fails on the first call, whatever its size
    split_last = elementwise and not rows
    itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize
    block = (BLOCK if elementwise else ROW_BLOCK) // itemsize
    size = math.prod(shape)
    if size < 2 * block or (len(shape) < 2 and not split_last) or _local.busy:
        args = _widened(args, dtype, widen)
        if check is not None:
            check(*args)
        if size * itemsize < SCRATCH or _local.busy:  # fresh buffers: cheap at this size (malloc's free lists)
            return fn(*args, shape, dtype)  # and a nested call must not reuse the outer call's
        return _one_call(fn, args, shape, dtype, rows)
    out = np.empty(shape[:-1] if rows else shape, dtype)
    full = [np.broadcast_to(v, shape) for v in args]
    boxes = list(_boxes(shape, split_last, block))

    def run(box):
        part = _widened([v[box] for v in full], dtype, widen)
        if check is not None:
            check(*part)
        scratch = _scratch()
        scratch.reset()
        if rows:
            out[box] = fn(*part, part[0].shape, dtype, empty=scratch.empty)  # by name: parameters (delta=) come first
        else:
            fn(*part, part[0].shape, dtype, empty=scratch.empty, out=out[box])

    # dynamic scheduling: each thread takes the next box (next() on a count is atomic under the GIL)
    order, failed = itertools.count(), threading.Event()
    err, call = np.geterr(), np.geterrcall()  # the caller's: NumPy < 2 keeps them per thread

    def work():
        _local.busy = True
        try:
            with np.errstate(call=call, **err):
                while not failed.is_set() and (i := next(order)) < len(boxes):
                    run(boxes[i])
        except BaseException:
            failed.set()  # the others stop at their next box
            raise
        finally:
            _local.busy = False

    workers = min(threads, len(boxes))
    futures = _submit(workers - 1, work) if workers > 1 else []
    try:
        work()
    finally:
        for f in futures:
            f.result()
    return out


def _one_call(fn, args, shape, dtype, rows):
    """fn on the whole arrays, on the caller's thread, with its scratch buffers (made once, as the blocks'):
    fresh ones would add a few operands' worth to each call's peak memory (no time: glibc reuses them)."""
    scratch = _scratch()
    scratch.reset()
    _local.busy = True
    try:
        if not rows:
            out = np.empty(shape, dtype)
            fn(*args, shape, dtype, empty=scratch.empty, out=out)
            return out
        out = fn(*args, shape, dtype, empty=scratch.empty)
        return out.copy() if scratch.holds(out) else out  # the result must outlive the buffers
    finally:
        _local.busy = False
