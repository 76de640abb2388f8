"""Elementwise helpers the generated code calls: sign bits, and the normal CDF.

    copysign(p, x) = |p| with the sign bit of x;  signed(c, x) = copysign(c, x), c a number;  negative_abs(x) = -|x|
    ndtr(x) = Phi(x)
    select(mask, a, out) = a where mask, out elsewhere
    bound(name, dtype): a clamp or threshold of the kernels for ``dtype``, from its finfo (``format_bounds``)
    patch(out, p, r, slow, z, y, dtype): out = slow(z, y) on the lanes where |p| < tiny and |r| > 1
"""

from __future__ import annotations

import math
import threading

import numpy as np

from derive.kernels.blocks import ROW_BLOCK

# --- each format's clamps and thresholds, from its precision and exponent range ----------------------


def format_bounds(p: int, emin: int) -> dict:
    """The bounds the kernels clamp at in a binary format of p bits of precision and least normal
    exponent emin (round to nearest), each one past the exact threshold (integers: exact in proofs):

        sigmoid_saturation  s: e^{-s} < 2^-(p+1), half an ulp below 1: sigma(x) rounds to 1 for x >= s
        tanh_clamp          t: e^{-2t} < 2^-(1 - emin + p), below half the least subnormal: rounds to 0
        gauss_clip          g: e^{-g^2/2} below that too
        gauss_log_clip      e^{-g^2/2} times the largest float (< 2^(2 - emin)) below that too

    ``proofs.translation`` checks each clamp per format with these same numbers.
    """
    ln2 = math.log(2)
    underflow = (1 - emin + p) * ln2
    return {"sigmoid_saturation": math.ceil((p + 1) * ln2) + 1, "tanh_clamp": math.ceil(underflow / 2) + 1,
            "gauss_clip": math.ceil(math.sqrt(2 * underflow)) + 1,
            "gauss_log_clip": math.ceil(math.sqrt(2 * (underflow + (2 - emin) * ln2))) + 1}


_BOUNDS: dict = {}


def bound(name: str, dtype):
    """``format_bounds`` of ``dtype``'s format (from ``np.finfo``), and ``tiny``, its least normal number."""
    table = _BOUNDS.get(dtype)
    if table is None:
        info = np.finfo(dtype)
        table = {k: info.dtype.type(v) for k, v in format_bounds(info.nmant + 1, info.minexp).items()}
        table["tiny"] = info.smallest_normal
        _BOUNDS[dtype] = table
    return table[name]


def ndtr(x, out):
    """Phi(x) = erfc(-x/sqrt 2)/2: float32 (and float16, computed in float32) by ``_ndtr32``, the
    others by scipy.special.ndtr, loaded on the first call (``import derive.kernels`` costs NumPy's
    import and little more)."""
    if out.dtype == np.float32 and np.result_type(x) == np.float32:
        _local.depth = getattr(_local, "depth", 0) + 1  # a kernel called from an errcall inside: buffers of its own
        try:
            return _ndtr32(x, out, _buffer(out.shape, out.dtype))
        finally:
            _local.depth -= 1
    from scipy.special import ndtr as _ndtr

    if out.dtype == np.longdouble != np.float64:
        return _ndtr_long(x, out)
    return _ndtr(x, out=out)


_SQRT_2PI = "2.5066282746310005024157652848110452530069867406099383166299"  # parsed in the dtype (strtold)


def _ndtr_long(x, out):
    """Phi in long double (SciPy has no long double loop), to a few long double ulps:

        |x| < 2:   Phi(x) = 1/2 + phi(x) sum_n x^(2n+1)/(2n+1)!!     (positive terms; Phi(-2) = 0.023: 1/2 - ...
                                                                     loses under 3 bits)
        |x| >= 2:  Phi(-|x|) = phi(x) R(|x|), R(u) = 1/(u + 1/(u + 2/(u + 3/(u + ...))))   (Mills' ratio, 200
                   levels from the bottom: converged past u = 2), 1 - Phi(-|x|) where x > 0

    phi(x) = e^{-x^2/2}/sqrt(2 pi) with sqrt(2 pi) in long double; |x| capped at 200 (e^{-20000} is 0 in long
    double too) so that x^2 stays finite. Every lane takes both forms, each at its argument clipped to its side."""
    dt = out.dtype.type
    u = np.minimum(np.abs(x), dt(200))
    s = np.minimum(u, dt(2))
    term, total, s2 = s.copy(), s.copy(), s * s
    for n in range(1, 40):  # term n / term n-1 = s^2/(2n+1) <= 4/(2n+1): 1e-25 of the sum by n = 40
        term *= s2 / (2 * n + 1)
        total += term
    c = np.maximum(u, dt(2))
    t = np.zeros_like(c)
    for k in range(200, 0, -1):
        t = k / (c + t)
    root = dt(_SQRT_2PI)
    near = dt(0.5) - np.exp(-s2 / 2) / root * total  # Phi(-|x|), |x| < 2
    far = np.exp(-c * c / 2) / root / (c + t)  # Phi(-|x|), |x| >= 2
    q = np.where(u < 2, near, far)
    np.copyto(out, np.where(np.greater(x, 0), 1 - q, q))
    return out


