"""The kernels' fast paths (issue 15) keep the stability promises: float32 Phi as NumPy passes
(``bits.ndtr``), softmax rows unshifted where max z lies in [0, log(max float / n) - 1]
(``rows._exp_rows``), every other row max-shifted. Oracle: mpmath from the textbook definitions."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

from derive.kernels import bits, rows

mpmath.mp.dps = 40


def _phi(x):
    return mpmath.ncdf(mpmath.mpf(float(x)))


def test_ndtr_float32_matches_the_normal_cdf_to_float32_precision():
    x = np.concatenate([np.linspace(-13, 13, 4001), np.random.default_rng(0).normal(0, 4, 2000)]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = bits.ndtr(x, np.empty_like(x))
    assert got.dtype == np.float32
    tiny = np.finfo(np.float32).tiny
    for xi, g in zip(x, got):
        want = _phi(xi)
        # float32 rounding of x^2/2 in the exponent: |x|^2 eps relative (Phi's own condition number)
        bound = 2e-6 * want * (1 + float(xi) ** 2) + tiny
        assert abs(mpmath.mpf(float(g)) - want) <= bound, (xi, g, want)


def test_ndtr_float32_edges_without_warnings():
    x = np.array([np.inf, -np.inf, 3e38, -3e38, 0.0, -0.0, 1e-30, -1e-30, -20.0, 20.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = bits.ndtr(x, np.empty_like(x))
    assert got.tolist() == [1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.0, 1.0]
    assert np.isnan(bits.ndtr(np.float32([np.nan]), np.empty(1, np.float32)))[0]
    with np.errstate(over="ignore"):  # the naive erfc form squares x: inf at 3e38
        assert np.isinf(np.float32(3e38) ** 2)


def test_ndtr_float32_tail_keeps_relative_accuracy_where_one_minus_phi_does_not():
    x = np.float32([-9.0, -12.0])
    got = bits.ndtr(x, np.empty_like(x))
    for xi, g in zip(x, got):
        assert abs(float(g) / float(_phi(xi)) - 1) < 1e-4
    assert (np.float32(1) - (np.float32(1) - got) == 0).all()  # through 1 - Phi(-x): all digits gone


def _softmax(row):
    e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
    s = mpmath.fsum(e)
    return [v / s for v in e]


def _rows(dtype):
    """{path: row}: one row per path; L = log(max float)."""
    big = float(np.log(np.finfo(dtype).max))
    return {
        "fast": [3.0, -2.0, 0.5, 1.0],
        "max below 0": [-1.2 * big - 10, -1.2 * big - 11, -1.2 * big - 13, -1.3 * big],  # e^z underflows to 0: 0/0
        "max above the bound": [big + 5, big + 3, 0.0, -3.0],  # e^z overflows: inf/inf
        "one class holds the mass": [40.0, 0.0, -1.0, 2.0],  # the exact top-class path
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
def test_softmax_rows_unshifted_or_shifted_match_the_definition(dtype):
    paths = _rows(dtype)
    z = np.array(list(paths.values()), dtype)
    y = np.zeros_like(z)
    y[:, 0] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = rows.softmax(z, np.empty_like(z))
        r = rows.softmax_residual(z, y, np.empty_like(z))
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    for name, zi, ai, ri, yi in zip(paths, z, a, r, y):
        want = _softmax(zi)
        for g, w, gr, t in zip(ai, want, ri, yi):
            assert abs(mpmath.mpf(float(g)) - w) <= rtol * w + np.finfo(dtype).tiny, name
            assert abs(mpmath.mpf(float(gr)) - (w - t)) <= rtol * abs(w - t) + np.finfo(dtype).tiny, name
    with np.errstate(all="ignore"):  # the unshifted form alone fails on the redone rows
        naive = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    assert np.isnan(naive[1:3]).any(axis=-1).all()


def test_a_row_takes_its_path_from_itself_alone():
    """Each row gives the same bits alone as among rows of other paths (blocks give one call's bits)."""
    z = np.array(list(_rows(np.float64).values()) * 3)[np.random.default_rng(1).permutation(12)]
    y = np.full_like(z, 0.25)
    together = rows.softmax_residual(z, y, np.empty_like(z)), rows.softmax(z, np.empty_like(z))
    for i in range(len(z)):
        alone = rows.softmax_residual(z[i], y[i], np.empty(4)), rows.softmax(z[i], np.empty(4))
        assert together[0][i].tobytes() == alone[0].tobytes()
        assert together[1][i].tobytes() == alone[1].tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.longdouble], ids=lambda d: np.dtype(d).name)
def test_constant_steps_are_exact_without_masked_writes(dtype):
    """relu' and leaky_relu' (Piecewise((c1, z > 0), (c0, True))) print as max(c1 [z > 0], c0): the
    constants exactly, at 0, the infinities and nan (which takes the otherwise-branch, as before)."""
    from derive import kernels
    from derive.kernels import _generated

    z = np.array([-np.inf, -1.0, -0.0, 0.0, 1e-30, 1.0, np.inf, np.nan], dtype)
    for name, c0 in (("relu", 0.0), ("leaky_relu", 0.01)):
        got = kernels.activation(name).derivative(z)
        want = np.where(z > 0, dtype(1), dtype(c0))
        assert got.dtype == dtype and np.array_equal(got, want) and (np.signbit(got) == np.signbit(want)).all(), name
        fn = _generated.ACTIVATIONS[name][1]
        assert "where=" not in (fn.__doc__ or "") and "copyto" not in _source(fn)


def _source(fn):
    import inspect

    return inspect.getsource(fn)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.longdouble], ids=lambda d: np.dtype(d).name)
def test_select_on_the_bits_is_a_masked_copy(dtype):
    """bits.select(mask, a, out) = np.copyto(out, a, where=mask), bit for bit: nan, inf, -0.0, numbers,
    broadcast masks; the generated NumPy kernels make no masked write (each costs 20 plain passes)."""
    from derive.kernels import _generated

    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, -3.5, 7.0], dtype)
    rng = np.random.default_rng(2)
    for a in (special[::-1].copy(), rng.normal(size=8).astype(dtype), 1.0, np.array(2.5, dtype)):
        for mask in (rng.uniform(size=8) < 0.5, np.array([True]), np.zeros(8, bool)):
            out, want = special.copy(), special.copy()
            np.copyto(want, a, where=mask)
            got = bits.select(mask, a, out, np.empty_like(out))
            assert got is out
            assert np.array_equal(got, want, equal_nan=True) and (np.signbit(got) == np.signbit(want)).all()
    assert "where=" not in _source(_generated)
