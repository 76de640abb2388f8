"""softmax_vjp(z, a - y) over the last axis: the delta of softmax with quadratic, sse and mse.

    delta_j = a_j (r_j - sum_k a_k r_k),   r = a - y,   a = softmax(z)

``softmax_vjp_residual`` makes one sweep of plain passes over each block (max, exp, sum, a, r, the
row dot, in place into ``out``), with the top class and the logits close to it in exact forms. Rows
with an a_j below the least normal number take ``_exact``: the top-class form throughout, with the
lanes whose a_j underflows in log space, so that delta_j's own magnitude, not a_j's, decides
underflow (issue 14).
"""

from __future__ import annotations

import numpy as np

from derive.kernels import bits
from derive.kernels import row_parts as _rows


def _close(dtype):
    """Lanes with e^{z_k - max z} above 1 - close (logits within about ``close`` of the top) take
    a_k - a_t = expm1(z_k - z_t) / S: 1 - e_k from a rounded e_k keeps only log2(1/close) bits fewer."""
    return 2.0**-2 if np.finfo(dtype).bits <= 32 else 2.0**-6


@_rows.row_loops
def softmax_vjp_residual(z, y, out, empty=np.empty, clip=False):
    """a (r - sum(a r)), r = a - y, a = softmax(z), in one sweep of plain passes around the top class t:

    D_j = r_j - S with S = a_t r_t + S', S' = sum_{k != t} a_k r_k, and at the top D_t = (1 - a_t) r_t - S'
    with 1 - a_t = sum_{k != t} e_k / S, e = e^{z - z_t} (no cancellation when a_t rounds to 1), and
    r_t = (1 - y_t) - (1 - a_t) where y_t > 1/2 (a target on the limit: a_t - y_t is below y_t's last digit). Lanes of
    logits close to the top's: D_j = (a_j - a_t) - (y_j - y_t) + D_t, a_j - a_t by expm1 (``_close``).
    Rows where some a_j is below the least normal number, or with infinite logits, take ``_exact``.
    ``clip``: r clipped to [-1, 1] (huber); rows with a residual near or past +-1 take ``_exact``, where
    lanes clipped alike differ by exactly 0.
    """
    z, y = _rows._full(z, out.shape), _rows._full(y, out.shape)
    if not out.flags.c_contiguous:  # the close lanes are found on rows flattened in place
        return np.copyto(out, _exact(z, y, np.empty(out.shape, out.dtype), clip=clip)) or out
    n, near = out.shape[-1], _close(out.dtype)
    d, e, idx, tops, rest, e_min, close = _rows._sweep(z, out, empty, near, lowest=True)  # e_t = 0 for now
    total = 1.0 + rest
    redo = np.flatnonzero(~(e_min >= np.finfo(out.dtype).smallest_normal * total))  # nan rows too
    close = close[~np.isin(close, redo)] if redo.size else close
    if close.size:  # lanes off the top within ``_close`` of it: (row, lane), the rows flattened
        sub, lanes = _rows._lanes(e, close, near)
        rows = close[sub]
        d_near, y_near = d.reshape(-1, n)[rows, lanes], y[_rows._at(rows, out) + (lanes,)]
    if redo.size:  # 0 / 1 until redone: no inf or nan on the way
        e[_rows._at(redo, e)], total[_rows._at(redo, e)], rest[_rows._at(redo, e)] = 0.0, 1.0, 0.0
    inv = 1.0 / total
    a = np.multiply(e, inv, out=out)  # a_t = 0 until the end: sum(a r) below is S' alone
    r = np.subtract(a, y, out=d)
    y_top = _rows._at_tops(y, idx, tops)
    high = y_top > 0.5  # a target near 1 at the top: r_t = (1 - y_t) - (1 - a_t), exact where a_t rounds to 1
    r_top = np.where(high, (1.0 - y_top) - rest * inv, inv - y_top) if high.any() else inv - y_top
    r.reshape(-1)[tops] = r_top.reshape(-1)
    if clip:
        edge = 1.0 - 2.0**-20  # off the kink at |r| = 1 by more than r's rounding
        redo = np.union1d(redo, np.flatnonzero((r.max(axis=-1) >= edge) | (r.min(axis=-1) <= -edge)))
    s_off = _rows.dot(a, r)[..., None]  # S' = sum_{k != t} a_k r_k, in one pass
    if close.size:  # a_k r_k on those rows, before r turns into D
        a_rows = np.take(a.reshape(-1, n), close, axis=0, out=empty((close.size, n), out.dtype))
        p_rows = np.multiply(a_rows, np.take(r.reshape(-1, n), close, axis=0), out=empty((close.size, n), out.dtype))
    r -= s_off + inv * r_top  # D = r - S
    d_top = (rest * inv) * r_top - s_off
    r.reshape(-1)[tops] = d_top.reshape(-1)
    if close.size:
        _close_lanes(close, sub, lanes, d_near, y_near, a, p_rows, r, idx, r_top, y_top, inv, empty)
    a.reshape(-1)[tops] = inv.reshape(-1)
    out *= r
    _rows._redo(redo, lambda zr, yr, o, emp: _exact(zr, yr, o, emp, clip=clip), out, z, y, empty=empty)
    return out


