"""Softmax row primitives (over the last axis), called by the generated code.

    softmax(z)_i = e^{z_i - max z} / sum_k e^{z_k - max z}   (unshifted where safe: ``_exp_rows``)

Each writes into ``out`` and takes its full-size temporaries from ``empty(shape, dtype)``:
the generated code passes its own, which ``derive.kernels.blocks`` reuses from block to block.
"""

from __future__ import annotations

import numpy as np

from derive.kernels import rows_odds
from derive.kernels.row_parts import dot, row_dot, row_sum, _at, _at_tops, _full, _redo, _shift_top, _shifted, _top, _tops, row_loops  # noqa: F401 (second_rows imports _full, the generated code row_sum/row_dot from here)
from derive.kernels.rows_residual import softmax_vjp_clipped_residual, softmax_vjp_residual  # noqa: F401 (the generated code calls rows.*)


def softmax(z, out, empty=np.empty):
    """e^z / sum e^z over the last axis, into ``out`` (max-shifted where ``_exp_rows`` says)."""
    total, redo, _ = _exp_rows(z, out)
    out /= total
    _redo(redo, _softmax_residual_shifted, out, z, 0.0)  # softmax(z) - 0
    return out


def _exp_rows(z, e):
    """(sum e^z over the last axis, rows to redo max-shifted, the ``_tight`` rows among the others), e^z into ``e``.
    e^z / sum e^z is softmax, more accurate than e^{z - max} and a pass cheaper, where max z is in
    [0, log(max float / n) - 1] (not log softmax: z - log sum e^z rounds at max z's size); other rows are redone
    max-shifted, each alone."""
    z = _full(z, e.shape)
    m = z.max(axis=-1, keepdims=True)
    if z.dtype != e.dtype or z.strides[-1] != z.itemsize:  # exp's SIMD and strided loops differ in the last bit
        z = np.copyto(e, z) or e
    with np.errstate(over="ignore"):  # rows with max z above the bound: redone
        total = row_sum(np.exp(z, out=e))
    bound = np.log(np.finfo(e.dtype).max) - np.log(z.shape[-1]) - 1.0
    fast = (m >= 0) & (m <= bound) & (total >= 0)  # nan rows: redone
    redo = np.flatnonzero(~fast)
    if redo.size:  # 0 / 1 until redone: no inf / inf on the way
        e[_at(redo, e)], total[_at(redo, e)] = 0.0, 1.0
    tight = np.flatnonzero(fast & (total < _tight(e.dtype) * np.exp(np.minimum(m, bound))))
    return total, redo, tight


def _tight(dtype):
    """Rows whose other classes hold under 2^-10 (float32: 2^-6) of the top's mass: exact top-class paths (elsewhere
    1 - a_t and log(1 + rest) lose at most 10 (6) bits)."""
    return 1.0 + (2.0**-6 if np.finfo(dtype).bits <= 32 else 2.0**-10)


@row_loops
def softmax_residual(z, y, out, empty=np.empty):
    """softmax(z) - y, with the top class as (1 - y_t) - (1 - a_t) where y_t > 1/2: 1 - a_t = sum_{k != t} e_k / sum e.

    a_t rounds to 1 once the other classes are e^{-37} behind; 1 - a_t does not. Only the top entries of the
    ``_tight`` rows are patched so (elsewhere e^z / sum e^z, ``_exp_rows``: 1 - a_t loses at most 10 bits)."""
    total, redo, tight = _exp_rows(z, out)
    if tight.size:  # those rows' sum without the top: a copy of a few rows
        e = out.reshape(-1, out.shape[-1])[tight]
        top = np.argmax(e, axis=-1)
        e[np.arange(tight.size), top] = 0.0
        complement = e.sum(axis=-1) / total.reshape(-1)[tight]  # 1 - a_t
    out *= 1.0 / total  # a multiply, not a divide: twice as fast in the row loops, a_k within an ulp
    out -= y
    if tight.size:
        at = _at(tight, out) + (top,)
        y_top = _full(y, out.shape)[at]
        out[at] = np.where(y_top > 0.5, (1.0 - y_top) - complement, out[at])
    _redo(redo, _softmax_residual_shifted, out, z, y)
    return out


