"""Row helpers shared by the softmax row primitives (``rows``, ``rows_residual``): the last axis holds a row."""

from __future__ import annotations

import numpy as np


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
    return idx, np.take_along_axis(z, idx, axis=-1)


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