def log_ndtr(x, out):
    """log Phi(x) by scipy.special.log_ndtr (long double: in float64, SciPy has no long double loop)."""
    from scipy.special import log_ndtr as _log_ndtr

    if out.dtype not in (np.float32, np.float64):
        out[...] = _log_ndtr(np.asarray(x, np.float64))
        return out
    return _log_ndtr(x, out=out)


def patch(out, p, r, slow, z, y, dtype, scratch, **params):
    """out = slow(z, y) on the lanes where |p| < tiny and |r| > 1 (out = p r elsewhere): a product whose
    factor p underflowed (or lost digits as a subnormal) while p r need not have. The check costs |p| and
    its minimum, two passes; the rest runs only when a lane needs it, and slow on those lanes only; ``slow(z, y, shape, dtype)`` is the kernel's
    log-space form, called on the lanes' values (and the kernel's ``params``). ``scratch`` is a buffer like ``out``."""
    shape, tiny = out.shape, bound("tiny", dtype)
    a = np.abs(np.broadcast_to(p, shape), out=scratch)
    if not a.size or a.min() >= tiny:  # one read pass: no mask unless a lane needs it
        return out
    lanes = np.less(a, tiny)
    lanes &= np.greater(np.abs(np.broadcast_to(r, shape)), 1)
    where = np.nonzero(lanes)
    if where[0].size:
        zs, ys = (np.broadcast_to(v, shape)[where] for v in (z, y))
        with np.errstate(divide="ignore", invalid="ignore"):  # a branch of slow not taken on these lanes: log 0
            out[where] = slow(zs, ys, zs.shape, dtype, **params)
    return out


# Phi(-u) = t exp(P(t) - u^2/2), t = a/(u + a), a = 3.9, u >= 0; P of degree 6, a weighted minimax fit
# (Lawson's iteration) of log(Phi(-u)/t) + u^2/2 on t in (0, 1]: relative error under 2.1e-7 (1 + u^2), the
# growth of Phi's own condition number u^2 (a lower degree than a uniform fit: 9 terms for 1.2e-7). Evaluated
# as T exp(E), T = e^{P(0)} t = _T_NUM/(u + a), E = T (b1 + T (b2 + ... + T b6)) - u^2/2: P(0) folded into T
# (b_i = p_i e^{-i P(0)}). _ERFC_B holds b6 .. b1.
_T_A, _T_NUM = 3.9, 0.3997569170963169
_ERFC_B = (263553.39770091965, -100786.84918007487, 11820.036076284672, -466.6598629689193, 61.96691649215824,
           9.425872994975888)


def _ndtr32(x, out, s):
    """Phi(x) in float32 as NumPy passes (SciPy's float32 ndtr is scalar code in double, 5x slower):
    q = Phi(-|x|) by the fit above (float32 evaluation included: under 8e-7 (1 + x^2) relative,
    subnormal tails aside), then q where x < 0 and 1 - q elsewhere, picked on the sign bits (a masked
    ufunc costs 40 multiplies). |x| is clamped at 20 (Phi(-20) = 3e-89 is 0 in float32) so that x^2
    does not overflow."""
    np.abs(x, out=s)
    np.minimum(s, 20.0, out=s)
    np.add(s, _T_A, out=out)
    np.divide(_T_NUM, out, out=out)  # T
    p = _buffer(out.shape, out.dtype, 1)
    np.multiply(out, _ERFC_B[0], out=p)
    for b in _ERFC_B[1:]:  # Horner
        p += b
        p *= out
    np.square(s, out=s)
    s *= -0.5
    s += p
    np.exp(s, out=s)
    out *= s  # q
    # x >= 0 (sign bit clear): 1 - q = 1.0 + (-q); else 0.0 + q
    u = _UINT[out.dtype]
    flip = np.invert(x.view(u), out=s.view(u))
    flip &= u.type(1 << 31)  # the sign bit of -x
    np.bitwise_or(out.view(u), flip, out=out.view(u))
    flip >>= u.type(31)
    flip *= np.float32(1.0).view(u)  # 1.0's bits where x >= 0
    out += s
    return out


