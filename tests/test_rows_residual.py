"""The softmax residual vjp (softmax with quadratic, sse, mse): the plain sweep, its exact lanes, underflow.

``derive.kernels.rows_residual.softmax_vjp_residual`` computes delta_j = a_j (r_j - sum_k a_k r_k),
r = a - y, in plain passes around the top class, with the close-logit lanes by expm1 and the rows
holding an a_j below the least normal number in the exact top-class form, whose underflowing lanes
are taken in log space (issue 14). Oracle: the textbook chain rule in mpmath at 1400 digits,
a = e^z / sum e^z, da_i/dz_j = a_i (delta_ij - a_j), C = sum (a - y)^2 / 2 (sse: no 1/2; mse: / n).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from derive import kernels
from derive.kernels import rows_residual
from derive.testing.matching import check_output

SCALE = {"quadratic": lambda n: 0.5, "sse": lambda n: 1.0, "mse": lambda n: 1.0 / n}


def textbook_delta(loss, z, y, dps=1400):
    """dC/dz_j = sum_i dC/da_i da_i/dz_j, C = scale sum (a_i - y_i)^2, a = e^z / sum e^z, da_i/dz_j =
    a_i (delta_ij - a_j), at ``dps`` digits: enough for y ~ 1e300 against a ~ e^-760 (the terms cancel
    down to the delta's size, 1300 digits below them at most)."""
    with mpmath.workdps(dps):
        zs, ys = [mpmath.mpf(float(v)) for v in z], [mpmath.mpf(float(v)) for v in y]
        total = mpmath.fsum(mpmath.exp(v) for v in zs)
        a = [mpmath.exp(v) / total for v in zs]
        g = [2 * mpmath.mpf(SCALE[loss](len(zs))) * (p - t) for p, t in zip(a, ys)]
        return [mpmath.fsum(g[i] * a[i] * ((1 if i == j else 0) - a[j]) for i in range(len(a))) for j in range(len(a))]


def naive_delta(loss, z, y):
    """The plain form in the dtype: a (r - sum a r) with a = e^{z - max} / sum, as written."""
    e = np.exp(z - z.max())
    a = e / e.sum()
    r = a - y
    return 2 * SCALE[loss](len(z)) * a * (r - (a * r).sum())


def underflow_bound(want, y, dtype):
    """The log-space form's rounding: exp turns the error of log a_j + log|.| into a relative one
    (the bound of tests/test_underflow_residual.py); below the least normal number, no digits are asked."""
    info = np.finfo(dtype)
    if abs(want) < float(info.smallest_normal):
        return abs(want) + 2 * float(info.smallest_subnormal)
    return 4 * float(info.eps) * (1 + abs(math.log(abs(want))) + 2 * math.log(max(abs(y), 2.0))) * abs(want)


UNDERFLOW_ROWS = {  # a_j below the least normal number against a huge target: the product is a normal float
    np.float64: [([0.0, -750.0], [0.0, 1e300]), ([3.0, -760.0, -745.0, 1.0], [0.25, -1e300, 1e290, 0.5]),
                 ([0.0, -750.0, 0.5], [1.0, 1e200, 0.0])],
    np.float32: [([0.0, -110.0], [0.0, 1e30]), ([3.0, -120.0, -95.0, 1.0], [0.25, -1e30, 1e25, 0.5])],
}


@pytest.mark.parametrize("loss", ["quadratic", "sse", "mse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_underflowing_softmax_times_a_huge_residual(loss, dtype):
    k = kernels.get("softmax", loss)
    tiny = float(np.finfo(dtype).smallest_normal)
    for z, y in UNDERFLOW_ROWS[dtype]:
        z_arr, y_arr = np.array(z, dtype), np.array(y, dtype)
        want = [float(w) for w in textbook_delta(loss, z_arr, y_arr)]
        got = k.delta(z_arr, y_arr)
        assert got.dtype == dtype
        for j, (g, w) in enumerate(zip(got, want)):
            assert abs(g - w) <= underflow_bound(w, max(abs(v) for v in y), dtype), (z, y, j, g, w)
        # the plain form loses them: 0 (or a few bits) where the true delta is a normal float
        with np.errstate(all="ignore"):
            naive = naive_delta(loss, z_arr, y_arr)
        lost = [j for j, w in enumerate(want) if abs(w) >= tiny and not abs(naive[j] - w) <= 1e-3 * abs(w)]
        assert lost, (z, y, naive, want)


def _hazard_rows(dtype, rng):
    """Rows where a plain sweep cancels: close logits (down to 1e-8 apart), saturated rows with the
    target on the top class, both at once, targets outside [0, 1], and ordinary rows."""
    rows = [([1e-8, 0.0], [0.0, 0.0]), ([40.0, 0.0, -40.0], [1.0, 0.0, 0.0]), ([0.0, 30.0], [0.0, 1.0]),
            ([1e-8, 0.0, -3.0], [0.0, 0.0, 1.0]), ([2.0, 2.0 + 1e-7, 2.0 - 1e-6, -5.0], [0.3, 0.1, 0.5, 0.1]),
            ([25.0, 25.0 - 1e-3, -1.0], [1.0, 0.0, 0.0]), ([0.0, 0.0, 0.0], [5.0, -3.0, 0.5])]
    for _ in range(12):
        n = int(rng.integers(2, 7))
        z = rng.normal(0, 3, n)
        z[rng.integers(n)] = z.max() - 10.0 ** rng.uniform(-9, 0)  # a logit close to the top
        if rng.random() < 0.5:
            z[np.argmax(z)] += rng.uniform(10, 40)  # saturated
        y = rng.uniform(0, 1, n) if rng.random() < 0.5 else rng.normal(0, 10, n)
        rows.append((z.tolist(), y.tolist()))
    return [(np.array(z, dtype), np.array(y, dtype)) for z, y in rows]


@pytest.mark.parametrize("loss", ["quadratic", "mse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_hazard_rows_meet_the_tolerance_rule(loss, dtype):
    k = kernels.get("softmax", loss)
    for z, y in _hazard_rows(dtype, np.random.default_rng(7)):
        check_output(k.delta(z, y), "softmax", loss, "delta", {"z": z, "y": y})


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_close_logits_and_a_target_on_the_limit_in_forward_error(dtype):
    # no perturbation of the targets allowed here: a_0 - a_1 = 5e-9 at z = [1e-8, 0]; y_t = 1 at a_t = 1 - 2e-18;
    # logits whose differences z - max z are exact (that rounding is every max-shifted softmax's)
    eps = float(np.finfo(dtype).eps)
    both, wide = (np.float64, np.float32), (np.float64,)  # where the naive form fails (2^-20 apart: float64's hazard)
    for z, y, naive_fails in [([1e-8, 0.0], [0.0, 0.0], both), ([40.0, 0.0, -40.0], [1.0, 0.0, 0.0], both),
                              ([0.5, 0.5 - 2.0**-20, -40.0], [0.0, 0.0, 1.0], wide)]:
        z_arr, y_arr = np.array(z, dtype), np.array(y, dtype)
        got = kernels.get("softmax", "quadratic").delta(z_arr, y_arr)
        want = textbook_delta("quadratic", z_arr, y_arr)
        bound = [8 * eps * abs(w) + 8 * float(np.finfo(dtype).smallest_subnormal) for w in want]
        for g, w, b in zip(got, want, bound):
            assert abs(mpmath.mpf(float(g)) - w) <= b, (z, g, w)
        with np.errstate(all="ignore"):  # the textbook chain rule misses the same bound at each of these rows
            naive = naive_delta("quadratic", z_arr, y_arr)
        missed = any(abs(mpmath.mpf(float(g)) - w) > b for g, w, b in zip(naive, want, bound))
        assert missed == (dtype in naive_fails), (z, naive)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_only_underflow_rows_take_the_exact_form(dtype, monkeypatch):
    seen = []
    exact = rows_residual._exact

    def counting(z, y, out, *args, **kw):
        seen.append(z.shape[0])
        return exact(z, y, out, *args, **kw)

    monkeypatch.setattr(rows_residual, "_exact", counting)
    rng = np.random.default_rng(0)
    z = rng.normal(0, 5, (300, 50)).astype(dtype)
    y = rng.uniform(0, 1, (300, 50)).astype(dtype)
    z[[7, 200], 3] = -1e4  # a_3 underflows in two rows
    got = kernels.get("softmax", "sse").delta(z, y)
    assert seen == [2]
    plain = [i for i in range(300) if i not in (7, 200)]
    with np.errstate(all="ignore"):
        want = np.array([naive_delta("sse", z[i].astype(np.float64), y[i].astype(np.float64)) for i in plain])
    assert np.allclose(got[plain], want, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6 if dtype == np.float32 else 1e-14)