def _softmax_residual_shifted(z, y, out):
    _shifted(z, z.max(axis=-1, keepdims=True), out)
    np.exp(out, out=out)  # e, with e_t = 1 at the top class
    total = out.sum(axis=-1, keepdims=True)
    rows = np.flatnonzero(total < _tight(out.dtype))
    if rows.size:
        e = out.reshape(-1, out.shape[-1])[rows]  # those rows only
        top = np.argmax(e, axis=-1)
        e[np.arange(rows.size), top] = 0.0
        rest = e.sum(axis=-1)  # exact: the 1 is not in it
    out /= total
    out -= y
    if rows.size:
        at = _at(rows, out) + (top,)
        y_top = y[at]
        out[at] = np.where(y_top > 0.5, (1.0 - y_top) - rest / (1.0 + rest), out[at])
    return out


@row_loops
def softmax_vjp(z, g, out, empty=np.empty):
    """a (g - sum(a g)), a = softmax(z): the softmax Jacobian applied to g.

    Written around the top class t, with 1 - a_t = sum_{k != t} a_k:
    g_j - sum(a g) = (g_j - g_t) + T,  T = sum_{k != t} a_k (g_t - g_k),
    which never forms g_t - a_t g_t (0 once a_t rounds to 1). ``out`` may be ``g``.
    """
    z, g = _full(z, out.shape), _full(g, out.shape)
    idx, a, rest = _off_top(z, empty(out.shape, out.dtype))
    tops = _tops(idx, out.shape[-1])
    g_top = _at_tops(g, idx, tops).copy()
    np.subtract(g, g_top, out=out)  # g - g_t; may overwrite g
    inv = 1.0 / (1.0 + rest)
    out += -dot(a, out)[..., None] * inv  # + T: sum_k a_k (g_k - g_t) in one pass, a_t = 0 there
    a.reshape(-1)[tops] = 1.0
    out *= a
    out *= inv
    return out


def softmax_jacobian(z):
    """a_i (delta_ij - a_j): the diagonal a_i (1 - a_i) with 1 - a_t = sum_{k != t} a_k at the top class."""
    idx, a, rest = _off_top(z, np.empty(z.shape, z.dtype))
    complement = 1.0 - a / (1.0 + rest)  # 1 - a_i off the top: a_i <= 1/2 there
    np.put_along_axis(complement, idx, rest / (1.0 + rest), axis=-1)
    np.put_along_axis(a, idx, 1.0, axis=-1)
    a /= 1.0 + rest
    jac = -a[..., :, None] * a[..., None, :]
    n = a.shape[-1]
    jac[..., np.arange(n), np.arange(n)] = a * complement
    return jac


def _off_top(z, out):
    """(top index t, e_k = e^{z_k - z_t} with e_t = 0, rest = sum_k e_k): softmax_k = e_k / (1 + rest) off the top.
    ``out`` C-ordered (a buffer of ``empty``); t and z - z_t from ``_shift_top``."""
    with np.errstate(over="ignore"):  # rows spanning the float range: -inf, e = 0 as it should be
        idx = _shift_top(z, out)
    np.exp(out, out=out)
    out.reshape(-1)[_tops(idx, out.shape[-1])] = 0.0
    return idx, out, row_sum(out)


def _log_total(e, dtype):
    """log(sum_k e_k) over the last axis, e_t = 1 at the top; log1p of the others where they hold
    under 2^-10 of the top's mass (``_tight``): then the top class is exact."""
    total = row_sum(e)
    log_total = np.log(total)
    rows = np.flatnonzero(total < _tight(dtype))
    if rows.size:
        e = e.reshape(-1, e.shape[-1])[rows]  # those rows only
        e[np.arange(rows.size), np.argmax(e, axis=-1)] = 0.0
        log_total.reshape(-1)[rows] = np.log1p(e.sum(axis=-1))
    return total, log_total


def _log_softmax_scaled(z, out, empty, scale):
    """scale * log softmax(z) for scale = 1 or 1/2; True when some z_k - max z overflowed.

    At scale 1/2 every intermediate is finite for finite z: h = z/2 spans at most the float
    range, and e^{2(h - max h)} underflows to 0 exactly where it should."""
    if scale == 1:
        overflowed = _shifted(z, z.max(axis=-1, keepdims=True), out)
        e = np.exp(out, out=empty(out.shape, out.dtype))
    else:
        np.multiply(z, 0.5, out=out)
        out -= out.max(axis=-1, keepdims=True)
        e = empty(out.shape, out.dtype)
        with np.errstate(over="ignore"):  # 2 (h - max h) below -max: e = 0, as it should be
            np.multiply(out, 2.0, out=e)
        np.exp(e, out=e)
        overflowed = True
    _, log_total = _log_total(e, out.dtype)
    out -= log_total * scale
    return overflowed


