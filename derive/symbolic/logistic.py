"""Logistic regression as one sigmoid neuron (seed 001).

    X = b_0 + sum_k b_k x_k,   p(y = 1 | x) = g(X) = sigma(X)
    labels y in {0, 1}:   L = -[y ln g + (1 - y) ln(1 - g)],  dL/db_k = (g - y) x_k,  dL/db_0 = g - y
    labels t in {-1, +1}: L = ln(1 + e^{-t X}),                dL/db_k = -t sigma(-t X) x_k
                                                                       = (g - (1 + t)/2) x_k

The gradient is the dense layer's dC/dw_jk = (a_j - y_j) x_k of the
sigmoid + bce pairing for one unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import unknown
from derive.symbolic.functions import sigmoid, softplus
from derive.symbolic.symbols import collapse_deltas, k, m, n_in, x

coef = sp.IndexedBase("b", real=True)  # b_1..b_m, the seed's coefficients
b0 = sp.Symbol("b_0", real=True)
label = sp.Symbol("y", real=True)
X = b0 + sp.Sum(coef[m] * x[m], (m, 1, n_in))

NLL = {
    "01": -(label * sp.log(sigmoid(X)) + (1 - label) * sp.log(1 - sigmoid(X))),
    "pm1": softplus(-label * X),  # ln(1 + e^{-t X})
}


@dataclass(frozen=True)
class Gradient:
    labels: str
    nll: sp.Expr
    d_coef: sp.Expr  # dL/db_k
    d_intercept: sp.Expr  # dL/db_0


def nll_gradient(labels: str = "01") -> Gradient:
    """The negative log-likelihood's gradient for labels in {0, 1} ("01") or {-1, +1} ("pm1")."""
    if labels not in NLL:
        raise unknown("label coding", labels, NLL)
    nll = NLL[labels]
    d_coef = sp.factor_terms(sp.simplify(collapse_deltas(sp.diff(nll, coef[k]), k)))
    d_intercept = sp.factor_terms(sp.simplify(sp.diff(nll, b0)))
    return Gradient(labels, nll, d_coef, d_intercept)
