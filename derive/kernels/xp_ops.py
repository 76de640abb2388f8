"""Functional primitives over an array namespace ``xp``, called by ``_generated_xp`` as ``ops.<name>``.

    softmax(z)_i = e^{z_i - max z} / sum_k e^{z_k - max z}    (each row function: see ``rows``)

The same stable forms as the in-place NumPy primitives of ``derive.kernels.rows`` (read the
identities there), written without ``out=``, in-place writes or data-dependent indexing: the top
class t of a row is a mask, a row's subset is a ``where``, so that each runs on PyTorch, JAX
(under ``jit``/``vmap``), CuPy and array-api-strict alike. Python numbers become arrays of the
call's dtype and device (the standard's ``maximum``/``where`` take arrays only).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Ops"]


class Ops:
    """The primitives for one call: namespace ``xp``, working ``dtype``, ``device``, ``ndtr`` (Phi) and
    ``log_ndtr`` (log Phi)."""

    def __init__(self, xp, dtype, device, ndtr, log_ndtr=None):
        self.xp, self.dtype, self.device, self.ndtr, self.log_ndtr = xp, dtype, device, ndtr, log_ndtr
        info = xp.finfo(dtype)
        self.max, self.tiny = float(info.max), float(info.smallest_normal)
        # rows whose other classes sum to under 2^-10 (float32: 2^-6) of the top's mass: see rows._tight
        self.tight = 1.0 + (2.0**-6 if info.bits <= 32 else 2.0**-10)

    # --- elementwise ----------------------------------------------------------------------------
    def _a(self, v):
        # a Python bool is an int: it stays a boolean (a Piecewise of conditions is a where over masks)
        if isinstance(v, bool):
            return self.xp.asarray(v, dtype=self.xp.bool, device=self.device)
        return self.xp.asarray(v, dtype=self.dtype, device=self.device) if isinstance(v, (int, float)) else v

    def maximum(self, p, q):
        return self.xp.maximum(self._a(p), self._a(q))

    def minimum(self, p, q):
        return self.xp.minimum(self._a(p), self._a(q))

    def clip(self, x, lo, hi):
        return self.minimum(self.maximum(x, lo), hi)

    def where(self, cond, p, q):
        return self.xp.where(cond, self._a(p), self._a(q))

    def copysign(self, p, x):
        """|p| with the sign bit of x (p >= +0)."""
        return self.xp.copysign(p, x)

    def step(self, x):
        """1 where the sign bit of x is clear, else 0: consistent with copysign."""
        return self.where(self.xp.signbit(x), 0.0, 1.0)

    def log_product(self, p, r, slow):
        """p r, and ``slow()`` (the same value in log space, s e^{log|p| + log|r|}) on the lanes where |p| < tiny
        and |r| > 1: p underflowed (or lost digits as a subnormal) where p r need not have. ``slow`` is called
        only when a lane needs it (always under ``jax.jit``, where the lanes are not known: a ``where`` then)."""
        xp = self.xp
        p, r = self._a(p), self._a(r)
        out = p * r
        lanes = (xp.abs(p) < self.tiny) & (xp.abs(r) > 1.0)
        try:
            needed = bool(xp.any(lanes))
        except Exception as err:  # a tracer (jax.jit): no value to branch on
            if "Tracer" not in type(err).__name__ and "Concretization" not in type(err).__name__:
                raise
            needed = True
        if not needed:
            return out
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # log 0 on lanes not taken (NumPy-backed)
            return self.where(lanes, slow(), out)

    # --- rows: helpers -------------------------------------------------------------------------
    def _top(self, z):
        """(mask of the top class t, the first maximum; z_t), both (..., n) / (..., 1). The first index
        where z equals the max, by a min over the indices: XLA's CPU argmax is 30x a max (36 ms at 4096 x 1000)."""
        xp = self.xp
        top = xp.max(z, axis=-1, keepdims=True)
        units = xp.arange(z.shape[-1], device=self.device)
        first = xp.min(xp.where(z == top, units, z.shape[-1]), axis=-1, keepdims=True)
        return units == first, top

    def _maxima(self, z):
        """(mask of each row's maxima, the max): the top class where it is unique, which is every row that reads
        it here (``tight`` rows: the others hold under 2^-10 of the top's mass, so no tie). No index reduction:
        under jax.jit a sum fused with one costs 5x (56 ms against 11 ms at 4096 x 1000)."""
        top = self.xp.max(z, axis=-1, keepdims=True)
        return z == top, top

    def _take(self, mask, v):
        """v at the top class, (..., 1): a sum of one value and zeros is exact."""
        return self.xp.sum(self.where(mask, v, 0.0), axis=-1, keepdims=True)

    def _sum(self, v):
        return self.xp.sum(v, axis=-1, keepdims=True)

    def _shifted(self, z, top):
        """z - max z: finite z can be 2e308 apart, and -inf is then what e^{z - max} = 0 needs."""
        with np.errstate(over="ignore"):  # NumPy-backed namespaces (array-api-strict) would warn
            return z - top

    def _off_top(self, z):
        """(mask, e_k = e^{z_k - z_t} with e_t = 0, rest = sum_k e_k)."""
        mask, top = self._top(z)
        e = self.where(mask, 0.0, self.xp.exp(self._shifted(z, top)))
        return mask, e, self._sum(e)

    # --- rows ------------------------------------------------------------------------------------
    def softmax(self, z):
        """e^{z - max z} / sum e^{z - max z} over the last axis."""
        e = self.xp.exp(self._shifted(z, self.xp.max(z, axis=-1, keepdims=True)))
        return e / self._sum(e)

    def softmax_residual(self, z, y):
        """softmax(z) - y; at the top class of tight rows with y_t > 1/2: (1 - y_t) - rest/(1 + rest)."""
        mask, top = self._maxima(z)
        e = self.xp.exp(self._shifted(z, top))
        total = self._sum(e)
        rest = self._sum(self.where(mask, 0.0, e))
        y_top = self._take(mask, y)
        exact = (1.0 - y_top) - rest / (1.0 + rest)
        return self.where(mask & (total < self.tight) & (y_top > 0.5), exact, e / total - y)

    def softmax_vjp(self, z, g):
        """a (g - sum(a g)) = a ((g_j - g_t) + T), T = sum_{k != t} a_k (g_t - g_k)."""
        mask, e, rest = self._off_top(z)
        d = g - self._take(mask, g)
        T = -self._sum(e * d) / (1.0 + rest)
        return (d + T) * (self.where(mask, 1.0, e) / (1.0 + rest))

    def softmax_vjp_clipped_residual(self, z, y):
        """softmax_vjp(z, clip(a - y, -1, 1)), differences kept exact."""
        return self.softmax_vjp_residual(z, y, clip=True)

    def softmax_vjp_residual(self, z, y, clip=False):
        """softmax_vjp(z, a - y) = a (T - D), D_k = (a_t - a_k) - (y_t - y_k) in exact pieces (see rows)."""
        xp = self.xp
        mask, top = self._top(z)
        d0 = self._shifted(z, top)
        e = self.where(mask, 0.0, xp.exp(d0))
        rest = self._sum(e)
        total = 1.0 + rest
        y_t = self._take(mask, y)
        dy = y_t - y
        d = xp.expm1(d0) / -total - dy  # close logits
        d = self.where(dy > 0.5, (1.0 - dy) - (e + rest) / total, d)  # target at the top
        if clip:
            a_top = 1.0 / total
            a = self.where(mask, a_top, e / total)
            r = a - y
            r_top = self._take(mask, r)
            k_clipped, t_clipped = xp.abs(r) > 1, xp.abs(r_top) > 1
            s_k, s_t = xp.sign(r), xp.sign(r_top)
            t_kept = self.where(s_k > 0, -(rest / total + y_t), (1.0 - y_t) + a_top)
            k_kept = (s_t + y) - a
            D = self.where(t_clipped, self.where(k_clipped, s_t - s_k, k_kept), t_kept)
            d = self.where(k_clipped | t_clipped, D, d)
        d = self.where(mask, 0.0, d)
        a = self.where(mask, 1.0, e) / total
        return (self._sum(a * d) - d) * a

    def softmax_jacobian(self, z):
        """a_i (delta_ij - a_j), the diagonal a_i (1 - a_i) with 1 - a_t = sum_{k != t} a_k."""
        xp = self.xp
        mask, e, rest = self._off_top(z)
        complement = self.where(mask, rest / (1.0 + rest), 1.0 - e / (1.0 + rest))
        a = self.where(mask, 1.0, e) / (1.0 + rest)
        units = xp.arange(z.shape[-1], device=self.device)
        diagonal = units[:, None] == units[None, :]
        return self.where(diagonal, (a * complement)[..., :, None], -a[..., :, None] * a[..., None, :])

    def _half_parts(self, z, mask, top):
        """(h = z/2 - max/2, log sum e^{2h}), finite for any finite z: h never overflows, where z - max can (rows
        spanning more than the float range); log1p of the others' sum on tight rows."""
        xp = self.xp
        half = z * 0.5 - top * 0.5
        with np.errstate(over="ignore"):  # 2 half below -max: e = 0, as it should be
            e = xp.exp(half * 2.0)
        total = self._sum(e)
        return half, self.where(total < self.tight, xp.log1p(self._sum(self.where(mask, 0.0, e))), xp.log(total))

    def _half_log_softmax(self, z, mask, top):
        """log softmax(z) / 2 (``_half_parts``)."""
        half, log_total = self._half_parts(z, mask, top)
        return half - log_total * 0.5

    def softmax_cce(self, w, z):
        """-sum_k w_k log softmax(z)_k (keepdims) = sum(w) log sum e^{2h} - 2 sum w h, h = z/2 - max z/2: both terms
        >= 0 for w >= 0, w_k = 0 adds 0, every term finite (``_half_parts``)."""
        half, log_total = self._half_parts(z, *self._maxima(z))
        with np.errstate(over="ignore"):  # past max float only where the value is
            return self._sum(w) * log_total - self._sum(w * half) * 2.0

    def log_softmax(self, z):
        """(z - max) - log(sum e^{z - max}); log1p of the others' sum on tight rows; at least -max float."""
        half = self._half_log_softmax(z, *self._maxima(z))
        with np.errstate(over="ignore"):
            return self.maximum(half * 2.0, -self.max)  # below -max float: -max, so that 0 * it stays 0

    def xlog_softmax(self, w, z):
        """w log softmax(z), 0 where w = 0: 2 (w (log a / 2)), finite wherever the product is."""
        with np.errstate(over="ignore"):
            return (w * self._half_log_softmax(z, *self._maxima(z))) * 2.0

    def _half_log1m_softmax(self, z):
        """log(1 - a_i) / 2: log1p(-a_i) off the top; at the top, logsumexp of the others - logsumexp,
        each at half scale (finite for any finite z)."""
        xp = self.xp
        mask, top = self._top(z)
        half = z * 0.5 - top * 0.5
        with np.errstate(over="ignore"):
            e = xp.exp(half * 2.0)
        total = self._sum(e)
        off = xp.log1p(-self.where(mask, 0.0, e / total)) * 0.5
        others = self.where(mask, -math.inf, half)
        second = xp.max(others, axis=-1, keepdims=True)  # finite: n >= 2
        with np.errstate(over="ignore"):
            rest = xp.log(self._sum(xp.exp(self._shifted(others, second) * 2.0))) * 0.5 + second
        return self.where(mask, rest - xp.log(total) * 0.5, off)

    def log1m_softmax(self, z):
        """log(1 - a_i), at least -max float (see ``_half_log1m_softmax``)."""
        if z.shape[-1] == 1:  # softmax of one unit is 1: log(1 - 1) = -inf exactly
            return self.where(z == z, -math.inf, 0.0)
        with np.errstate(over="ignore"):
            return self.maximum(self._half_log1m_softmax(z) * 2.0, -self.max)

    def xlog1m_softmax(self, w, z):
        """w log(1 - softmax(z)), 0 where w = 0; finite wherever the product is."""
        if z.shape[-1] == 1:
            return self.where(w == 0, 0.0, -math.inf)
        with np.errstate(over="ignore"):
            return (w * self._half_log1m_softmax(z)) * 2.0

    def softmax_odds_vjp(self, z, y):
        """p - a sum(p), p = -y + (1 - y) a/(1 - a), with log a and log(1 - a) at half scale (finite
        for any finite z) and a_j w_t = (1 - y_t) a_t e^{O_j}, O_j = log(a_j / (1 - a_t)) from the
        logits off the top (see ``rows.softmax_odds_vjp``)."""
        xp = self.xp
        if z.shape[-1] == 1:  # softmax is constant 1: delta is 0
            return self.where(z == z, 0.0, 0.0)
        mask, top = self._top(z)
        half_l, half_m = self._half_log_softmax(z, mask, top), self._half_log1m_softmax(z)
        one_minus_y = 1.0 - y
        with np.errstate(over="ignore"):  # below e^-max: 0, as they should be
            a = xp.exp(half_l * 2.0)
            w = xp.exp(self.where(mask, -math.inf, half_l - half_m) * 2.0) * one_minus_y  # odds <= 1 off the top
            c_top = xp.exp(self._take(mask, half_m) * 2.0)  # 1 - a_t
        W = self._sum(w)
        y_top = self._take(mask, one_minus_y)
        others = self.where(mask, -math.inf, z)
        d = self._shifted(others, xp.max(others, axis=-1, keepdims=True))  # z_k - z_s <= 0, -inf at the top
        a_top, y_t = self._take(mask, a), self._take(mask, y)
        a_w_top = xp.exp(d - xp.log(self._sum(xp.exp(d)))) * (y_top * a_top)  # a_j w_t, 0 at the top
        y_sum = self._sum(y)
        out = a * y_sum - y + w - a * W - a_w_top
        top_value = ((y_sum - y_t) - c_top * y_sum) + y_top * a_top - a_top * W
        return self.where(mask, top_value, out)
