"""Row helpers shared by the softmax row primitives (``rows``, ``rows_residual``): the last axis holds a row."""

from __future__ import annotations

import inspect
from functools import cache, wraps

import numpy as np

ROW_BYTES = 1024  # rows this long or longer take the row-wise loops (``row_loops``)


def row_loops(fn):
    """fn run with NumPy's ufunc buffer at 16 elements where its ``out`` has rows of ``ROW_BYTES`` or more.

    An operation with a per-row operand (the (..., 1) maxima and sums) is buffered by NumPy 2.4 (buffer 8192
    elements): the operand is copied out row after row to make long inner loops, 1.6x (float32) to 5x (float64) the
    time of the same pass over two full arrays. A buffer shorter than a row runs the loop row by row on the
    operands in place: values identical, a call per row, which costs more than the copy on shorter rows."""
    names = list(inspect.signature(fn).parameters)
    name = "out" if "out" in names else "scratch"  # the buffer of the rows: the result, or a scratch one
    at = names.index(name)

    @wraps(fn)
    def run(*args, **kwargs):
        out = kwargs[name] if name in kwargs else args[at]
        if out.ndim < 2 or out.shape[-1] * out.itemsize < ROW_BYTES:
            return fn(*args, **kwargs)
        with np.errstate():  # restores the buffer size on the way out
            np.setbufsize(16)
            return fn(*args, **kwargs)

    return run


def _redo(redo, fn, out, *rows_of, empty=None):
    """out's rows ``redo`` as fn(*those rows of ``rows_of``, out); with ``empty``, fn(..., out, empty), the
    rows copied into buffers from ``empty`` (the block's scratch: no allocation per call)."""
    if not redo.size:
        return
    if empty is None or out.ndim == 1:
        part = [_full(v, out.shape)[_at(redo, out)] for v in rows_of]
        buf = np.empty(part[0].shape, out.dtype)
        out[_at(redo, out)] = fn(*part, buf) if empty is None else fn(*part, buf, np.empty)
        return
    n, shape = out.shape[-1], (redo.size, out.shape[-1])
    part = []
    for v in rows_of:
        v = _full(v, out.shape)
        flat = v.reshape(-1, n) if v.flags.c_contiguous else None
        part.append(np.take(flat, redo, axis=0, out=empty(shape, v.dtype)) if flat is not None else v[_at(redo, out)])
    out[_at(redo, out)] = fn(*part, empty(shape, out.dtype), empty)


def row_sum(v):
    """sum_k v_k over the last axis, keepdims, as the dot with a row of ones: BLAS's dot (np.vecdot) takes a
    third of the time of NumPy's float32 pairwise sum, its rounding alike (a few ulps on rows of 1000)."""
    if v.dtype.kind != "f" or v.shape[-1] > BLAS_ROW:  # a mask or integers: vecdot of bools is a logical or
        return np.add.reduce(v, axis=-1, keepdims=True)
    return np.vecdot(v, _ones(v.shape[-1], v.dtype))[..., None]


def row_dot(u, v):
    """sum_k u_k v_k over the last axis, keepdims: one BLAS dot (sum x_k^2 without the pass squaring x). Integers
    are multiplied as floats, as a square into a float buffer does (an integer dot wraps around)."""
    if u.dtype.kind != "f" or v.dtype.kind != "f":
        u, v = (np.asarray(x, np.result_type(x, 1.0)) for x in (u, v))
    return dot(u, v)[..., None]


BLAS_ROW = 8192  # OpenBLAS splits longer dots among its threads: their order, so the bits, would follow its thread count


def dot(u, v):
    """sum_k u_k v_k over the last axis: BLAS's dot on rows up to ``BLAS_ROW``, NumPy's pairwise sum beyond."""
    return np.vecdot(u, v) if u.shape[-1] <= BLAS_ROW else np.add.reduce(np.multiply(u, v), axis=-1)



@cache
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _full(v, shape):  # np.broadcast_to costs a call of 1000 elements even where v has the shape
    return v if getattr(v, "shape", None) == shape else np.broadcast_to(v, shape)


