"""The delta of softmax + bce in one sweep of plain passes, where the row allows it.

    delta_j = a_j sum(y) - y_j + w_j - a_j sum(w),   w = (1 - y) a / (1 - a),   a = softmax(z)

(p - a sum(p) for p_j = a_j dC/da_j = -y_j + w_j.) The plain passes (``odds_vjp``) keep their digits on rows where
1 - a_t, the top class's complement, is at least ``_limits``'s ``saturated`` (its odds at most
1/saturated): the other rows, and rows of infinite or nan logits, are redone by the exact log-space
form ``exact`` (``rows._odds_vjp_exact``).
"""

from __future__ import annotations

import numpy as np

from derive.kernels import row_parts


def _limits(dtype):
    """(saturated, close): sum_{k != t} e^{z_k - z_t} below ``saturated`` takes the exact form; lanes with
    e^{z_k - z_t} above 1 - close take a_k - a_t by expm1. Tighter in float32, where the tolerance
    leaves fewer bits to lose (rtol 1e-5 against eps 1.2e-7)."""
    return (2.0**-2, 2.0**-2) if np.finfo(dtype).bits <= 32 else (2.0**-6, 2.0**-6)


def odds_vjp(z, y, out, empty, exact):
    """``rows.softmax_odds_vjp`` with the plain passes on the rows that allow them, ``exact`` elsewhere:

    delta_j = a_j q_j (D_j U - V) - y_j q_j + a_j sum_k y_k q_k,   q = 1 / (1 - a),  D = a - a_t,
    U = sum_k a_k q_k,  V = sum_k a_k q_k D_k

    (a_j sum_k a_k (g_j - g_k), g = dC/da, with 1/(1 - a_j) - 1/(1 - a_k) = (a_j - a_k) q_j q_k): the
    differences a_j - a_k enter only through D, exact to a few ulps: (e_j - 1) / S, and by expm1 on
    the lanes whose logit is within ``close`` of the top's (z = [1e-8, 0], y = 0: delta = a_0 - a_1).
    """
    z, y = row_parts._full(z, out.shape), row_parts._full(y, out.shape)
    if out.shape[-1] == 1 or not out.flags.c_contiguous:
        return exact(z, y, out, empty)
    saturated, close = _limits(out.dtype)
    d, e, idx, tops, rest, _, near = row_parts._sweep(z, out, empty, close)  # e_t = 0 for now
    if near.size:  # the close lanes: (row, lane), rows flattened; d there for expm1
        sub, lanes = row_parts._lanes(e, near, close)
        rows_ = near[sub]
        d_near = d.reshape(-1, out.shape[-1])[rows_, lanes]
    e.reshape(-1)[tops] = 1.0
    redo = np.flatnonzero(~(rest >= saturated))  # nan rows too
    if redo.size:  # 0 / 1 until redone: no inf or nan on the way
        e[row_parts._at(redo, e)], rest[row_parts._at(redo, e)] = 0.0, 1.0
    inv = 1.0 / (1.0 + rest)
    D = np.subtract(e, 1.0, out=d)
    D *= inv  # a_k - a_t, 0 at the top
    if near.size:
        D.reshape(-1, out.shape[-1])[rows_, lanes] = np.expm1(d_near) * inv.reshape(-1)[rows_]
    a = np.multiply(e, inv, out=out)
    q = np.subtract(1.0, a, out=empty(out.shape, out.dtype))
    q.reshape(-1)[tops] = (rest * inv).reshape(-1)  # 1 - a_t without the rounding of a_t
    np.divide(1.0, q, out=q)
    aq = np.multiply(a, q, out=empty(out.shape, out.dtype))
    t = empty(out.shape, out.dtype)
    U = row_parts.row_sum(aq)
    V = row_parts.dot(aq, D)[..., None]
    yq = np.multiply(y, q, out=t)
    YQ = row_parts.row_sum(yq)
    D *= U
    D -= V
    D *= aq
    D -= yq
    a *= YQ
    a += D
    row_parts._redo(redo, exact, out, z, y, empty=empty)
    return out