def _close_lanes(first, local, lanes, d_near, y_near, a, p_far, D, idx, r_top, y_top, inv, empty):
    """D on the rows ``first`` (flattened) with close logits, their close lanes ``lanes`` in the rows
    ``first[local]``, from
    X_k = r_t - r_k = -expm1(z_k - z_t) / S - (y_t - y_k) there: D_t = sum_{far k} a_k (r_t - r_k)
    + sum_{close k} a_k X_k and D_k = D_t - X_k (a_t (1 - a_t) - sum_k a_k^2 would cancel down to
    a_t - a_k's size: 5e-9 at z = [1e-8, 0]). ``a`` is 0 at the top; ``p_far`` holds a_k r_k on those rows."""
    n = D.shape[-1]
    a2, D2 = a.reshape(-1, n), D.reshape(-1, n)  # C-ordered: views
    top, r_t, y_t, inv1 = (v.reshape(-1) for v in (idx, r_top, y_top, inv))
    rows = first[local]
    X = -np.expm1(d_near) * inv1[rows] - (y_t[rows] - y_near)
    a_far = np.take(a2, first, axis=0, out=empty((len(first), n), D.dtype))  # a copy: 0 at the top already
    a_far[local, lanes] = p_far[local, lanes] = 0.0
    close_sum = np.bincount(local, a2[rows, lanes] * X, minlength=len(first)).astype(D.dtype, copy=False)
    d_top = a_far.sum(axis=-1) * r_t[first] - p_far.sum(axis=-1) + close_sum
    D2[rows, lanes] = d_top[local] - X
    D2[first, top[first]] = d_top


def softmax_vjp_clipped_residual(z, y, out, empty=np.empty):
    """softmax_vjp(z, clip(a - y, -1, 1)): as ``softmax_vjp_residual`` where no residual is clipped."""
    return softmax_vjp_residual(z, y, out, empty, clip=True)