def _at(rows, a):  # the index of a's rows ``rows``, flat over the leading axes
    return np.unravel_index(rows, a.shape[:-1]) if a.ndim > 1 else ()


def _tops(idx, n):
    """Flat positions, in a C-ordered array of rows of ``n``, of the lanes ``idx`` (one per row, keepdims):
    indexing there costs a few microseconds where put/take_along_axis cost tens."""
    return np.arange(0, idx.size * n, n) + idx.reshape(-1)


def _at_tops(v, idx, tops):
    """v at the lanes ``idx`` (keepdims), by flat position where v is C-ordered."""
    if v.flags.c_contiguous:
        return v.reshape(-1)[tops].reshape(idx.shape)
    return np.take_along_axis(v, idx, axis=-1)


def _top(z):
    """(the index of each row's largest entry, keepdims; that entry). np.argmax copies a read-only array
    whole (a block of the broadcast views ``blocks.evaluate`` passes): there the first index of z == max."""
    if not z.flags.writeable:
        top = z.max(axis=-1, keepdims=True)
        if not np.isnan(top).any():  # argmax's nan is the first nan; z == nan finds none
            return np.argmax(np.equal(z, top), axis=-1, keepdims=True), top
    idx = np.argmax(z, axis=-1, keepdims=True)
    return idx, _at_tops(z, idx, _tops(idx, z.shape[-1]))


def _shift_top(z, out):
    """The top lane t of each row (keepdims), z - z_t into ``out``: argmax, then the top gathered (a pass fewer
    than max then argmax); a read-only z (np.argmax would copy it whole) is shifted by its max first, t found in
    ``out``, where z_k - max z is 0 only where z_k is the max."""
    if z.flags.writeable:
        idx = np.argmax(z, axis=-1, keepdims=True)
        np.subtract(z, _at_tops(z, idx, _tops(idx, z.shape[-1])), out=out)
        return idx
    np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    return np.argmax(out, axis=-1, keepdims=True)


def _sweep(z, out, empty, close, lowest=False):
    """The setup of the one-sweep row primitives (``rows_residual``, ``rows_odds``), around each row's top class t:
    (d = z - z_t in a buffer of ``empty``, e = e^{d} into ``out`` (C-ordered) with e_t set to 0, t (keepdims), the
    flat positions of the top lanes, rest = sum_{k != t} e_k, the least e (with ``lowest``, else None), the rows
    with a lane off the top above 1 - ``close``). One max-like pass (argmax, the top taken from it) fewer than
    max then argmax. Rows spanning the float range or with infinite or nan logits come out inf or nan: redone by
    the caller."""
    d = empty(out.shape, out.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        idx = _shift_top(z, d)
    e = np.exp(d, out=out)  # 1 at the top
    tops = _tops(idx, out.shape[-1])
    e_min = e.min(axis=-1, keepdims=True) if lowest else None
    e.reshape(-1)[tops] = 0.0
    rest = row_sum(e)
    near = np.flatnonzero(e.max(axis=-1, keepdims=True) > 1.0 - close)  # by the second largest e
    return d, e, idx, tops, rest, e_min, near


def _lanes(e, rows, close):
    """(index into ``rows``, lane) of the lanes with e above 1 - ``close`` in those rows (e_t = 0: off the top).
    Found flat: np.nonzero of a 2-d mask costs 15 times np.flatnonzero."""
    return np.divmod(np.flatnonzero(e.reshape(-1, e.shape[-1])[rows] > 1.0 - close), e.shape[-1])


def _shifted(z, top, out):
    """z - max z, into ``out``; True when some difference overflowed to -inf.

    Finite z can be 2e308 apart: that difference is -inf, exactly what e^{z - max} = 0
    needs, so only the overflow flag is silenced, and the caller learns of it.
    """
    try:
        with np.errstate(over="raise"):
            np.subtract(z, top, out=out)
        return False
    except FloatingPointError:
        with np.errstate(over="ignore"):
            np.subtract(z, top, out=out)
        return True
