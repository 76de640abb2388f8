"""Elementwise helpers the generated code calls: sign bits, and the normal CDF.

    copysign(p, x) = |p| with the sign bit of x;  negative_abs(x) = -|x|;  ndtr(x) = Phi(x)
"""

from __future__ import annotations

import numpy as np

def ndtr(x, out):
    """Phi(x) = erfc(-x/sqrt 2)/2 (scipy.special.ndtr): SciPy loads on the first call, so that
    ``import derive.kernels`` costs NumPy's import and little more."""
    from scipy.special import ndtr as _ndtr

    if out.dtype == np.longdouble != np.float64:  # SciPy has no long double loop: Phi in float64
        out[...] = _ndtr(np.asarray(x, np.float64))
        return out
    return _ndtr(x, out=out)


# --- sign bits -----------------------------------------------------------------------------------

_UINT = {np.dtype(np.float32): np.dtype(np.uint32), np.dtype(np.float64): np.dtype(np.uint64)}


def copysign(p, x, out, scratch):
    """p with the sign bit of x, for magnitudes p >= +0 (their sign bit clear): p | (x & sign bit).

    Two integer passes on the bits; np.copysign has no vectorised loop and costs more than
    exp (float32: 7 ms per 1e7 against 2.4). ``scratch`` is a buffer like ``out``. A nan p
    stays nan (with its own sign bit).
    """
    u = _UINT.get(out.dtype)
    if u is None or not (p.dtype == x.dtype == out.dtype == scratch.dtype):  # mixed or long double inputs
        return np.copysign(p, x, out=out)
    np.bitwise_and(x.view(u), u.type(1 << (8 * u.itemsize - 1)), out=scratch.view(u))
    np.bitwise_or(p.view(u), scratch.view(u), out=out.view(u))
    return out


def negative_abs(x, out):
    """-|x|, the sign bit set: one integer pass where np.abs then np.negative make two."""
    u = _UINT.get(out.dtype)
    if u is None or x.dtype != out.dtype:
        np.abs(x, out=out)
        return np.negative(out, out=out)
    return np.bitwise_or(x.view(u), u.type(1 << (8 * u.itemsize - 1)), out=out.view(u)).view(out.dtype)