@row_loops
def log_softmax(z, out, empty=np.empty):
    """z - logsumexp(z) = (z - max) - log(sum e^{z - max}); -inf only where the value is below
    -max (rows spanning more than the float range)."""
    z = _full(z, out.shape)
    if _log_softmax_scaled(z, out, empty, 1):  # some z_k - max overflowed: redo at half scale
        _log_softmax_scaled(z, out, empty, 0.5)
        with np.errstate(over="ignore"):
            out *= 2.0
    return out


@row_loops
def xlog_softmax(w, z, out, empty=np.empty):
    """w log softmax(z), 0 where w = 0 (the loss's 0 log 0 = 0), for w in [0, 1].

    Where a row spans more than the float range, log a_k is below -max but w_k log a_k may
    not be: computed as 2 (w_k (log a_k / 2)), every factor finite."""
    z = _full(z, out.shape)
    if _log_softmax_scaled(z, out, empty, 1):
        _log_softmax_scaled(z, out, empty, 0.5)
        out *= w
        out *= 2.0  # overflows only where the product itself is below -max
    else:
        out *= w
    return out


@row_loops
def softmax_cce(w, z, scratch):
    """-sum_k w_k log softmax(z)_k per row (keepdims) = sum(w) log(sum_k e^{d_k}) - sum_k w_k d_k, d = z - max z.

    For w >= 0 both terms are >= 0: no cancellation between them. log(sum e^d) by ``_log_total`` (log1p of the
    others on tight rows), sum w d one dot, in which w_k = 0 adds exactly 0. Rows spanning more than the float range
    (some d_k overflowed to -inf: 0 * -inf) are taken at half scale, h = z/2 - max z/2, every term finite:
    sum(w) log(sum e^{2h}) - 2 sum w h. d (or h), then e^d, go into ``scratch``, a buffer of the broadcast shape:
    the dot reads d while it is in cache."""
    z, d = _full(z, scratch.shape), scratch
    scale = 2.0 if _shifted(z, z.max(axis=-1, keepdims=True), d) else 1.0
    if scale != 1.0:
        np.multiply(z, 0.5, out=d)
        d -= d.max(axis=-1, keepdims=True)
    wd, total_w = row_dot(w, d), row_sum(w)
    if scale != 1.0:
        with np.errstate(over="ignore"):  # 2 h below -max: e = 0, as it should be
            d *= 2.0
    _, log_total = _log_total(np.exp(d, out=d), d.dtype)
    return total_w * log_total - wd * scale


def _log1m_softmax_plain(z, out, empty):
    """log(1 - softmax(z)) into ``out`` from one exp pass: log1p(-e_k / (1 + rest)) off the top, log(rest) - log1p(rest)
    at it, rest = sum_{k != t} e^{z_k - z_t}. Rows where rest is under n times the least normal number (its largest
    term may be subnormal), or nan, take ``_log1m_softmax_second`` alone. None where ``out`` is not C-ordered; else the
    rows (flat indices) whose z - z_t overflowed, their values left for the caller."""
    idx, top = _top(z)
    if not out.flags.c_contiguous:
        return None
    wide = np.flatnonzero((np.isneginf(out) & np.isfinite(z)).any(axis=-1)) if _shifted(z, top, out) else _NONE
    e = np.exp(out, out=out)
    tops = _tops(idx, out.shape[-1])
    e.reshape(-1)[tops] = 0.0
    rest = row_sum(e)
    second = np.setdiff1d(np.flatnonzero(~(rest >= out.shape[-1] * np.finfo(out.dtype).smallest_normal)), wide)  # nan too
    with np.errstate(divide="ignore", invalid="ignore"):  # those rows: replaced below
        e *= -1.0 / (1.0 + rest)  # -a_k, 0 at the top
        np.log1p(e, out=e)  # log(1 - a_k) off the top: a_k <= 1/2 there
        e.reshape(-1)[tops] = (np.log(rest) - np.log1p(rest)).reshape(-1)
    _log1m_second_rows(second, out, z, empty, 1)  # no overflow: these rows' z - z_t did not
    return wide


