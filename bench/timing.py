"""Timing and memory of the candidates of one benchmark row.

    sample(fns, repeat)   # {name: [seconds per call, one per round]}, the candidates in turn
    peak_extra(fn)        # bytes allocated at the peak of one call, beyond what was held before
"""

from __future__ import annotations

import statistics
import time
import tracemalloc


def sample(fns, repeat, min_time=1e-3):
    """({name: [seconds per call] x ``repeat``}, {name: the first call's result}): each round times
    every candidate in turn, so that a busy spell of a shared machine falls on all alike. A sample
    is the mean of as many calls as the untimed warm-up made in ``min_time`` (small calls: one call
    is too short to time; the first calls, with imports, thread starts and page faults, are not
    timed)."""
    number, first = {}, {}
    for name, fn in fns.items():
        t0, calls = time.perf_counter(), 0
        while calls < 1 or time.perf_counter() - t0 < min_time:
            result = fn()
            first.setdefault(name, result)
            calls += 1
        number[name] = calls
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = number[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return times, first


def spread(ts):
    """(median, min, max)."""
    return statistics.median(ts), min(ts), max(ts)


def peak_extra(fn):
    """Bytes at the peak of one call of fn beyond those held before it (NumPy reports its buffers to
    tracemalloc; PyTorch's allocator does not, so only NumPy candidates are measured)."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before
