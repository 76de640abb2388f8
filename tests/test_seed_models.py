"""Seed 001's models: logistic regression as one sigmoid neuron, and the LSTM cell path."""

import pytest
import sympy as sp

from derive import UnknownNameError, derive_pair
from proofs.equality import is_zero
from derive.symbolic.functions import sigmoid
from derive.symbolic.logistic import X, b0, coef, label, nll_gradient
from derive.symbolic.lstm import C_prev, cell_gradient, f_t, path_gradient, u_t
from derive.symbolic.symbols import a, j, k, x, y


def test_logistic_regression_gradient_is_a_minus_y_times_x():
    grad = nll_gradient("01")
    assert is_zero(grad.d_coef - (sigmoid(X) - label) * x[k]) is True
    assert is_zero(grad.d_intercept - (sigmoid(X) - label)) is True


def test_logistic_regression_is_the_sigmoid_bce_neuron():
    """The same gradient as the dense layer's dC/dw_jk for sigmoid + bce, with a_j = g(X), y_j = y."""
    dense = derive_pair("sigmoid", "bce").grad_w.subs({a[j]: sigmoid(X), y[j]: label})
    assert is_zero(nll_gradient("01").d_coef - dense) is True


@pytest.mark.parametrize("t", [1, -1])
def test_plus_minus_one_labels_give_the_same_gradient_with_y_as_(t):
    """With t in {-1, +1}: -t sigma(-t X) x_k = (g - (1 + t)/2) x_k."""
    grad = nll_gradient("pm1").d_coef.subs(label, t)
    assert is_zero(grad - (sigmoid(X) - sp.Rational(1 + t, 2)) * x[k]) is True


def test_plus_minus_one_form_is_not_the_01_form_for_other_labels():
    grad = nll_gradient("pm1").d_coef.subs(label, 0)
    assert is_zero(grad - (sigmoid(X) - sp.Rational(1, 2)) * x[k]) is None


def test_standard_lstm_cell_path_is_the_forget_gate():
    assert cell_gradient("standard").gradient == f_t


def test_seed_lstm_cell_multiplies_the_path_by_sigma_prime():
    assert sp.expand(cell_gradient("seed001").gradient - sigmoid(u_t) * (1 - sigmoid(u_t)) * f_t) == 0


def test_path_over_three_steps_is_a_product_of_forget_gates():
    assert path_gradient("standard", 3) == sp.Mul(*sp.symbols("f_1:4", positive=True))


def test_unknown_cell_and_label_coding_list_the_known_ones():
    with pytest.raises(UnknownNameError, match="standard, seed001"):
        cell_gradient("gru")
    with pytest.raises(UnknownNameError, match="01, pm1"):
        nll_gradient("binary")
    assert b0.is_real and coef[k].is_real and C_prev.is_real
