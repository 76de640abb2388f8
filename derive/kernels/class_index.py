"""Class-index targets for softmax + cce (PyTorch's convention): y[...] = t, the class of each sample.

    k = get("softmax", "cce");  k.loss(z, t), k.delta(z, t)   # z: (..., n) floats, t: (...) integers

    loss  = logsumexp(z) - z_t = log1p(sum_{k != t} e^{z_k} / e^{z_t})   (a gather, no one-hot)
    delta = softmax(z) - onehot(t),  at the target: a_t - 1 = -sum_{k != t} e_k / sum_k e_k

unshifted (two passes: exp, sum) where that keeps every digit, else max-shifted row by row.

An integer y whose shape is z.shape[:-1] holds class indices (z of shape (n, n) with an integer y of
shape (n,) is read so too: pass one-hot rows as floats, or with z's shape). Each index is checked in
[0, n). NumPy arrays and CPU tensors run the gather below, blocked and threaded as every kernel is
(``blocks``); other arrays (GPU tensors, JAX, Dask) take one-hot rows in their own namespace.
"""

from __future__ import annotations

import numpy as np

from derive.kernels.blocks import evaluate
from derive.kernels.checks import _compute_dtype
from derive.kernels.row_parts import row_sum

# pairings whose targets may be class indices: the loss is -log a_t, the delta a - onehot(t)
PAIRS = frozenset({("softmax", "cce")})


def _dtype_name(y):
    dt = getattr(y, "dtype", None)
    if dt is None:
        dt = np.asarray(y).dtype
    return dt.name if isinstance(dt, np.dtype) else str(dt).rpartition(".")[2]  # torch.int64 -> int64


def _integral(y):
    dt = getattr(y, "dtype", None)
    if isinstance(dt, np.dtype):
        return dt.kind in "iu"
    if dt is None:  # a Python number or list
        return not isinstance(y, (bool, float)) and np.asarray(y).dtype.kind in "iu"
    return _dtype_name(y).startswith(("int", "uint"))  # torch.int64, a JAX or Dask dtype


def _shape_of(v):
    return tuple(v.shape) if hasattr(v, "shape") else np.shape(v)


def applies(kernel, z, y) -> bool:
    """True where y holds class indices for ``kernel`` (an integer array of shape z.shape[:-1]);
    a ``ValueError`` for targets shaped as indices but not usable as any targets."""
    if (kernel.activation, kernel.loss_name) not in PAIRS or isinstance(y, (bool, float)):
        return False
    zs, ys = _shape_of(z), _shape_of(y)
    if not zs or len(ys) != len(zs) - 1:
        return False
    if ys == zs[:-1] and _integral(y):
        return True
    name = _dtype_name(y)
    pairing = f"{kernel.activation} + {kernel.loss_name}"
    try:
        np.broadcast_shapes(zs, ys)
        return False  # y broadcasts along z's rows: probability (or one-hot) rows, as before
    except ValueError:
        pass
    if ys == zs[:-1]:  # a ValueError as every shape mismatch: y broadcasts with z only as indices
        raise ValueError(
            f"{pairing}: y of shape {ys} (z.shape[:-1], z has shape {zs}) is read as class indices, which must be "
            f"integers, got dtype {name}; pass y.astype(int) for indices, or targets of z's shape {zs} "
            "(one-hot rows or probability vectors)")
    if _integral(y):
        raise ValueError(
            f"{pairing}: class-index targets y must have shape z.shape[:-1] = {zs[:-1]} (one index per sample), "
            f"got shape {ys}; z has shape {zs}")
    return False


def check_range(t, n, pairing):
    """Every index in [0, n), else a ``ValueError`` naming the first bad one, its place and n."""
    if t.size == 0 or (t.min() >= 0 and t.max() < n):
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


class _At:
    """The entries t of each row of arrays of ``shape`` (y: the indices, broadcast along the units):
    flat positions in a C-ordered array (take_along_axis costs 5 us a call), else take_along_axis."""

    def __init__(self, y, shape):
        self.t = y[..., :1].astype(np.intp, copy=False)  # (..., 1)
        n = shape[-1]
        self.flat = np.arange(0, self.t.size * n, n) + self.t.reshape(-1)

    def take(self, a):
        if a.flags.c_contiguous:
            return a.reshape(-1)[self.flat].reshape(self.t.shape)
        return np.take_along_axis(a, self.t, axis=-1)

    def put(self, a, v):
        if a.flags.c_contiguous:
            a.reshape(-1)[self.flat] = v if np.ndim(v) == 0 else np.reshape(v, -1)
        else:
            np.put_along_axis(a, self.t, v, axis=-1)


def _parts(z, y, shape, dtype, empty):
    """(where the targets are, ``_At``; e = e^{z - max z} with e_t = 0; e_t; max z - z_t)."""
    at = _At(y, shape)
    e = empty(shape, dtype)
    m = z.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):  # rows spanning more than the float range: -inf, e = 0 as it should be
        np.subtract(z, m, out=e)
        gap = m - at.take(z)  # inf only where the loss is above the float range
    np.exp(e, out=e)
    e_t = at.take(e)
    at.put(e, 0.0)
    return at, e, e_t, gap


