"""The functional (array API) softmax rows on tied and saturated rows: torch, JAX, array-api-strict.

``xp_ops`` finds the top class without an index reduction where only tight rows read it (``_maxima``: on
those the max is unique) and by the first index equal to the max elsewhere (``_top``). A row with tied
maxima must give what a row's first maximum gives, and a saturated row (a_t within 1e-26 of 1) its exact
1 - a_t. Oracle: mpmath at 60 digits from the textbook definitions, softmax a_k = e^{z_k} / sum_j e^{z_j},
C = -sum_k y_k log a_k (cce) or sum_k (a_k - y_k)^2 / 2 (quadratic: the Jacobian rows), delta_k = dC/dz_k by mpmath.diff (not from derive's derivation).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from backend_arrays import converter
from derive import kernels
from derive.kernels import xp as xp_mod
from derive.testing.reference import rtol_for, tolerance

ROWS = [  # (z, y): ties at the max, two tied and saturated, one saturated top, a plain row
    ([5.0, 5.0, 1.0], [0.2, 0.5, 0.3]),
    ([60.0, 60.0, 0.0], [0.5, 0.5, 0.0]),
    ([60.0, 0.0, -3.0], [1.0, 0.0, 0.0]),
    ([0.3, -1.2, 2.0], [0.1, 0.6, 0.3]),
]


TEXTBOOK = {  # the loss of a = softmax(z) against y, at the caller's precision (mpmath.diff raises it)
    "cce": lambda a, y: -mpmath.fsum(w * mpmath.log(v) for v, w in zip(a, y) if w),
    "quadratic": lambda a, y: mpmath.fsum((v - w) ** 2 for v, w in zip(a, y)) / 2,
}


def _cost(loss, z, y):
    total = mpmath.fsum(mpmath.exp(v) for v in z)
    return TEXTBOOK[loss]([mpmath.exp(v) / total for v in z], y)


def _textbook(loss, z, y):
    """[C, dC/dz_1, ...] at the current precision."""
    z, y = [mpmath.mpf(v) for v in z], [mpmath.mpf(v) for v in y]
    delta = [mpmath.diff(lambda t, k=k: _cost(loss, z[:k] + [t] + z[k + 1:], y), z[k]) for k in range(len(z))]
    return [_cost(loss, z, y), *delta]


@pytest.mark.parametrize("loss", sorted(TEXTBOOK))
@pytest.mark.parametrize("backend", ["torch", "jax", "array_api_strict"])
def test_tied_and_saturated_rows_match_the_textbook(backend, loss):
    """Within the kernel contract's bound: rtol |value| plus the value's spread under rtol moves of each input."""
    to = converter(backend)
    k, textbook = kernels.get("softmax", loss), lambda z, y: _textbook(loss, z, y)
    z, y = np.array([r[0] for r in ROWS]), np.array([r[1] for r in ROWS])
    cost, delta = k.loss(to(z), to(y)), k.delta(to(z), to(y))
    assert xp_mod.kind(delta) is not None  # the functional path, not NumPy
    got = np.column_stack([xp_mod.to_numpy(cost), xp_mod.to_numpy(delta)])
    rtol = rtol_for(np.float64)
    for (zr, yr), row in zip(ROWS, got):
        with mpmath.workdps(60):
            want = textbook(zr, yr)
        bound = tolerance(textbook, zr, yr, want, rtol, 1e-300)
        bad = [(float(g), float(w)) for g, w, b in zip(row, want, bound) if not abs(g - w) <= b]
        assert not bad, (zr, yr, bad)
