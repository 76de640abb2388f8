"""The softmax Jacobian: the general-n closed form derived, and the explicit n x n matrix equal to it."""

import pytest
import sympy as sp
from sympy import KroneckerDelta

import derive.symbolic.softmax as softmax
from derive.symbolic.symbols import a, i, j


def test_general_jacobian_is_derived_as_S_i_times_delta_ij_minus_S_j():
    assert sp.expand(softmax.jacobian_entry(i, j) - a[i] * (KroneckerDelta(i, j) - a[j])) == 0


def test_diagonal_entry_has_no_leftover_symbols():
    entry = softmax.jacobian_entry(i, i)
    assert not entry.atoms(sp.Dummy) and sp.expand(entry - a[i] * (1 - a[i])) == 0


@pytest.mark.parametrize("size", [*range(2, 9), 64])
def test_explicit_jacobian_equals_the_closed_form(size):
    assert softmax.explicit_jacobian_matches(size)


def test_explicit_check_rejects_a_wrong_closed_form(monkeypatch):
    """The check can fail: S_i delta_ij - S_i^2 S_j is not the Jacobian."""
    monkeypatch.setattr(softmax, "closed_form", lambda r, c, S: S[r] * (KroneckerDelta(r, c) - S[r] * S[c]))
    assert not softmax.explicit_jacobian_matches(3)


def test_a_column_named_like_the_sum_index_is_not_captured():
    """Regression: softmax_entry summed over k, so jacobian_entry(i, k) differentiated the bound k too and gave
    (delta_ik - 1) a_i; any column name gives a_i (delta_ic - a_c)."""
    from derive.symbolic.symbols import k, m

    for row, col in ((i, k), (k, i), (i, m), (k, k)):
        assert sp.expand(softmax.jacobian_entry(row, col) - a[row] * (KroneckerDelta(row, col) - a[col])) == 0
