"""proofs.equality: proved or unknown, never a false 'proved'."""

import pytest
import sympy as sp

from proofs.equality import equal, is_zero
from derive.symbolic.functions import elu, relu, sigmoid

t = sp.Symbol("t", real=True)


@pytest.mark.parametrize(
    "lhs,rhs",
    [
        (sp.diff(sigmoid(t), t), sigmoid(t) * (1 - sigmoid(t))),
        (sp.tanh(t), 2 * sigmoid(2 * t) - 1),
        (sp.diff(elu(t), t), sp.Piecewise((1, elu(t) > 0), (elu(t) + 1, True))),
        (sp.diff(relu(t), t), sp.Piecewise((1, relu(t) > 0), (0, True))),
        (sp.sign(t - 1) * (t - 1), sp.Abs(1 - t)),
    ],
)
def test_true_identities_are_proved(lhs, rhs):
    assert equal(lhs, rhs) is True


@pytest.mark.parametrize(
    "lhs,rhs",
    [
        (sp.diff(sigmoid(t), t), sigmoid(t) * (1 + sigmoid(t))),
        (sp.tanh(t), 2 * sigmoid(t) - 1),
        (sp.diff(elu(t), t), sp.Piecewise((1, elu(t) >= -1), (elu(t) + 1, True))),
        (sp.sign(t), sp.sign(-t)),
        (sp.exp(2 * t), sp.exp(t) ** 3),
    ],
)
def test_false_identities_are_never_proved(lhs, rhs):
    assert equal(lhs, rhs) is None


x = sp.Symbol("x", real=True)
w = sp.Symbol("w")  # no assumptions: may be complex


@pytest.mark.parametrize(
    "expr",
    [
        sp.Piecewise((1, x > 0)) - 1,  # undefined (nan) for x <= 0
        sp.sqrt(sp.exp(2 * sp.I * x)) - sp.exp(sp.I * x),  # 2 at x = pi
        sp.sqrt(sp.exp(2 * w)) - sp.exp(w),
        sp.im(sigmoid(sp.I * x)),  # 0.273 at x = 1
        sp.im(sp.sign(1 + sp.I * x)),
    ],
)
def test_complex_atoms_and_partial_piecewise_are_not_proved_zero(expr):
    """Reviewer's reproducers: each is nonzero (or undefined) somewhere."""
    assert is_zero(expr) is None


def test_strings_are_refused_not_parsed():
    with pytest.raises(sp.SympifyError):
        is_zero("__import__('os').getcwd()")


@pytest.mark.parametrize(
    "expr",
    [
        sp.Piecewise((1 / (1 + x**2), x**2 - 2 * x + 2 > 0), (0, True)),  # a condition true everywhere
        sp.Piecewise((sp.exp(-x), sp.Ne(x**2 + x + 1, 0)), (0, True)),
        sp.Piecewise((sp.exp(-x), sp.sin(x) > 2 * x), (0, True)),  # solveset cannot split this
    ],
)
def test_conditions_without_cuts_are_not_evaluated_at_infinity(expr):
    """Reviewer's reproducers: each is positive somewhere, so never 'proved zero', and no exception."""
    assert is_zero(expr) is None


def test_a_condition_true_everywhere_still_proves_a_true_identity():
    assert is_zero(sp.Piecewise((0, x**2 + 1 > 0), (1, True))) is True