def _loss_shifted(z, y, shape, dtype, empty=np.empty):
    """(max z - z_t) + log(sum e): log1p of the others where t is a top class (e_t = 1): a loss of
    e^{-40} keeps its digits there, where log(1 + rest) would round to 0."""
    _, e, e_t, gap = _parts(z, y, shape, dtype, empty)
    rest = e.sum(axis=-1, keepdims=True)
    log_total = np.where(gap == 0, np.log1p(rest), np.log(rest + e_t))
    return (gap + log_total)[..., 0]


def _delta_shifted(z, y, shape, dtype, empty=np.empty, out=None):
    """e / (rest + e_t), and -rest / (rest + e_t) at the target: a_t - 1 without the cancellation."""
    at, e, e_t, _ = _parts(z, y, shape, dtype, empty if out is None else (lambda s, d: out))
    rest = e.sum(axis=-1, keepdims=True)
    total = rest + e_t
    e /= total
    at.put(e, -rest / total)
    return e


def _unshifted(z, at, e):
    """(e_t, rest = sum_{k != t} e_k, rows to redo shifted), e = e^z into ``e`` with e_t = 0: two passes
    fewer than e^{z - max z}. Kept where 1/2 <= e_t + rest < inf: there e_k >= a_k / 2, so an e_k
    in the subnormals stands for an a_k that is within one subnormal step of them too, and e^{z_k}
    is as accurate as e^{z_k - max z} (which also rounds z_k - max z)."""
    if z.dtype != e.dtype or z.strides[-1] != z.itemsize:  # exp's SIMD and strided loops differ in the last bit
        z = np.copyto(e, z) or e
    with np.errstate(over="ignore"):  # rows past the float range: redone
        np.exp(z, out=e)
    e_t = at.take(e)
    at.put(e, 0.0)
    rest = row_sum(e)
    with np.errstate(invalid="ignore"):  # inf + nan
        total = rest + e_t
        keep = (total >= 0.5) & (total < np.inf)
    return e_t, rest, total, keep


def _redo(redo, fn, out, z, at):
    """out's rows ``redo`` (flat over the leading axes) as fn(those rows of z, their targets)."""
    n = z.shape[-1]
    zr = z.reshape(-1, n)[redo]
    values = fn(zr, at.t.reshape(-1, 1)[redo], zr.shape, out.dtype)
    where = np.unravel_index(redo, out.shape[:-1]) if out.ndim > 1 else ()
    out[where] = values.reshape(redo.size, -1) if out.ndim > 1 else values.reshape(out.shape)


def _loss(z, y, shape, dtype, empty=np.empty):
    """log(sum_k e^{z_k} / e^{z_t}) = log1p(rest / e_t), unshifted (``_unshifted``) where also e_t is
    normal (rest / e_t then rounds as the shifted ratio does) and the ratio finite; other rows
    by ``_loss_shifted``."""
    at = _At(y, shape)
    e = empty(shape, dtype)
    e_t, rest, _, keep = _unshifted(z, at, e)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # rows redone below
        ratio = rest / e_t
        out = np.log1p(ratio)
        keep &= (e_t >= np.finfo(dtype).smallest_normal) & (ratio < np.inf)
    redo = np.flatnonzero(~keep)
    if redo.size:
        _redo(redo, _loss_shifted, out, z, at)
    return out[..., 0]


def _delta(z, y, shape, dtype, empty=np.empty, out=None):
    """e^z / total, and -rest / total at the target (a_t - 1 without the cancellation), unshifted
    (``_unshifted``) where it keeps every digit; other rows by ``_delta_shifted``."""
    at = _At(y, shape)
    e = empty(shape, dtype) if out is None else out
    e_t, rest, total, keep = _unshifted(z, at, e)
    with np.errstate(invalid="ignore", divide="ignore"):  # rows redone below
        e /= total
        at.put(e, -rest / total)
    redo = np.flatnonzero(~keep)
    if redo.size:
        _redo(redo, _delta_shifted, e, z, at)
    return e


def one_hot(lib, z, y):
    """Class indices y as one-hot rows of z's dtype, in the arrays' own namespace; the indices are
    checked where their values are at hand (not under ``jax.jit``, not in a lazy Dask graph)."""
    from derive.kernels.xp import _device, namespace, to_numpy

    n = z.shape[-1]
    if lib == "dask":  # checked chunk by chunk at compute()
        y = y.map_blocks(_checked_chunk, n, dtype=y.dtype)
        return (y[..., None] == np.arange(n)).astype(z.dtype)
    xp = namespace(z, y)
    if not _traced(lib, y):
        check_range(to_numpy(y), n, "softmax + cce")
    return xp.astype(y[..., None] == xp.arange(n, device=_device(xp, z)), z.dtype)


def _checked_chunk(t, n):
    check_range(t, n, "softmax + cce (in a chunk of y)")
    return t


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
