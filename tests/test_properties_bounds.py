"""The proved bounds hold numerically, over the whole float range.

    0 <= sigma'(z) <= 1/4,   0 <= tanh'(z) <= 1,   mse(a, y) <= 1 for a, y in [0, 1],
    softmax Jacobian J = diag(a) - a a^T:  -1/4 <= J_ij <= 1/4,  sum_j J_ij = 0,  J PSD,
    every activation's output lies in the closure of its catalogue range.

The bounds 1/4, 1 and 0 are floats, so they are asserted exactly: rounding cannot
carry a correctly computed value past a representable bound it does not exceed
in exact arithmetic. The two identities that hold only in exact arithmetic get a
tolerance from the float softmax a they are built from: the exact Jacobian of
the float vector a has row sums a_i (1 - sum_k a_k), and |1 - sum_k a_k| <= n eps,
so |sum_j J_ij| <= (n + 2) eps a_i; an entrywise perturbation that size moves an
eigenvalue by at most n (n + 2) eps max a.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from derive import kernels
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from derive.testing import strategies as sts

DTYPES = [np.float64, np.float32]
DT_IDS = lambda d: np.dtype(d).name  # noqa: E731

# The documents' derivative bounds (proved in proofs.bounds), as (activation, lower, upper).
DERIVATIVE_BOUNDS = [("sigmoid", 0.0, 0.25), ("tanh", 0.0, 1.0)]


def whole_range(activation, dtype):
    return sts.activation_inputs(activation, dtype, max_magnitude=None)


def pin_edges(test, activation, dtype):
    return sts.pinned(test, activation, None, dtype, z_only=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation,lower,upper", DERIVATIVE_BOUNDS)
def test_derivative_bounds(activation, lower, upper, dtype):
    f = kernels.activation(activation)

    @given(whole_range(activation, dtype))
    def check(z):
        d = f.derivative(z)
        assert np.all((lower <= d) & (d <= upper)), (z[(d < lower) | (d > upper)], d[(d < lower) | (d > upper)])

    pin_edges(check, activation, dtype)()


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_outputs_in_catalogue_range(activation, dtype):
    """f(z) in [inf range, sup range]; an irrational end (silu, gelu minimum) may round by half an ulp."""
    rng = ACTIVATIONS[activation].range
    lo, hi = float(rng.inf), float(rng.sup)
    eps = float(np.finfo(dtype).eps)
    f = kernels.activation(activation)

    def slack(end, point):
        return 0.0 if end.is_Rational or end.is_infinite else eps * abs(point)

    lo_ok = lo - slack(rng.inf, lo)
    hi_ok = hi + slack(rng.sup, hi)

    @given(whole_range(activation, dtype))
    def check(z):
        a = f(z)
        assert np.all((lo_ok <= a) & (a <= hi_ok)), (z, a)

    pin_edges(check, activation, dtype)()


def _in_unit(rng: sp.Set) -> bool:
    return bool(rng.is_subset(sp.Interval(0, 1)))


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize(
    "activation", [a for a, lo in valid_pairings() if lo == "mse" and _in_unit(ACTIVATIONS[a].range)]
)
def test_mse_at_most_one_on_unit_interval(activation, dtype):
    k = kernels.get(activation, "mse")

    @given(st.data())
    def check(data):
        z = data.draw(whole_range(activation, dtype))
        y = data.draw(sts.soft_labels(dtype, z.shape))
        loss = k.loss(z, y)
        assert np.all((0 <= loss) & (loss <= 1)), (z, y, loss)

    check()


SOFTMAXES = [a for a, act in ACTIVATIONS.items() if not act.elementwise]


@pytest.mark.parametrize("dtype", DTYPES, ids=DT_IDS)
@pytest.mark.parametrize("activation", SOFTMAXES)
def test_softmax_jacobian_bounds_rows_psd(activation, dtype):
    f = kernels.activation(activation)
    eps = float(np.finfo(dtype).eps)

    @given(whole_range(activation, dtype))
    def check(z):
        a, jac = f(z), f.jacobian(z)
        n = z.shape[-1]
        assert np.all((-0.25 <= jac) & (jac <= 0.25)), (z, jac)
        rows = np.abs(jac.astype(np.float64).sum(axis=-1))
        assert np.all(rows <= (n + 2) * eps * a + np.finfo(dtype).tiny), (z, a, rows)
        eig = np.linalg.eigvalsh(jac.astype(np.float64))
        assert np.all(eig >= -n * (n + 2) * eps * a.max(axis=-1, keepdims=True)), (z, eig)

    pin_edges(check, activation, dtype)()
