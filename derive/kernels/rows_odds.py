"""The delta of softmax + bce in one sweep of plain passes, where the row allows it.

    delta_j = a_j sum(y) - y_j + w_j - a_j sum(w),   w = (1 - y) a / (1 - a),   a = softmax(z)

(p - a sum(p) for p_j = a_j dC/da_j = -y_j + w_j.) The plain passes keep their digits on rows where
1 - a_t, the top class's complement, is at least ``_limits``'s ``saturated`` (its odds at most
1/saturated) and no other logit is within ``close`` of the top's (a_j / (1 - a_j) - sum_k a_k / (1 - a_k)
cancels to a_t - a_j's size there: z = [1e-8, 0]). The other rows, and rows of infinite or nan logits,
are redone by the exact log-space form ``exact`` (``rows.softmax_odds_vjp``).
"""

from __future__ import annotations

import numpy as np

from derive.kernels import row_parts


def _limits(dtype):
    """(saturated, close), as in ``rows_residual``: float32's tolerance leaves fewer bits to lose."""
    return (2.0**-2, 2.0**-2) if np.finfo(dtype).bits <= 32 else (2.0**-6, 2.0**-6)


def odds_vjp(z, y, out, empty, exact):
    """``rows.softmax_odds_vjp`` with the plain passes on the rows that allow them, ``exact`` elsewhere."""
    z, y = row_parts._full(z, out.shape), row_parts._full(y, out.shape)
    if out.shape[-1] == 1 or not out.flags.c_contiguous:
        return exact(z, y, out, empty)
    saturated, close = _limits(out.dtype)
    d = empty(out.shape, out.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # rows spanning the float range, infinite logits: redone
        np.subtract(z, z.max(axis=-1, keepdims=True), out=d)
    e = np.exp(d, out=out)  # 1 at the top
    total = e.sum(axis=-1, keepdims=True)
    idx = np.argmax(e, axis=-1, keepdims=True)
    np.put_along_axis(e, idx, 0.0, axis=-1)
    second = e.max(axis=-1, keepdims=True)
    np.put_along_axis(e, idx, 1.0, axis=-1)
    plain = (total >= 1.0 + saturated) & (second <= 1.0 - close)  # False on nan rows
    redo = np.flatnonzero(~plain)
    if redo.size:  # 0 / 1 until redone: no inf or nan on the way
        e[row_parts._at(redo, e)], total[row_parts._at(redo, e)] = 0.0, 1.0
    a = np.divide(e, total, out=out)
    w = np.subtract(1.0, a, out=d)  # 1 - a_t >= saturated / (1 + saturated): a few bits at most
    np.divide(a, w, out=w)
    w *= np.subtract(1.0, y, out=empty(out.shape, out.dtype))
    if not y.flags.c_contiguous:  # the row sum's order, so its rounding, the same whatever y's layout
        y = np.copyto(empty(out.shape, out.dtype), y) or y
    a *= y.sum(axis=-1, keepdims=True) - w.sum(axis=-1, keepdims=True)
    a -= y
    a += w
    row_parts._redo(redo, lambda zr, yr, o: exact(zr, yr, o), out, z, y)
    return out
