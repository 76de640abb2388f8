"""The rule c*log_softmax(x) -> xlog_softmax(c, x) (and log1m_softmax alike), at a row spanning the float range.

At z = [0.45 M, -0.6 M, 0] (M the largest float64) log a_1 = -1.05 M is below -max: the naive
y * log_softmax(z) has 0 * -inf = nan at y_1 = 0, though the loss itself (0.45 M; bce 0.9 M) is finite. The reference is mpmath
at 50 digits from the textbook definition.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.compile import nodes
from derive.compile import rewrite as rw
from derive.kernels import rows

mpmath.mp.dps = 50
M = np.finfo(np.float64).max
Z = np.array([[0.45 * M, -0.6 * M, 0.0]])
Y = np.array([[0.0, 0.0, 1.0]])


def reference(loss):
    z = [mpmath.mpf(float(v)) for v in Z[0]]
    total = mpmath.fsum(mpmath.exp(v) for v in z)
    a = [mpmath.exp(v) / total for v in z]
    terms = {"cce": lambda y, p: -y * mpmath.log(p) if y else 0,
             "bce": lambda y, p: -(y * mpmath.log(p) if y else 0) - ((1 - y) * mpmath.log(1 - p) if y != 1 else 0)}
    return mpmath.fsum(terms[loss](mpmath.mpf(float(y)), p) for y, p in zip(Y[0], a))


def test_rule_matches_weighted_logs():
    t, w = sp.Symbol("t"), sp.Symbol("w", real=True)
    assert rw.weighted_log_softmax(-w * sp.log(rw.softmax(t)).replace(sp.log, lambda x: rw.log_softmax(t))) \
        == -nodes.xlog_softmax(w, t)
    assert rw.weighted_log_softmax((w - 1) * rw.log1m_softmax(t)) == -nodes.xlog1m_softmax(1 - w, t)
    assert rw.weighted_log_softmax(t * rw.log_softmax(t)) == t * rw.log_softmax(t)  # the weight must be free of x


@pytest.mark.parametrize("loss", ["cce", "bce"])
def test_loss_finite_on_a_row_spanning_the_float_range(loss):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        naive = -(Y * rows.log_softmax(Z, np.empty_like(Z))).sum(axis=-1)
    assert np.isnan(naive).all() and RuntimeWarning in [w.category for w in caught]  # 0 * -inf: the form before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = kernels.get("softmax", loss).loss(Z, Y)
    want = reference(loss)
    assert np.isfinite(got).all() and abs(got[0] - float(want)) <= 1e-14 * abs(float(want))