_local = threading.local()


def _buffer(shape, dtype, k=0):
    """The k-th scratch buffer of this thread, ``shape`` and ``dtype``, kept from call to call (the
    blocks' calls repeat one shape: no page faults per block); one over a block's size, or one asked for by a
    call nested in another's (an errcall), is not kept."""
    n = math.prod(shape) * np.dtype(dtype).itemsize
    if n > 2 * ROW_BLOCK or getattr(_local, "depth", 0) > 1:
        return np.empty(shape, dtype)
    bufs = _local.__dict__.setdefault("bufs", {})
    if k not in bufs or bufs[k].size < n:
        bufs[k] = np.empty(n, np.uint8)
    return bufs[k][:n].view(dtype).reshape(shape)


# --- sign bits -----------------------------------------------------------------------------------

_UINT = {np.dtype(np.float32): np.dtype(np.uint32), np.dtype(np.float64): np.dtype(np.uint64)}
# Below these sizes the plain NumPy call (same values, bit for bit) is faster: the integer passes cost
# 2-3 calls and views each (measured: 1000 elements, copysign 1.0 us against 3.3, select by copyto 2.3
# against 4.0; equal near 8000 and 2500 elements).
_SMALL, _SMALL_SELECT = 8192, 2048


def copysign(p, x, out, scratch):
    """p with the sign bit of x, for magnitudes p >= +0 (their sign bit clear): p | (x & sign bit).

    Two integer passes on the bits; np.copysign has no vectorised loop and costs more than
    exp (float32: 7 ms per 1e7 against 2.4). ``scratch`` is a buffer like ``out``. A nan p
    stays nan (with its own sign bit).
    """
    u = _UINT.get(out.dtype)
    if out.size < _SMALL or u is None or not (p.dtype == x.dtype == out.dtype == scratch.dtype):  # mixed, long double
        return np.copysign(p, x, out=out)
    np.bitwise_and(x.view(u), u.type(1 << (8 * u.itemsize - 1)), out=scratch.view(u))
    np.bitwise_or(p.view(u), scratch.view(u), out=out.view(u))
    return out


def select(mask, a, out, scratch):
    """out = a where mask, out elsewhere: out ^ ((out ^ a) * mask) on the bits, three integer passes
    where np.copyto(out, a, where=mask) costs 20 multiplies (random masks). Bit-exact, nan and inf
    included; ``scratch`` is a buffer like ``out``."""
    u = _UINT.get(out.dtype)
    if not isinstance(a, np.ndarray):  # a number: the dtype's rounding of it, as copyto's cast
        a = np.asarray(a, out.dtype)
    if out.size < _SMALL_SELECT or u is None or a.dtype != out.dtype or scratch.dtype != out.dtype or mask.dtype != np.bool_:
        np.copyto(out, a, where=mask)
        return out
    s = np.bitwise_xor(out.view(u), a.view(u), out=scratch.view(u))
    np.multiply(s, mask, out=s)
    np.bitwise_xor(out.view(u), s, out=out.view(u))
    return out


def signed(c, x, out):
    """copysign(c, x) for a number c >= 0: c's bits with the sign bit of x (2 step(x) - 1 = signed(1, x))."""
    u = _UINT.get(out.dtype)
    if out.size < _SMALL or u is None or x.dtype != out.dtype:
        return np.copysign(c, x, out=out)
    s = np.bitwise_and(x.view(u), u.type(1 << (8 * u.itemsize - 1)), out=out.view(u))
    s |= np.asarray(c, out.dtype).view(u)
    return out


def negative_abs(x, out):
    """-|x|, the sign bit set: one integer pass where np.abs then np.negative make two."""
    u = _UINT.get(out.dtype)
    if out.size < _SMALL or u is None or x.dtype != out.dtype:
        np.abs(x, out=out)
        return np.negative(out, out=out)
    return np.bitwise_or(x.view(u), u.type(1 << (8 * u.itemsize - 1)), out=out.view(u)).view(out.dtype)


def over(x, k, out):
    """x / k for an integer k: x * (1/k) in float32 and float64 (as PyTorch and XLA compute it on their arrays;
    ``patterns.clamp_of`` checks the clamp's ends in each format), x / k in wider formats (long double)."""
    if out.dtype.itemsize <= 8:
        return np.multiply(x, 1.0 / k, out=out)
    return np.divide(x, k, out=out)