def _exact(z, y, out, empty=np.empty, clip=False):
    """softmax_vjp(z, a - y): a (g - sum(a g)) for g = a - y, with g_t - g_k kept exact.

    As in ``softmax_vjp``, g_j - sum(a g) = sum_k a_k D_k - D_j with D_k = g_t - g_k
    = (a_t - a_k) - (y_t - y_k), t the top class. Two exact forms of a_t - a_k:
    -expm1(z_k - z_t) / S (close logits: a_0 - a_1 at z = [1e-8, 0] is 5e-9) and
    1 - (e_k + sum_{i != t} e_i) / S (saturated: with y_t - y_k = 1 only the small part is left).
    Where a_k is below the least normal number, a_k D_k and the lane's delta are taken as
    sign e^{log a_k + log|.|} with log a_k = (z_k - z_t) - log S (``_underflow``); clipped residuals
    are bounded, so there a product below the least normal number is subnormal anyway.
    """
    idx, top = _rows._top(z)
    d = empty(out.shape, out.dtype)
    _rows._shifted(z, top, d)  # z - z_t <= 0
    e = np.exp(d, out=empty(out.shape, out.dtype))
    np.put_along_axis(e, idx, 0.0, axis=-1)
    rest = e.sum(axis=-1, keepdims=True)  # sum of e off the top
    total = 1.0 + rest
    lanes = None if clip else _underflow_lanes(d, total, out.dtype)
    dy = np.subtract(np.take_along_axis(y, idx, axis=-1), y, out=empty(out.shape, out.dtype))  # y_t - y_k
    # close logits: D = -expm1(d)/S - dy
    np.expm1(d, out=d)
    d /= -total
    d -= dy
    # target at the top (dy > 1/2): D = (1 - dy) - (e_k + rest)/S (temporaries from empty(): fresh ones page-fault)
    far = np.divide(np.add(e, rest, out=empty(out.shape, out.dtype)), total, out=empty(out.shape, out.dtype))
    np.subtract(np.subtract(1.0, dy, out=out), far, out=far)
    bits.select(np.greater(dy, 0.5, out=empty(out.shape, np.bool_)), far, d, scratch=out)
    if clip:  # where a residual is clipped to s = +-1, D_k = clip(r_t) - clip(r_k) in exact pieces
        a = np.divide(e, total, out=empty(out.shape, out.dtype))  # buffers from empty(): no allocation per block
        a_top = 1.0 / total
        np.put_along_axis(a, idx, a_top, axis=-1)
        r = np.subtract(a, y, out=empty(out.shape, out.dtype))
        r_top = np.take_along_axis(r, idx, axis=-1)
        k_clipped, t_clipped = np.greater(np.abs(r, out=out), 1, out=empty(out.shape, np.bool_)), np.abs(r_top) > 1
        if k_clipped.any() or t_clipped.any():
            y_t = np.take_along_axis(y, idx, axis=-1)
            s_k, s_t = np.sign(r), np.sign(r_top)
            # r_t kept, r_k -> s_k:  r_t - 1 = -((1 - a_t) + y_t),  r_t + 1 = (1 - y_t) + a_t
            t_kept = np.where(s_k > 0, -(rest / total + y_t), (1.0 - y_t) + a_top)
            # r_t -> s_t, r_k kept:  s_t - r_k = (s_t + y_k) - a_k
            k_kept = (s_t + y) - a
            both = s_t - s_k
            D = np.where(t_clipped, np.where(k_clipped, both, k_kept), t_kept)
            np.copyto(d, D, where=k_clipped | t_clipped)
    np.put_along_axis(d, idx, 0.0, axis=-1)
    np.put_along_axis(e, idx, 1.0, axis=-1)
    e /= total  # a
    if lanes is not None:
        e[lanes[0]] = 0.0  # those a_k D_k are added in log space
    T = np.multiply(e, d, out=far).sum(axis=-1, keepdims=True)
    if lanes is not None:
        T = T + _log_space_sum(lanes, d, T.shape)
    np.subtract(T, d, out=out)
    if lanes is not None:
        log_a, where = lanes[1], lanes[0]
        value = out[where]
        out *= e
        out[where] = _times_exp(value, log_a)
        return out
    out *= e
    return out


def _underflow_lanes(d, total, dtype):
    """(the lanes where a_k = e^{d_k} / S is below the least normal number, log a_k there) or None."""
    log_tiny = np.log(np.finfo(dtype).smallest_normal)
    log_total = np.log(total)
    with np.errstate(invalid="ignore"):
        below = d < log_tiny + log_total
    if not below.any():
        return None
    where = np.nonzero(below)
    return where, d[where] - np.broadcast_to(log_total, d.shape)[where]


def _times_exp(v, log_a):
    """v e^{log_a}, as sign(v) e^{log_a + log|v|}: finite and exact where v e^{log_a} is a normal float."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.sign(v) * np.exp(log_a + np.log(np.abs(v)))


def _log_space_sum(lanes, d, shape):
    """sum over each row's underflowing lanes of a_k D_k, each term taken in log space."""
    where, log_a = lanes
    terms = _times_exp(d[where], log_a)
    acc = np.zeros(shape, d.dtype)
    np.add.at(acc, where[:-1] + (np.zeros(len(terms), np.intp),), terms)
    return acc
