"""Fewer NumPy calls for the same values (issue 15): the printer's clamp of a clipped line, huber's sign,
2 step(x) - 1 from the sign bits, and ``bits``' plain NumPy calls on small arrays. Each form is checked
against the one it replaces, bit for bit, and shown refused where it would change a value."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.compile.nodes import Clip, Over, step
from derive.compile.patterns import clamp_of
from derive.compile.patterns import signs_out as _signs_out
from derive.compile.printer_numpy import _run_line, function_source
from derive.kernels import bits

x = sp.Symbol("z", real=True)
DTYPES = (np.float32, np.float64, np.longdouble)


def _run(expr, z):
    scope = {"np": np, "bits": bits}
    exec(function_source("f", "z, shape, dtype", expr), scope)
    return scope["f"](z, z.shape, z.dtype.type)


def _grid(dt):
    z = np.concatenate([np.linspace(-4, 4, 4001), [-3, 3, -0.0, 0.0, np.inf, -np.inf]]).astype(dt)
    return np.concatenate([z, np.nextafter(z[-6:-4], np.array([0, 0], dt)), np.nextafter(z[-6:-4], np.array([-9, 9], dt))])


def test_hard_sigmoid_clamp_is_the_piecewise_exactly():
    pw = sp.Piecewise((0, x <= -3), (1, x >= 3), (x / 6 + sp.Rational(1, 2), True))
    clip = clamp_of(pw, _run_line)
    assert isinstance(clip, Clip)
    for dt in DTYPES:
        z = _grid(dt)
        line = _run((clip.args[0]), z)
        want = np.where(z <= -3, dt(0), np.where(z >= 3, dt(1), line))  # the Piecewise of that same line
        assert np.array_equal(_run(clip, z), want)
        assert set(_run(clip, z)[np.isin(z, [dt(-3), dt(3)])].tolist()) == {0.0, 1.0}


def test_clamp_refused_where_the_line_misses_an_end():
    assert clamp_of(sp.Piecewise((0, x <= -3), (1, x >= 3), (x / 5 + sp.Rational(1, 2), True)), _run_line) is None  # 1.1 at 3
    assert clamp_of(sp.Piecewise((0, x <= -3), (1, x >= 3), (-x / 6 + sp.Rational(1, 2), True)), _run_line) is None  # decreasing
    # z/6 + 1/2 as printed misses 1 at z = 3 in long double (1/6 rounded to float64): Over(z + 3, 6) is taken,
    # (z + 3) * (1/6) in float32 and float64 (what PyTorch and XLA compute: the backends agree), (z + 3) / 6 wider
    assert isinstance(clamp_of(sp.Piecewise((0, x <= -3), (1, x >= 3), (x / 6 + sp.Rational(1, 2), True)), _run_line).args[0],
                      Over)


def test_over_multiplies_by_the_reciprocal_in_float32_and_float64_and_divides_wider():
    from derive.kernels import bits

    v = np.array([3.00000001, 1.0, -2.5])
    for dt in (np.float32, np.float64):
        got = bits.over(v.astype(dt), 6, out=np.empty(3, dt))
        assert np.array_equal(got, v.astype(dt) * dt(1.0 / 6)), dt
    assert bits.over(v.astype(dt), 6, out=np.empty(3, dt))[0] != v[0] / 6  # the reciprocal's rounding shows
    wide = v.astype(np.longdouble)
    assert np.array_equal(bits.over(wide, 6, out=np.empty(3, np.longdouble)), wide / 6)


def test_odd_clip_sign_out_same_bits():
    r = sp.Symbol("r", real=True)
    y = sp.Symbol("y", real=True)
    expr = Clip(y - x, -1, 1) * ((y - x) - Clip(y - x, -1, 1) / 2)  # huber's loss of r = y - z
    moved = _signs_out(expr)
    assert not any(a.args[0].could_extract_minus_sign() for a in moved.atoms(Clip))
    assert _signs_out(Clip(-r, 0, 1)) == Clip(-r, 0, 1)  # not symmetric: kept
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        z, yv = rng.normal(0, 2, 5000).astype(dt), rng.normal(0, 2, 5000).astype(dt)
        f, g = (sp.lambdify((x, y), e.replace(lambda t: isinstance(t, Clip), lambda t: sp.Min(sp.Max(t.args[0], t.args[1]), t.args[2])),
                            "numpy") for e in (expr, moved))
        assert np.array_equal(f(z, yv), g(z, yv))


def test_two_steps_minus_one_from_the_sign_bits():
    y = sp.Symbol("y", real=True)
    src = function_source("f", "z, y, shape, dtype", 2 * step(x) - 1 - y)
    assert "bits.signed" in src and "signbit" not in src
    scope = {"np": np, "bits": bits}
    exec(src, scope)
    for n in (100, 20000):  # NumPy's copysign below bits._SMALL, the integer passes above
        for dt in (np.float32, np.float64):
            z = np.random.default_rng(n).normal(0, 1, n).astype(dt)
            z[:4] = [-0.0, 0.0, np.inf, -np.inf]
            yv = np.random.default_rng(1).uniform(-1, 1, n).astype(dt)
            sign = np.where(np.signbit(z), dt(-1), dt(1))
            assert np.array_equal(scope["f"](z, yv, z.shape, dt), sign - yv)  # one rounding, as (+-1) - y


@pytest.mark.parametrize("n", [100, 20000])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_bits_helpers_same_bits_small_and_large(n, dt):
    rng = np.random.default_rng(n)
    z = rng.normal(0, 3, n).astype(dt)
    z[:5] = [-0.0, 0.0, np.inf, -np.inf, np.nan]
    p = np.abs(rng.normal(0, 3, n)).astype(dt)
    m = rng.uniform(size=n) < 0.5
    u = np.dtype(f"u{np.dtype(dt).itemsize}")
    same = lambda a, b: np.array_equal(a.view(u), b.view(u))  # noqa: E731
    assert same(bits.copysign(p, z, np.empty_like(p), np.empty_like(p)), np.copysign(p, z))
    assert same(bits.negative_abs(z, np.empty_like(z)), np.negative(np.abs(z)))
    assert same(bits.signed(0.5, z, np.empty_like(z)), np.copysign(dt(0.5), z))
    out = z.copy()
    want = z.copy()
    np.copyto(want, p, where=m)
    assert same(bits.select(m, p, out, np.empty_like(out)), want)
