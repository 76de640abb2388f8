"""Generated kernels vs hand-written stable NumPy vs SciPy vs raw ``lambdify(diff(...))``.

    python -m bench            # 1e7 elements (softmax: 4096 x 1000), float64 and float32, best of 7

Columns (ms, best of N, the columns of a row timed in turn; ratios against the hand-written
NumPy of the same run):

- generated: ``derive.kernels`` (stable for every finite input, see tests/test_kernels_contract.py).
- hand NumPy: the stable code one writes by hand as NumPy expressions: sigmoid by
  exp(-|z|) and np.where, softplus by logaddexp, tanh' by exp(-2|z|), softmax by max-shift,
  cce loss by max + log(sum exp) (gelu needs scipy.special.ndtr: NumPy has no erf).
- SciPy: scipy.special's own functions (expit, log_expit, softmax, log_softmax). Faster on
  sigmoid+bce, but expit(-710) flushes 4.5e-309 to 0 and expit(50) - 1 is 0 where the
  generated kernel gives -1.9e-22.
- lambdify: ``sympy.lambdify(diff(l(f(z), y), z))`` of the elementary definitions, no
  rewriting (overflows, nan at wide logits; timed with warnings silenced).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from scipy import special as sps

from derive import kernels
from derive.cli import reader_may_leave


# --- hand-written stable NumPy ---------------------------------------------------------------


def _np_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _np_sigmoid_pair(z):
    e = np.exp(-np.abs(z))
    p, q = 1 / (1 + e), e / (1 + e)
    pos = z >= 0
    return np.where(pos, p, q), np.where(pos, q, p)


def _np_gelu_prime(z):
    return sps.ndtr(z) + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


HAND = {
    ("sigmoid", "bce"): lambda z, y: _np_sigmoid(z) - y,
    ("sigmoid", "quadratic"): lambda z, y: (lambda s, c: s * c * (s - y))(*_np_sigmoid_pair(z)),
    ("tanh", "quadratic"): lambda z, y: (lambda e: 4 * e / (1 + e) ** 2 * (np.tanh(z) - y))(np.exp(-2 * np.abs(z))),
    ("softplus", "quadratic"): lambda z, y: (np.logaddexp(0, z) - y) * _np_sigmoid(z),
    ("gelu", "huber"): lambda z, y: _np_gelu_prime(z) * np.clip(z * sps.ndtr(z) - y, -1, 1),
    ("softmax", "cce"): lambda z, y: (lambda e: e / e.sum(axis=-1, keepdims=True) - y)(
        np.exp(z - z.max(axis=-1, keepdims=True))),
}
HAND_LOSS = {
    ("sigmoid", "bce"): lambda z, y: (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum(axis=-1),
    ("softmax", "cce"): lambda z, y: (lambda d: (y * (np.log(np.exp(d).sum(axis=-1, keepdims=True)) - d)).sum(axis=-1))(
        z - z.max(axis=-1, keepdims=True)),
}
SCIPY = {
    ("sigmoid", "bce"): lambda z, y: sps.expit(z) - y,
    ("sigmoid", "quadratic"): lambda z, y: (lambda s: s * sps.expit(-z) * (s - y))(sps.expit(z)),
    ("softplus", "quadratic"): lambda z, y: (np.logaddexp(0, z) - y) * sps.expit(z),
    ("softmax", "cce"): lambda z, y: sps.softmax(z, axis=-1) - y,
}
SCIPY_LOSS = {
    ("sigmoid", "bce"): lambda z, y: (y * -sps.log_expit(z) + (1 - y) * -sps.log_expit(-z)).sum(axis=-1),
    ("softmax", "cce"): lambda z, y: -(y * sps.log_softmax(z, axis=-1)).sum(axis=-1),
}


def _lambdified(act, loss):
    """The toy: lambdify(diff(l(f(z), y), z)) of the elementary definitions, no rewriting."""
    import sympy as sp

    from derive.symbolic.catalogue import ACTIVATIONS, LOSSES
    from derive.symbolic.functions import expand_named

    zs, ys = sp.symbols("z y", real=True)
    cost = expand_named(LOSSES[loss].term(ACTIVATIONS[act].f(zs), ys))
    return sp.lambdify((zs, ys), sp.diff(cost, zs), ["scipy", "numpy"])


ROWS = [("sigmoid", "bce"), ("sigmoid", "quadratic"), ("tanh", "quadratic"), ("softplus", "quadratic"),
        ("gelu", "huber"), ("softmax", "cce")]


def best(fns, *args, repeat, warmup=0.3):
    """{name: best of ``repeat`` timed calls}, the candidates timed in turn, round by round, so
    that a busy spell of a shared machine falls on all of them alike. Each first gets two
    untimed calls and ``warmup`` seconds: first calls (imports, thread start, page faults, the
    clock ramping up) are not the speed."""
    for fn in fns.values():
        calls, until = 0, time.perf_counter() + warmup
        while calls < 2 or time.perf_counter() < until:
            fn(*args)
            calls += 1
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(*args)
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}


def _quiet(fn):
    """fn with NumPy's overflow / invalid warnings off (raw lambdify makes plenty)."""

    def call(*args):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args)

    return call


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=1e7, help="elements per call (default 1e7; at least 1e4)")
    p.add_argument("--repeat", type=int, default=7, help="best of N (default 7; at least 1)")
    args = p.parse_args(argv)
    if not args.size >= 1e4:
        p.error(f"--size must be at least 1e4 (rows of 1000, softmax 4096 rows), got {args.size:g}")
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1, got {args.repeat}")
    size = int(args.size)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}; {size:.0e} elements (softmax: 4096 x {size // 10000}); best of {args.repeat}; ms")
    print(f"{'kernel':28} {'dtype':8} {'generated':>10} {'hand NumPy':>11} {'SciPy':>8} {'lambdify':>9}"
          f" {'gen/hand':>9} {'lambdify/gen':>13}")
    for dtype in (np.float64, np.float32):
        for act, loss in ROWS:
            for what in ("delta", "loss"):
                hand = (HAND if what == "delta" else HAND_LOSS).get((act, loss))
                if hand is None:
                    continue
                shape = (4096, size // 10000) if act == "softmax" else (size // 1000, 1000)
                z = rng.normal(0, 8, shape).astype(dtype)
                y = rng.uniform(0, 1, shape).astype(dtype)
                if act == "softmax":
                    y /= y.sum(axis=-1, keepdims=True)
                fns = {"gen": getattr(kernels.get(act, loss), what), "hand": hand}
                scipy_fn = (SCIPY if what == "delta" else SCIPY_LOSS).get((act, loss))
                if scipy_fn:
                    fns["scipy"] = scipy_fn
                if what == "delta" and act != "softmax":
                    fns["lambdify"] = _quiet(_lambdified(act, loss))
                t = best(fns, z, y, repeat=args.repeat)
                t_gen, t_hand, t_sp, t_lam = t["gen"], t["hand"], t.get("scipy"), t.get("lambdify")
                ms = lambda t: f"{t * 1e3:.1f}" if t is not None else "-"  # noqa: E731
                ratio = f"{t_lam / t_gen:.1f}x" if t_lam else "-"
                print(f"{act + '+' + loss + ' ' + what:28} {np.dtype(dtype).name:8} {ms(t_gen):>10} {ms(t_hand):>11}"
                      f" {ms(t_sp):>8} {ms(t_lam):>9} {t_gen / t_hand:>8.2f}x {ratio:>13}")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(reader_may_leave(main))
