"""Clamps and thresholds per dtype (issue 14): long double at large |z|, float32 and float64 as before.

The kernels clamp where a value rounds to its limit: sigma(x) to 1 past sigmoid_saturation,
e^{-2|x|} (tanh') and e^{-x^2/2} (gelu') to 0 past tanh_clamp and gauss_clip. The bounds are
``derive.kernels.bits.bound(name, dtype)``, computed from ``np.finfo``; float64's (39, 374, 40)
are wrong in long double, whose 64-bit significand and 15-bit exponent hold 1 - sigma(42) = 5.7e-19
and e^{-2000}. Each value is compared with mpmath (60 digits) of the textbook definition, to a few
ulps of its dtype. gelu' = Phi(z) + z phi(z) is long double accurate too: Phi by ``bits._ndtr_long`` (a
series and Mills' continued fraction in long double; SciPy has no long double loop), and 1/sqrt(2 pi) as
float64's rounding plus its tail (``rewrite.constant_head_and_tail``), where one float64 literal left 1e-17.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derive import kernels
from derive.kernels import bits

LD = np.longdouble
pytestmark = pytest.mark.skipif(np.finfo(LD).nmant < 63, reason="long double is float64 on this platform")
mpmath.mp.dps = 60

SIGMOID_Z = (40.5, 42.0, 44.0, 46.0, 100.0, 12000.0, -40.0, -100.0, -5000.0, -11000.0, -12000.0)
TANH_Z = (400.0, 401.5, 1000.0, 3000.0, 5600.0, 6000.0, -400.0, -5600.0)
GELU_Z = (40.0, 41.0, 60.0, 150.0, -40.0, -41.0, -60.0, -100.0, -150.0, -5.0, -2.0, 1.0, 3.0)


def _mp(v):
    return mpmath.mpf(np.format_float_scientific(v, precision=25, unique=False))


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _dtanh(x):
    return mpmath.sech(x) ** 2  # 1 - tanh^2 cancels to 0 at 60 digits


def _dgelu(x):
    return mpmath.ncdf(x) + x * mpmath.npdf(x)


def _within(got, want, dtype, ulps):
    """|got - want| <= ulps eps |want| (+ the least subnormal: a value that underflows is 0)."""
    info = np.finfo(dtype)
    return abs(_mp(got) - want) <= ulps * _mp(info.eps) * abs(want) + _mp(info.smallest_subnormal)


CASES = [("sigmoid", False, SIGMOID_Z, _sigmoid, 4), ("tanh", True, TANH_Z, _dtanh, 8),
         ("gelu", True, GELU_Z, _dgelu, 16)]


@pytest.mark.parametrize(("name", "derivative", "zs", "truth", "ulps"), CASES, ids=[c[0] for c in CASES])
def test_long_double_at_large_z(name, derivative, zs, truth, ulps):
    f = kernels.activation(name)
    z = np.array(zs, LD)
    got = (f.derivative if derivative else f)(z)
    assert got.dtype == LD
    bad = [(zi, g, mpmath.nstr(truth(_mp(zi)), 20)) for zi, g in zip(z, got) if not _within(g, truth(_mp(zi)), LD, ulps)]
    assert not bad


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "derivative", "zs", "truth", "ulps"), CASES, ids=[c[0] for c in CASES])
def test_float32_and_float64_at_the_same_points(name, derivative, zs, truth, ulps, dtype):
    f = kernels.activation(name)
    z = np.array([v for v in zs if abs(v) < 1e4], dtype)
    got = (f.derivative if derivative else f)(z)
    assert got.dtype == dtype
    assert all(_within(g, truth(_mp(zi)), dtype, ulps) for zi, g in zip(z, got))


def test_float64_constant_and_phi_fail_in_long_double():
    # what gelu' was before: 1/sqrt(2 pi) as one float64 literal, Phi to float64's accuracy (erfcx in float64)
    from scipy.special import ndtr

    for v in (-40.0, -2.0, 1.0):
        x = LD(v)
        literal = x * np.exp(-x * x / 2) * 0.3989422804014327 + LD(ndtr(float(x)))
        assert not _within(literal, _dgelu(_mp(x)), LD, 16), v
        assert _within(kernels.activation("gelu").derivative(np.array([x]))[0], _dgelu(_mp(x)), LD, 16)


def test_long_double_phi_to_a_few_ulps():
    z = np.array([-150.0, -40.0, -5.0, -2.0001, -2.0, -1.9999, -1.5, -0.3, 0.0, 0.3, 1.9999, 2.0, 2.5, 9.0], LD)
    out = np.empty_like(z)
    bits.ndtr(z, out=out)
    assert all(_within(g, mpmath.ncdf(_mp(v)), LD, 16) for v, g in zip(z, out))


def test_float64_bounds_fail_in_long_double():
    # the clamps tuned for float64 (sigma at 40, tanh' at 400, gelu's clip at 40) evaluated in long double
    z = LD(42)
    e = np.exp(np.minimum(z, LD(40)))
    assert not _within(e / (1 + e), _sigmoid(_mp(z)), LD, 4)
    q = np.exp(-2 * np.minimum(LD(1000), LD(400)))
    assert not _within(4 * q / (1 + q) ** 2, _dtanh(_mp(LD(1000))), LD, 8)
    x = LD(-100)
    clipped = x * np.exp(-np.clip(x, -40, 40) ** 2 / 2) / np.sqrt(2 * np.pi, dtype=LD)
    assert not _within(clipped, _dgelu(_mp(x)), LD, 8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, LD], ids=["float32", "float64", "longdouble"])
def test_each_bound_is_past_its_rounding_threshold_in_its_dtype(dtype):
    # checked on the floating point itself, in the dtype: past the bound the clamped value is the limit
    one, two = dtype(1), dtype(2)
    s, t, g = (bits.bound(name, dtype) for name in ("sigmoid_saturation", "tanh_clamp", "gauss_clip"))
    assert one / (one + np.exp(-s)) == one and np.exp(-two * t) == 0 and np.exp(-g * g / two) == 0
    assert bits.bound("tiny", dtype) == np.finfo(dtype).smallest_normal
    # and not far past: one below the threshold the value is not yet the limit
    assert one / (one + np.exp(-(s - 3))) < one and np.exp(-two * (t - 3)) > 0
    with pytest.raises(KeyError):
        bits.bound("no_such_bound", dtype)


def test_the_clamps_are_proved_per_format():
    from derive.compile.expressions import activation_expr, derivative_expr
    from proofs.translation import FORMATS, clamp_verdicts

    for kernel in (activation_expr("sigmoid"), derivative_expr("tanh"), derivative_expr("gelu")):
        verdicts = clamp_verdicts(kernel)
        assert [verdicts[f[0]].proved for f in FORMATS] == [True, True, True], kernel
    # float64's bound in long double: refuted (sigma(40) is not within half an ulp of 1 there)
    from derive.compile.nodes import BOUNDS

    loose = activation_expr("sigmoid").xreplace({BOUNDS["sigmoid_saturation"]: 40})
    assert not clamp_verdicts(loose)[FORMATS[2][0]].proved and clamp_verdicts(loose)["float64"].proved
