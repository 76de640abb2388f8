"""Class-index targets for softmax + cce (PyTorch's convention): y[...] = t, the class of each sample.

    k = get("softmax", "cce");  k.loss(z, t), k.delta(z, t)   # z: (..., n) floats, t: (...) integers

    loss  = logsumexp(z) - z_t = (max z - z_t) + log sum_k e^{z_k - max z}   (a gather, no one-hot)
    delta = softmax(z) - onehot(t),  at the target: a_t - 1 = -sum_{k != t} e_k / sum_k e_k

An integer y whose shape is z.shape[:-1] holds class indices (z of shape (n, n) with an integer y of
shape (n,) is read so too: pass one-hot rows as floats, or with z's shape). Each index is checked in
[0, n). NumPy arrays and CPU tensors run the gather below, blocked and threaded as every kernel is
(``blocks``); other arrays (GPU tensors, JAX, Dask) take one-hot rows in their own namespace.
"""

from __future__ import annotations

import numpy as np

from derive.kernels.blocks import evaluate
from derive.kernels.checks import _compute_dtype

# pairings whose targets may be class indices: the loss is -log a_t, the delta a - onehot(t)
PAIRS = frozenset({("softmax", "cce")})


def _dtype_name(y):
    dt = getattr(y, "dtype", None)
    if dt is None:
        dt = np.asarray(y).dtype
    return dt.name if isinstance(dt, np.dtype) else str(dt).rpartition(".")[2]  # torch.int64 -> int64


def _integral(name):
    return name.startswith(("int", "uint"))


def _shape_of(v):
    return tuple(v.shape) if hasattr(v, "shape") else np.shape(v)


def applies(kernel, z, y) -> bool:
    """True where y holds class indices for ``kernel`` (an integer array of shape z.shape[:-1]);
    a ``TypeError``/``ValueError`` for targets shaped as indices but not usable as any targets."""
    if (kernel.activation, kernel.loss_name) not in PAIRS or isinstance(y, (bool, float)):
        return False
    zs, ys = _shape_of(z), _shape_of(y)
    if not zs or len(ys) != len(zs) - 1:
        return False
    name = _dtype_name(y)
    pairing = f"{kernel.activation} + {kernel.loss_name}"
    if ys == zs[:-1] and _integral(name):
        return True
    try:
        np.broadcast_shapes(zs, ys)
        return False  # y broadcasts along z's rows: probability (or one-hot) rows, as before
    except ValueError:
        pass
    if ys == zs[:-1]:
        raise TypeError(
            f"{pairing}: y of shape {ys} (z.shape[:-1], z has shape {zs}) is read as class indices, which must be "
            f"integers, got dtype {name}; pass y.astype(int) for indices, or targets of z's shape {zs} "
            "(one-hot rows or probability vectors)")
    if _integral(name):
        raise ValueError(
            f"{pairing}: class-index targets y must have shape z.shape[:-1] = {zs[:-1]} (one index per sample), "
            f"got shape {ys}; z has shape {zs}")
    return False


def check_range(t, n, pairing):
    """Every index in [0, n), else a ``ValueError`` naming the first bad one, its place and n."""
    if t.size == 0 or (np.min(t) >= 0 and np.max(t) < n):
        return
    bad = (t < 0) | (t >= n)
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), t.shape))
    place = f"sample {where[0] if len(where) == 1 else where}" if where else "the sample"
    raise ValueError(
        f"{pairing}: class index {int(t[where])} at {place} is outside [0, {n}): z has {n} classes on its "
        "last axis, and class indices count from 0 (negative indices are not taken from the end)")


def evaluate_numpy(kernel, z, y, loss):
    """The loss (``loss``) or delta of class indices y on NumPy arrays, blocked and threaded."""
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":
        raise TypeError(f"z must be real numbers (bool, integer or floating), got dtype {z.dtype}")
    t = np.asarray(y)
    check_range(t, z.shape[-1], f"{kernel.activation} + {kernel.loss_name}")
    dtype, work = _compute_dtype(z)
    out = evaluate(_loss if loss else _delta, (z, t[..., None]), z.shape, work, rows=loss, elementwise=False,
                   widen=(True, False))
    return out.astype(dtype, copy=False)


def _parts(z, y, shape, dtype, empty):
    """(index of each row's target, shape (..., 1); e = e^{z - max z} with e_t = 0; e_t; max z - z_t)."""
    idx = y[..., :1].astype(np.intp, copy=False)  # y arrives broadcast along the units
    e = empty(shape, dtype)
    m = np.max(z, axis=-1, keepdims=True)
    with np.errstate(over="ignore"):  # rows spanning more than the float range: -inf, e = 0 as it should be
        np.subtract(z, m, out=e)
        gap = m - np.take_along_axis(z, idx, axis=-1)  # inf only where the loss is above the float range
    np.exp(e, out=e)
    e_t = np.take_along_axis(e, idx, axis=-1)
    np.put_along_axis(e, idx, 0.0, axis=-1)
    return idx, e, e_t, gap


def _loss(z, y, shape, dtype, empty=np.empty):
    """(max z - z_t) + log(sum e): log1p of the others where t is a top class (e_t = 1): a loss of
    e^{-40} keeps its digits there, where log(1 + rest) would round to 0."""
    _, e, e_t, gap = _parts(z, y, shape, dtype, empty)
    rest = np.sum(e, axis=-1, keepdims=True)
    log_total = np.where(gap == 0, np.log1p(rest), np.log(rest + e_t))
    return (gap + log_total)[..., 0]


def _delta(z, y, shape, dtype, empty=np.empty, out=None):
    """e / (rest + e_t), and -rest / (rest + e_t) at the target: a_t - 1 without the cancellation."""
    idx, e, e_t, _ = _parts(z, y, shape, dtype, empty if out is None else (lambda s, d: out))
    rest = np.sum(e, axis=-1, keepdims=True)
    total = rest + e_t
    e /= total
    np.put_along_axis(e, idx, -rest / total, axis=-1)
    return e


def one_hot(lib, z, y):
    """Class indices y as one-hot rows of z's dtype, in the arrays' own namespace; the indices are
    checked where their values are at hand (not under ``jax.jit``, not in a lazy Dask graph)."""
    from derive.kernels.xp import _device, namespace, to_numpy

    xp = namespace(z, y)
    n = z.shape[-1]
    if lib != "dask" and not _traced(lib, y):
        check_range(to_numpy(y), n, "softmax + cce")
    classes = xp.arange(n, device=_device(xp, z)) if lib != "dask" else np.arange(n)
    return xp.astype(y[..., None] == classes, z.dtype)


def _traced(lib, v):
    if lib != "jax":
        return False
    import jax

    return isinstance(v, jax.core.Tracer)


def evaluate_any(kernel, z, y, loss, rerun):
    """NumPy arrays and CPU tensors by the gather (``evaluate_numpy``); others through ``rerun(z, onehot)``."""
    from derive.kernels.xp import foreign, host_views

    lib = foreign({"z": z, "y": y})
    if lib is None:
        return evaluate_numpy(kernel, z, y, loss)
    host = host_views(lib, [z, y])
    if host is not None:
        (zh, yh), wrap = host
        return wrap(evaluate_numpy(kernel, zh, yh, loss))
    return rerun(z, one_hot(lib, z, y))
