"""The float32 normal CDF's fit (``bits._ndtr32``): Phi(-u) = T exp(E), T = _T_NUM/(u + a),
E = T (b1 + T (b2 + ... + T b6)) - u^2/2, relative error under 2.1e-7 (1 + u^2) in exact arithmetic
(float64 here), as its comment states. Oracle: mpmath's ncdf."""

from __future__ import annotations

import mpmath
import numpy as np

from derive.kernels import bits


def _fit(u):
    t = bits._T_NUM / (u + bits._T_A)
    p = bits._ERFC_B[0] * t
    for b in bits._ERFC_B[1:]:
        p = (p + b) * t
    return t * np.exp(p - u * u / 2)


def test_fit_within_its_stated_bound():
    mpmath.mp.dps = 30
    u = np.linspace(0.0, 14.0, 561)
    got = _fit(u)
    err = [abs(mpmath.mpf(float(g)) / mpmath.ncdf(-mpmath.mpf(float(v))) - 1) / (1 + v * v) for v, g in zip(u, got)]
    assert max(err) < 2.1e-7


def test_fit_is_the_one_float32_evaluates():
    x = -np.linspace(0.0, 9.0, 91).astype(np.float32)
    got = bits.ndtr(x, np.empty_like(x))
    want = _fit(-x.astype(np.float64))  # float32 rounding of the same steps: a few ulps of the exponent
    assert np.all(np.abs(got / want - 1) < 8e-7 * (1 + x.astype(np.float64) ** 2))
