"""Arguments of the kernels: arrays, dtypes, shapes, and the targets' sum-to-one check.

Every error says what was wrong and what is allowed; shape mismatches name both shapes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

def _array(v, name):
    """v as an array of real numbers; bools and integers stay as they are (the blocks widen them one
    block at a time: an int8 array is not copied whole into float64)."""
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers (bool, integer or floating), got dtype {arr.dtype}")
    return arr


def _compute_dtype(*values):
    """(result dtype, working dtype): the common dtype of the floating arrays among ``values``;
    bool and integer arrays and Python numbers take it (float32 logits with int8 targets stay
    float32), float64 where none is floating; float16 is computed in float32 (SciPy has no half loops)."""
    floats = []
    for v in values:
        if not isinstance(v, (bool, int, float)):
            d = v.dtype if isinstance(v, np.ndarray) else np.asarray(v).dtype
            if d.kind == "f" and d not in floats:
                floats.append(d)
    return _dtypes(*floats)


@lru_cache(maxsize=64)
def _dtypes(*floats):  # np.result_type costs a few microseconds: small calls look it up once
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
    return dtype, (np.dtype(np.float32) if dtype == np.float16 else dtype)


def _broadcast(zname, z, yname, y):
    zs, ys = tuple(np.shape(z)), tuple(np.shape(y))  # any array kind, or a Python number
    if zs == ys:
        return zs
    try:
        return np.broadcast_shapes(zs, ys)
    except ValueError:
        raise ValueError(
            f"shape mismatch: {zname} has shape {zs} and {yname} has shape {ys}, "
            "which do not broadcast together"
        ) from None


def _units(z, name="z"):
    shape = tuple(np.shape(z))  # any array kind, or a Python number
    if not shape:
        raise ValueError(f"{name} must have at least one axis (the last axis holds the units), got a scalar")
    if shape[-1] == 0:
        raise ValueError(f"{name} has shape {shape}: the last axis holds the units and must not be empty")


def _first_row_off_one(y, n):
    """(index, float64 sum, tolerance) of the first of y's own rows whose sum is off 1 by more
    than y's own rounding, or None.

    The slack is y's own rounding: each y_i >= 0 rounded once moves the total by at most eps/2,
    and a normaliser summed pairwise by at most log2(n) eps, sequentially by about sqrt(n) eps
    (a random walk; numpy.random.dirichlet): 4 (1 + log2 n) eps + sqrt(n) eps in y's dtype.
    NumPy's pairwise sum of C-ordered rows screens them (its own error is under (16 + log2 n)
    eps); only the rows it flags are summed again in float64 before one is called off.
    """
    # y's own rows, not the batch's copies (broadcast_to costs as much as a small call: only when needed)
    rows = y if y.ndim and y.shape[-1] == n else np.broadcast_to(y, (*y.shape[:-1], n))
    if rows.dtype.kind != "f":  # bool or integer targets
        rows = rows.astype(np.float64)
    if not rows.flags.c_contiguous:  # Fortran order or transposed: NumPy would sum sequentially
        rows = np.ascontiguousarray(rows)
    tol, screen = _slack(rows.dtype, n)
    off = np.abs(np.add.reduce(rows, axis=-1) - 1.0)
    if not off.size or off.max() <= screen:  # one reduction for the common case, every row on target; nan fails it
        return None
    flagged = ~(off <= screen)  # nan is flagged
    exact = np.sum(rows[flagged], axis=-1, dtype=np.float64)
    bad = ~(np.abs(exact - 1) <= tol)
    if not bad.any():
        return None
    first = np.argmax(bad)
    return tuple(int(i) for i in np.argwhere(flagged)[first]), exact[first], tol


@lru_cache(maxsize=256)
def _sum_tolerance(eps, n):
    """How far from 1 a row of n targets in a dtype of epsilon ``eps`` may sum (see ``_first_row_off_one``)."""
    return min(eps * (4 * (1 + np.log2(n)) + np.sqrt(n)), 1e-2)


@lru_cache(maxsize=256)
def _slack(dtype, n):
    """(tolerance, the pairwise screen's: plus NumPy's own summation error (16 + log2 n) eps)."""
    eps = np.finfo(dtype).eps
    tol = _sum_tolerance(eps, n)
    return tol, tol + (16 + np.log2(n)) * eps


def _check_sums_to_one(y, shape, pairing, off=None, origin=()):
    """Rows of y summing to 1 (one-hot or probability vectors), as the derivation assumed.
    ``off``: what a block's screen found, for when the whole y is not at hand; ``origin``: the
    index of y's first row in the whole array (a Dask chunk's place)."""
    off = _first_row_off_one(y, shape[-1]) or off
    if off is not None:
        where, total, tol = off
        if where and origin:
            where = tuple(i + o for i, o in zip(where, origin[len(origin) - len(where):]))
        row = f"row {where[0] if len(where) == 1 else where} of y" if where else "a row of y"
        hint = ""
        for low in (np.float32, np.float16):  # within a lower precision's slack: made there, then cast up
            low_tol = _sum_tolerance(np.finfo(low).eps, shape[-1])
            if y.dtype.kind == "f" and np.finfo(low).eps > np.finfo(y.dtype).eps and abs(total - 1) <= low_tol:
                hint = (f"; it is 1 within {np.dtype(low).name} rounding ({low_tol:.1g}): targets made in "
                        f"{np.dtype(low).name} and cast to {y.dtype} keep that rounding, so pass them in "
                        f"{np.dtype(low).name}, or renormalise the rows after the cast: y / y.sum(-1, keepdims=True)")
                break
        raise ValueError(
            f"{pairing} needs targets that sum to 1 over the last axis (one-hot rows or probability "
            f"vectors, within {tol:.1g}): its delta = a - y assumes it; {row} sums to {total:.17g}{hint}"
        )


class _RowOffOne(Exception):
    """A block's targets do not sum to 1 (the whole y is checked again to name the row)."""


def _screen_sums_to_one(z, y):
    """The target check of one block, where its rows are in cache."""
    n = max(z.shape[-1:] + y.shape[-1:])  # y may be one unit, or a scalar, broadcast (checked before)
    off = _first_row_off_one(y, n)
    if off is not None:
        raise _RowOffOne(((), off[1], off[2]))
