"""The derived kernels on PyTorch, JAX and Dask against the frameworks' own loss functions.

    python -m bench.backends                 # CPU: torch, jax (jit), dask; float32, best of 5
    python -m bench.backends --device cuda   # torch on the GPU (bench/gpu_check.sh)

Rows (ms, best of N; ratio = derive / framework, under 1 is faster):

- torch, forward+backward, what a training step calls: ``derive.torch.loss_fn(a, l)(z, y).sum()``
  then ``.backward()``, against ``F.binary_cross_entropy_with_logits``, ``F.cross_entropy``
  (probability targets), ``F.mse_loss``, ``F.huber_loss`` (reduction "sum": the same total).
- jax, ``jax.jit(jax.value_and_grad(...))`` of the summed loss: ``derive.jax.loss_fn`` against
  optax (sigmoid_binary_cross_entropy, softmax_cross_entropy, l2_loss, huber_loss) and jax.nn
  (log_softmax for cce).
- dask: sigmoid + bce delta chunk by chunk on the threaded scheduler, elements per second per
  core, against the NumPy kernel on the same array in memory.

Numbers are noisy where other processes share the cores; the README keeps a run's table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from derive import kernels

ROWS, UNITS = 4096, 1000


def best(fn, repeat):
    fn()  # warm-up (jit, torch's allocator)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def inputs(rng, loss):
    z = rng.normal(0, 5, (ROWS, UNITS)).astype(np.float32)
    if loss == "cce":
        y = rng.dirichlet(np.ones(UNITS), ROWS).astype(np.float32)
    elif loss == "bce":
        y = rng.uniform(0, 1, (ROWS, UNITS)).astype(np.float32)
    else:
        y = rng.normal(0, 5, (ROWS, UNITS)).astype(np.float32)
    return z, y


def torch_rows(device, repeat):
    import torch
    import torch.nn.functional as F

    from derive.torch import loss_fn

    theirs = [
        ("sigmoid", "bce", "F.binary_cross_entropy_with_logits",
         lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum")),
        ("softmax", "cce", "F.cross_entropy", lambda z, y: F.cross_entropy(z, y, reduction="sum")),
        ("identity", "mse", "F.mse_loss", lambda z, y: F.mse_loss(z, y, reduction="sum") / UNITS),
        ("identity", "huber", "F.huber_loss", lambda z, y: F.huber_loss(z, y, reduction="sum")),
    ]
    rng = np.random.default_rng(0)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for act, loss, name, other in theirs:
        z0, y0 = (torch.from_numpy(a).to(device) for a in inputs(rng, loss))
        ours = loss_fn(act, loss)

        def step(f):
            def run():
                z = z0.clone().requires_grad_(True)
                f(z, y0).sum().backward()
                sync()
            return run

        a = best(step(ours), repeat)
        b = best(step(other), repeat)
        yield f"torch {device}", f"{act} + {loss}", "forward+backward", a, b, name


def jax_rows(repeat):
    import jax
    import jax.numpy as jnp

    from derive.jax import loss_fn

    try:
        import optax
    except ImportError:
        optax = None
    theirs = [("softmax", "cce", "jax.nn.log_softmax", lambda z, y: -(y * jax.nn.log_softmax(z)).sum())]
    if optax is not None:
        theirs += [
            ("sigmoid", "bce", "optax.sigmoid_binary_cross_entropy",
             lambda z, y: optax.sigmoid_binary_cross_entropy(z, y).sum()),
            ("softmax", "cce", "optax.softmax_cross_entropy", lambda z, y: optax.softmax_cross_entropy(z, y).sum()),
            ("identity", "quadratic", "optax.l2_loss", lambda z, y: optax.l2_loss(z, y).sum()),
            ("identity", "huber", "optax.huber_loss", lambda z, y: optax.huber_loss(z, y).sum()),
        ]
    rng = np.random.default_rng(0)
    for act, loss, name, other in theirs:
        z, y = (jnp.asarray(a) for a in inputs(rng, loss))
        ours = loss_fn(act, loss)
        f_ours = jax.jit(jax.value_and_grad(lambda z, y: ours(z, y).sum()))
        f_other = jax.jit(jax.value_and_grad(other))
        a = best(lambda: jax.block_until_ready(f_ours(z, y)), repeat)
        b = best(lambda: jax.block_until_ready(f_other(z, y)), repeat)
        yield "jax cpu (jit)", f"{act} + {loss}", "value_and_grad", a, b, name


def dask_rows(repeat):
    import dask
    import dask.array as da

    k = kernels.get("sigmoid", "bce")
    n = 4 * 10**7
    rng = np.random.default_rng(0)
    z, y = rng.normal(0, 5, n), rng.uniform(0, 1, n)
    zd, yd = da.from_array(z, chunks=2**22), da.from_array(y, chunks=2**22)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with dask.config.set(scheduler="threads"):
        a = best(lambda: k.delta(zd, yd).compute(), repeat)
    b = best(lambda: k.delta(z, y), repeat)
    per_core = n / (a / 1e3) / cores
    yield "dask threads", "sigmoid + bce", f"delta, 4e7 float64 ({per_core / 1e6:.0f} M/s/core)", a, b, "NumPy kernel"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="torch device (cpu or cuda); jax and dask run on the CPU")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["torch", "jax", "dask"], action="append")
    args = parser.parse_args(argv)
    only = set(args.only or (["torch"] if args.device != "cpu" else ["torch", "jax", "dask"]))
    print(f"{ROWS} x {UNITS} float32 (dask: 4e7 float64), best of {args.repeat}; ratio = derive / theirs")
    print(f"{'backend':<15} {'pairing':<18} {'what':<28} {'derive ms':>10} {'theirs ms':>10} {'ratio':>6}  theirs")
    makers = {"torch": lambda: torch_rows(args.device, args.repeat), "jax": lambda: jax_rows(args.repeat),
              "dask": lambda: dask_rows(args.repeat)}
    for name in ("torch", "jax", "dask"):
        if name not in only:
            continue
        try:
            for backend, pairing, what, a, b, other in makers[name]():
                print(f"{backend:<15} {pairing:<18} {what:<28} {a:>10.1f} {b:>10.1f} {a / b:>6.2f}  {other}", flush=True)
        except ImportError as err:
            print(f"{name}: skipped ({err}): pip install 'derive[{name}]'", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
