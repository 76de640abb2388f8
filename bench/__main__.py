"""Side by side: the derive kernels, PyTorch CPU, hand-written NumPy and the memory floor.

    python -m bench            # every pairing family, float32 and float64, 1e7 / 4096 x 1000, 1e5, 1e3
    python -m bench --quick    # the pairings users compare first, fewer repeats
    python -m bench --only softmax+ --sizes large --dtypes float32   # a subset of the rows

Rows (``bench.compare.rows``): each elementwise activation with quadratic, sigmoid with each
loss, softmax with each loss, gelu + huber, softmax + cce with class-index targets ("cce[index]"); loss and
delta; float64 and float32; large (1e7 elements, softmax 4096 x 1000), 1e5 and 1e3 elements
(call overhead). Columns: median time per call, ms, with
[min-max] over the rounds (each round times the candidates in turn); derive/torch, derive/hand
and derive/floor from the medians (under 1: derive is faster); extra: MB allocated at the peak of
one derive call (tracemalloc) beyond its output (the per-thread blocks, a few buffers of 1 MB
(elementwise) or 2 MB (rows) per thread, are made on the first call and kept); agree: derive vs PyTorch,
largest difference relative to the largest |value| ("!" past 1e-4 in float32, 1e-10 in float64:
PyTorch's shortcuts show there, as F.softplus's z above 20 taken as z, and the gradient of
F.binary_cross_entropy, whose log a is clamped at -100 (softmax + bce: the y_k / a_k terms of classes
with a_k < e^-100 are dropped; at 4096 x 1000 one row's delta is 17% off, where derive agrees with
mpmath from the textbook definition to 5e-19) and a (1 - a) at 1e-12, and of F.hardsigmoid, whose
slope 1/6 is a float32 constant in float64 too).
PyTorch runs with the kernels' thread count (``torch.set_num_threads``; ``--threads``: both);
NumPy by hand is one thread, as NumPy is. OMP_WAIT_POLICY is PASSIVE unless set: PyTorch's
spinning OpenMP threads otherwise take the core the next candidate runs on, and where other
processes share the cores its own small calls take milliseconds. See ``bench.compare`` for what each column calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from bench.compare import candidates, inputs, left_out, rows
from bench.summary import Result, Summary, memory_bound
from bench.timing import peak_extra, sample, spread
from derive import kernels
from derive.cli import reader_may_leave

SIZES = {"large": (10**7, (4096, 1000)), "1e5": (10**5, (100, 1000)), "1e3": (10**3, (10, 100))}


def _shape(act, size):
    n, softmax_shape = SIZES[size]
    return softmax_shape if act == "softmax" else (n // 1000, 1000) if n >= 10**4 else (n // 100, 100)


def _ms(t):
    return f"{t * 1e3:.3f}" if t < 1e-3 else f"{t * 1e3:.2f}" if t < 1e-1 else f"{t * 1e3:.1f}"


def _agree(got, want, dtype):
    want = np.asarray(want.detach().numpy() if hasattr(want, "detach") else want, dtype=np.float64)
    scale = np.max(np.abs(want)) or 1.0
    err = float(np.max(np.abs(np.asarray(got, np.float64) - want)) / scale)
    return f"{err:.0e}" + ("!" if err > (1e-4 if dtype == np.float32 else 1e-10) else "")


HEADER = (f"{'kernel':26} {'dtype':7} {'size':5} {'derive':>17} {'torch':>17} {'hand':>8} {'floor':>7}"
          f" {'d/torch':>7} {'d/hand':>6} {'d/floor':>7} {'extra':>5} {'agree':>6}")


def row(act, loss, what, dtype, size, repeat, rng):
    """(the printed line, its ``Result``)."""
    z, y = inputs(act, loss, _shape(act, size), dtype, rng)
    fns = candidates(act, loss, what, z, y)
    times, first = sample(fns, repeat)
    agree = _agree(first["derive"], first["torch"], dtype)
    med = {name: spread(ts) for name, ts in times.items()}
    d, t, h, f = (med[k][0] for k in ("derive", "torch", "hand", "floor"))
    extra = (peak_extra(fns["derive"]) - first["derive"].nbytes) / 2**20
    span = lambda k: f"{_ms(med[k][0])} [{_ms(med[k][1])}-{_ms(med[k][2])}]"  # noqa: E731
    name, dt = f"{act}+{loss} {what}", np.dtype(dtype).name
    line = (f"{name:26} {dt:7} {size:5} {span('derive'):>17}"
            f" {span('torch'):>17} {_ms(h):>8} {_ms(f):>7} {d / t:>7.2f} {d / h:>6.2f} {d / f:>7.2f}"
            f" {extra:>5.1f} {agree:>6}")
    return line, Result(name, dt, size, d, t, f, extra, memory_bound(act, loss, what))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="four pairings, large size only, 5 rounds")
    p.add_argument("--repeat", type=int, default=5, help="rounds per row (default 5; at least 5)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for derive, PyTorch and the floor alike (default: derive's, kernels.get_num_threads())")
    p.add_argument("--sizes", default=None, help=f"comma-separated, of {', '.join(SIZES)} (default: all)")
    p.add_argument("--only", default=None, metavar="TEXT,...",
                   help="rows whose name (as printed, e.g. 'softmax+bce delta') contains one of these, comma-separated")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated, of float64, float32 (default: both)")
    args = p.parse_args(argv)
    if args.repeat < 5:
        p.error(f"--repeat must be at least 5 (a median and a spread), got {args.repeat}")
    sizes = args.sizes.split(",") if args.sizes else (["large"] if args.quick else list(SIZES))
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        p.error(f"unknown size {unknown[0]!r}; the sizes are {', '.join(SIZES)}")
    dtypes = args.dtypes.split(",")
    if bad := [d for d in dtypes if d not in ("float64", "float32")]:
        p.error(f"unknown dtype {bad[0]!r}; the dtypes are float64, float32")
    only = [t for t in args.only.split(",") if t] if args.only else None
    chosen = [(act, loss, what) for act, loss in rows(args.quick) for what in ("loss", "delta")
              if only is None or any(t in f"{act}+{loss} {what}" for t in only)]
    if not chosen:
        p.error(f"--only {args.only!r} matches no row; rows are named like 'softmax+bce delta'")
    # PyTorch's OpenMP threads spin after each parallel region (libgomp's default): on a machine
    # whose cores are shared they take the core the next candidate runs on, and small PyTorch calls
    # wait milliseconds for a descheduled spinner. Passive waiting, unless the caller chose.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        p.error("the benchmark compares with PyTorch CPU: pip install 'derive[torch]'")

    if args.threads is not None:
        if args.threads < 1:
            p.error(f"--threads must be at least 1, got {args.threads}")
        kernels.set_num_threads(args.threads)
    threads = kernels.get_num_threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    print(f"numpy {np.__version__}, torch {torch.__version__}; {threads} threads (derive, torch, floor),"
          f" OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; median [min-max] of {args.repeat} rounds, ms per call")
    print(HEADER)
    summary = Summary(threads)
    for size in sizes:
        for dtype in dtypes:
            for act, loss, what in chosen:
                line, result = row(act, loss, what, np.dtype(dtype).type, size, args.repeat, rng)
                summary.add(result)
                print(line)
                sys.stdout.flush()
    print(summary.report())
    missing = left_out()
    print(f"({time.perf_counter() - start:.0f} s)" + (f"; left out, no hand-written form in bench.compare: {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(reader_may_leave(main))