_NONE = np.zeros(0, np.intp)


def _log1m_halves(z, out, empty):
    """log(1 - softmax(z)) into ``out``, and the rows holding half of it: those spanning the float range, each alone at
    half scale; the others by the one-exp path. A row's bits are its own, whatever rows share its block."""
    with np.errstate(invalid="ignore"):  # -inf - -inf in a row spanning the float range: redone below
        wide = _log1m_softmax_plain(z, out, empty)
    if wide is None:  # out not C-ordered: the second-largest shift, at half scale where a row spans the range
        if _log1m_softmax_second(z, out, empty, 1):
            _log1m_softmax_second(z, out, empty, 0.5)
            return np.arange(out.size // out.shape[-1])
        return _NONE
    _log1m_second_rows(wide, out, z, empty, 0.5)
    return wide


def _log1m_second_rows(rows, out, z, empty, scale):
    """out's rows ``rows`` by the second-largest shift at ``scale``, those rows taken alone (``_redo``)."""
    _redo(rows, lambda zz, buf, e: (_log1m_softmax_second(zz, buf, e, scale), buf)[1], out, z, empty=empty)


def _log1m_softmax_second(z, out, empty, scale):
    """scale * log(1 - softmax(z)), True when some difference overflowed, with the top class's log(1 - a_t) = logsumexp of the others - logsumexp, the others
    shifted by the second largest logit."""
    idx, top = _top(z)
    if scale == 1:
        overflowed = _shifted(z, top, out)
    else:
        np.multiply(z, 0.5, out=out)
        out -= top * 0.5
        overflowed = True
    e = empty(out.shape, out.dtype)
    if scale != 1:
        with np.errstate(over="ignore"):  # below -max: e = 0, as it should be
            np.multiply(out, 1.0 / scale, out=e)
        np.exp(e, out=e)
    else:
        np.exp(out, out=e)
    total = e.sum(axis=-1, keepdims=True)
    e /= total
    np.put_along_axis(e, idx, 0.0, axis=-1)
    np.negative(e, out=e)
    np.log1p(e, out=e)  # log(1 - a_k) off the top: a_k <= 1/2 there
    if scale != 1:
        e *= scale
    # top class: 1 - a_top = sum_{k != top} e_k / total, shifted by the second largest logit
    np.put_along_axis(out, idx, -np.inf, axis=-1)
    second = out.max(axis=-1, keepdims=True)  # finite: n >= 2 and, at scale 1/2, no overflow
    if scale == 1:
        overflowed |= _shifted(out, second, out)
    else:
        out -= second
        with np.errstate(over="ignore"):
            out *= 2.0
    np.exp(out, out=out)
    rest = np.log(out.sum(axis=-1, keepdims=True)) * scale + second
    np.put_along_axis(e, idx, rest - np.log(total) * scale, axis=-1)
    np.copyto(out, e)
    return overflowed


def log1m_softmax(z, out, empty=np.empty):
    """log(1 - softmax(z)_i): log1p(-a_i) off the top class; at the top, logsumexp of the others
    - logsumexp; -inf only where the value is below -max."""
    z = _full(z, out.shape)
    if out.shape[-1] == 1:  # a single unit: softmax is 1, log(1 - 1) = -inf exactly
        return out.fill(-np.inf) or out
    wide = _log1m_halves(z, out, empty)
    if wide.size:
        with np.errstate(over="ignore"):
            out[_at(wide, out)] *= 2.0
    return out


def xlog1m_softmax(w, z, out, empty=np.empty):
    """w log(1 - softmax(z)), 0 where w = 0, for w in [0, 1]; finite wherever the product is."""
    z = _full(z, out.shape)
    if out.shape[-1] == 1:  # log(1 - 1) = -inf: 0 where w = 0
        np.copyto(out, np.where(_full(w, out.shape) == 0, 0.0, -np.inf))
        return out
    wide = _log1m_halves(z, out, empty)
    out *= w
    if wide.size:  # 2 (w (log(1 - a) / 2)): overflows only where the product itself is below -max
        out[_at(wide, out)] *= 2.0
    return out


@row_loops
def softmax_odds_vjp(z, y, out, empty=np.empty):
    """p - a sum(p), p = -y + w, w = (1 - y) a/(1 - a), a = softmax(z): plain passes on the rows that
    allow them (``rows_odds``), ``_odds_vjp_exact`` on the others."""
    return rows_odds.odds_vjp(z, y, out, empty, _odds_vjp_exact)


def _odds_vjp_exact(z, y, out, empty=np.empty):
    """p - a sum(p), p = -y + w, w = (1 - y) a/(1 - a), a = softmax(z), in log space.

    = a sum(y) - y + w - a sum(w). The top class's odds a_t/(1 - a_t) can overflow (e^{1000}),
    so it is kept out of the sums: for j != t, a_j w_t = (1 - y_t) a_t a_j / (1 - a_t), with
    a_j / (1 - a_t) <= 1 from the logits off the top; w_t itself only meets (1 - a_t):
    w_t - a_t w_t = (1 - y_t) a_t. Rows spanning more than the float range are taken at half
    scale (``_log_softmax_scaled``).
    """
    z, y = _full(z, out.shape), _full(y, out.shape)
    if out.shape[-1] == 1:  # one unit: softmax is 1 and constant, delta is 0
        return out.fill(0.0) or out
    idx, _ = _top(z)
    L, M = empty(out.shape, out.dtype), empty(out.shape, out.dtype)
    with np.errstate(invalid="ignore"):
        overflowed = _log_softmax_scaled(z, L, empty, 1) | _log1m_softmax_second(z, M, empty, 1)
    if overflowed:  # a row spans the float range: log a and log(1 - a) at half scale, all finite
        _log_softmax_scaled(z, L, empty, 0.5)
        _log1m_softmax_second(z, M, empty, 0.5)
    scale = 2.0 if overflowed else 1.0
    with np.errstate(over="ignore"):  # full-size temporaries from empty(): fresh ones page-fault
        a = np.exp(np.multiply(L, scale, out=empty(out.shape, out.dtype)), out=empty(out.shape, out.dtype))
    one_minus_y = np.subtract(1.0, y, out=empty(out.shape, out.dtype))
    # w off the top class: odds <= 1 there
    w = np.subtract(L, M, out=empty(out.shape, out.dtype))
    np.put_along_axis(w, idx, -np.inf, axis=-1)
    with np.errstate(over="ignore"):  # odds below e^-max: 0, as they should be
        w *= scale
    np.exp(w, out=w)
    w *= one_minus_y
    W = w.sum(axis=-1, keepdims=True)
    y_top = np.take_along_axis(one_minus_y, idx, axis=-1)
    with np.errstate(over="ignore"):  # 1 - a_t below e^-max: 0
        c_top = np.exp(np.take_along_axis(M, idx, axis=-1) * scale)  # 1 - a_t
    # a_j w_t = (1 - y_t) a_t e^{O_j} for j != t, O_j = log(a_j / (1 - a_t)) <= 0 taken from z
    # itself, O_j = (z_j - z_s) - log sum_{k != t} e^{z_k - z_s} (z_s the largest off the top):
    # L_j + L_t - M_t would subtract two values of size z_t - z_j and lose O_j's digits.
    np.copyto(L, z)
    np.put_along_axis(L, idx, -np.inf, axis=-1)
    _shifted(L, L.max(axis=-1, keepdims=True), M)  # z_k - z_s <= 0, -inf at the top
    np.exp(M, out=L)
    M -= np.log(L.sum(axis=-1, keepdims=True))
    np.exp(M, out=M)
    M *= y_top * np.take_along_axis(a, idx, axis=-1)
    # out = a sum(y) - y + w - a W - a_j w_t, with the top entry's w_t - a_t w_t = (1 - y_t) a_t
    rows = empty(out.shape, out.dtype)
    np.copyto(rows, y)  # y's rows in C order: the sum's order, so its rounding, is the same whatever y's layout
    y_sum = rows.sum(axis=-1, keepdims=True)
    np.multiply(a, y_sum, out=out)
    out -= y
    out += w
    out -= np.multiply(a, W, out=one_minus_y)  # 1 - y's buffer: used up
    out -= M
    # top entry: a_t sum(y) - y_t = (sum(y) - y_t) - (1 - a_t) sum(y), with 1 - a_t = e^{M_t}
    a_top = np.take_along_axis(a, idx, axis=-1)
    y_t = np.take_along_axis(y, idx, axis=-1)
    top_value = ((y_sum - y_t) - c_top * y_sum) + y_top * a_top - a_top * W
    np.put_along_axis(out, idx, top_value, axis=-1)
    return out

