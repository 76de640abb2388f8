"""softmax_cce(w, z) = -sum_k w_k log softmax(z)_k, the softmax + cce loss as one row primitive (``rows.softmax_cce``,
its functional twin ``Ops.softmax_cce``, the rule ``loss_rules.cross_entropy`` that makes it).

Evaluated as sum(w) log(sum_k e^{d_k}) - sum_k w_k d_k, d = z - max z (both terms >= 0), against mpmath at 50 digits
from the textbook definition, at the inputs where a naive form fails: a saturated row (sum(w) logsumexp(z) - w.z
cancels to 0), a row spanning the float range (w.d has 0 * -inf), a target 0 where a_k underflows (0 log 0).
"""

from __future__ import annotations

import warnings

import array_api_strict as xs
import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.compile import loss_rules, nodes
from derive.kernels import rows
from derive.kernels import xp as xp_mod
from derive.kernels.xp_ops import Ops

mpmath.mp.dps = 50
M64, M32 = float(np.finfo(np.float64).max), float(np.finfo(np.float32).max)


def reference(z, y):
    """-sum_k y_k log(e^{z_k} / sum_j e^{z_j}), terms with y_k = 0 left out (0 log 0 = 0)."""
    z = [mpmath.mpf(float(v)) for v in z]
    total = mpmath.fsum(mpmath.exp(v) for v in z)
    return mpmath.fsum(-mpmath.mpf(float(w)) * mpmath.log(mpmath.exp(v) / total) for w, v in zip(y, z) if w)


def saturated_naive(z, y):  # sum(y) logsumexp(z) - y.z, logsumexp max-shifted
    m = z.max()
    return y.sum() * (m + np.log(np.exp(z - m).sum())) - (y * z).sum()


def shifted_naive(z, y):  # sum(y) log sum e^d - y.d, d = z - max z, no half scale
    d = z - z.max()
    return y.sum() * np.log(np.exp(d).sum()) - (y * d).sum()


def textbook(z, y):  # -sum y log softmax(z)
    e = np.exp(z - z.max())
    return -(y * np.log(e / e.sum())).sum()


CASES = [  # (name, dtype, z, y, the naive form that fails there)
    ("saturated", np.float64, [40.0, 0.0, -3.0], [1.0, 0.0, 0.0], saturated_naive),
    ("saturated", np.float32, [20.0, 0.0, -3.0], [1.0, 0.0, 0.0], saturated_naive),
    ("float range", np.float64, [0.0, -1e308, 1e308], [0.5, 0.0, 0.5], shifted_naive),
    ("float range", np.float64, [0.0, -1e308, 1e308], [1.0, 0.0, 0.0], shifted_naive),
    ("float range", np.float32, [0.0, -3e38, 3e38], [0.25, 0.0, 0.75], shifted_naive),
    ("underflow", np.float64, [0.0, -1000.0, 5.0], [0.5, 0.0, 0.5], textbook),
    ("underflow", np.float32, [0.0, -200.0, 5.0], [0.5, 0.0, 0.5], textbook),
]
IDS = [f"{name}-{np.dtype(dt).name}-{i}" for i, (name, dt, *_) in enumerate(CASES)]


def _close(got, want, dtype, ulps=16):
    return abs(float(got) - float(want)) <= ulps * np.finfo(dtype).eps * abs(float(want))


def _evaluations(z, y):
    """The primitive, the kernel (blocked executor), and the functional twin on array_api_strict."""
    prim = rows.softmax_cce(y, z, np.empty_like(z))[..., 0]
    kern = kernels.get("softmax", "cce").loss(z, y)
    ops = Ops(xs, getattr(xs, z.dtype.name), None, None)
    twin = xp_mod.to_numpy(ops.softmax_cce(xs.asarray(y), xs.asarray(z)))[..., 0]
    return {"primitive": prim, "kernel": kern, "xp twin": twin}


@pytest.mark.parametrize(("name", "dtype", "z", "y", "naive"), CASES, ids=IDS)
def test_accurate_where_the_naive_form_fails(name, dtype, z, y, naive):
    z, y = np.array([z], dtype), np.array([y], dtype)
    want = reference(z[0], y[0])
    assert mpmath.isfinite(want) and abs(want) < np.finfo(dtype).max
    with np.errstate(all="ignore"):
        bad = naive(z[0], y[0])
    assert not (np.isfinite(bad) and _close(bad, want, dtype, ulps=1000)), (name, bad, want)  # the naive form fails
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no 0 * inf on the way
        got = _evaluations(z, y)
    for how, value in got.items():
        assert value.dtype == dtype and value.shape == (1,), how
        assert _close(value[0], want, dtype), (how, value[0], mpmath.nstr(want, 17))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_rows_against_mpmath(dtype):
    rng = np.random.default_rng(7)
    z = (rng.normal(0, 10, (12, 6)) * rng.choice([0.01, 1.0, 30.0], (12, 1))).astype(dtype)
    y = rng.uniform(0, 1, z.shape) * (rng.uniform(size=z.shape) < 0.7)
    y = (y / np.maximum(y.sum(axis=-1, keepdims=True), 1e-3)).astype(dtype)
    for how, got in _evaluations(z, y).items():
        for k in range(z.shape[0]):
            assert _close(got[k], reference(z[k], y[k]), dtype, ulps=32), (how, k, z[k], y[k])


def test_broadcast_targets_and_exact_zero_weights():
    z = np.array([[3.0, -2.0, 1e4], [0.0, 0.0, 0.0]])
    y = np.array([0.0, 1.0, 0.0])  # one row of targets for both rows of logits
    got = rows.softmax_cce(y, z, np.empty_like(z))[..., 0]
    assert _close(got[0], reference(z[0], y), np.float64) and _close(got[1], reference(z[1], y), np.float64)
    assert rows.softmax_cce(np.zeros(3), z, np.empty_like(z)).tolist() == [[0.0], [0.0]]


def test_rule_makes_the_node():
    t, w, u = sp.Symbol("t"), sp.Symbol("w", real=True), sp.Symbol("u", real=True)
    rule = loss_rules.cross_entropy
    assert rule(nodes.RowSum(-nodes.xlog_softmax(w, t))) == nodes.softmax_cce(w, t)
    assert rule(nodes.RowSum(2 * nodes.xlog_softmax(w, t))) == -2 * nodes.softmax_cce(w, t)
    for whole in (nodes.RowSum(u - nodes.xlog_softmax(w, t)), nodes.RowSum(u * nodes.xlog_softmax(w, t))):
        assert rule(whole) == whole  # with other terms, or a weight not a number: left as it is
