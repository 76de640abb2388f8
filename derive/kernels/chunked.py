"""Kernels on Dask arrays: lazy, chunk by chunk, each chunk through the NumPy kernel.

    get("sigmoid", "bce").delta(z, y)  # z, y Dask arrays -> a lazy Dask array, same chunks as z

Elementwise kernels run on any chunk; kernels of whole rows (softmax, sums over the units:
every loss, mse's 1/n) need each chunk to hold whole rows, so the last axis is rechunked to
one chunk when it is split (a ``RowChunkWarning``, once per process). The softmax + cce target
check runs in each chunk's kernel, so its ``ValueError`` comes at ``compute()``.
"""

from __future__ import annotations

import os
import sys
import warnings
from functools import partial

import numpy as np

from derive.kernels.checks import _check_sums_to_one, _compute_dtype

__all__ = ["RowChunkWarning", "pair", "activation"]

_warned = False
_HERE = os.path.dirname(os.path.abspath(__file__))


def _user_level() -> int:
    """The stacklevel of the first caller outside derive/kernels: the warning points at the user's line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_HERE):
        frame, level = frame.f_back, level + 1
    return level


class RowChunkWarning(UserWarning):
    """The last axis of a Dask array was split into chunks and was rechunked to whole rows."""


def _whole_rows(arrays, what):
    global _warned
    out = []
    for a in arrays:
        if hasattr(a, "chunks") and a.ndim and len(a.chunks[-1]) > 1:
            if not _warned:
                _warned = True
                warnings.warn(f"{what} needs whole rows (the last axis, the units) in each chunk: the last axis "
                              f"(chunks {a.chunks[-1]}) was rechunked to one chunk; chunk only the batch axes to "
                              "avoid the copy", RowChunkWarning, stacklevel=_user_level())
            a = a.rechunk({a.ndim - 1: -1})
        out.append(a)
    return out


def _dtype(*values):
    """The result dtype of the NumPy kernel for these arguments (integers and bools become float64)."""
    return _compute_dtype(*[v if isinstance(v, (bool, int, float)) else np.empty(0, v.dtype) for v in values])[0]


def _pair_block(kernel, method, z, y, block_info=None):
    """The NumPy kernel on one chunk (the kernel object travels to the workers by pickle)."""
    if kernel._sum_to_one and block_info is not None:  # name the row of the whole array, not of the chunk
        origin = tuple(start for start, _ in block_info[0]["array-location"][:-1])
        _check_sums_to_one(y, np.broadcast_shapes(z.shape, np.shape(y)),
                           f"{kernel.activation} + {kernel.loss_name}", origin=origin)
    return getattr(kernel, method)(z, y)


def _act_block(act, method, z):
    return getattr(act, method)(z)


def pair(kernel, method, z, y, *, elementwise):
    """``kernel.<method>`` ("loss" or "delta") of Dask arrays z, y (Python numbers go with them)."""
    import dask.array as da

    dtype = _dtype(z, y)
    if isinstance(y, (bool, int, float)):  # a Python number goes to every chunk as it is
        (z,) = _whole_rows([z], f"{kernel.activation} + {kernel.loss_name}: {method}") if method == "loss" else (z,)
    else:
        z, y = da.broadcast_arrays(da.asarray(z), da.asarray(y))
        if method == "loss" or not elementwise:
            z, y = _whole_rows([z, y], f"{kernel.activation} + {kernel.loss_name}: {method}")
    fn = partial(_pair_block, kernel, method)
    if method == "loss":
        return da.map_blocks(fn, z, y, drop_axis=z.ndim - 1, dtype=dtype)
    return da.map_blocks(fn, z, y, dtype=dtype)


def activation(act, method, z, *, elementwise):
    """``act.<method>`` ("__call__", "derivative" or "jacobian") of a Dask array z."""
    import dask.array as da

    fn = partial(_act_block, act, method)
    dtype = _dtype(z)
    if method == "jacobian":
        (z,) = _whole_rows([z], f"{act.name}.jacobian")
        n = z.shape[-1]
        return da.map_blocks(fn, z, new_axis=z.ndim, chunks=(*z.chunks, (n,)), dtype=dtype)
    if not elementwise:
        (z,) = _whole_rows([z], act.name)
    return da.map_blocks(fn, z, dtype=dtype)
