r"""The report's sections beyond one pairing: the softmax Jacobian, the hidden layers, the source texts' models.

    softmax_section()   network_section()   source_models_section()

The softmax Jacobian's properties (rows summing to zero, symmetry, positive
semidefiniteness, entries within 1/4) are proved by the ``proofs`` package, whose
section the report includes: they are named here, not checked again. The
hidden-layer recursion is checked here (``derive.symbolic.network``), on an
explicit network with symbolic weights.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.docs.latex import layer_latex, name
from derive.docs.sources import cite
from derive.symbolic.catalogue import ACTIVATIONS
from derive.symbolic.logistic import NLL, nll_gradient
from derive.symbolic.logistic import X as LOGIT
from derive.symbolic.logistic import b0 as INTERCEPT
from derive.symbolic.logistic import coef as COEF
from derive.symbolic.lstm import CELLS, C_prev, cell_gradient
from derive.symbolic.network import RECURSION, recursion_holds
from derive.symbolic.softmax import jacobian_entry, softmax_entry
from derive.symbolic.symbols import i, j, k

__all__ = ["softmax_section", "network_section", "source_models_section", "NETWORK_WIDTHS"]

NETWORK_WIDTHS = (2, 2, 2, 2)  # the explicit network on which the recursion is checked


def softmax_section() -> str:
    J = jacobian_entry(i, j)

    def plain(expr):
        return layer_latex(expr, layers=False)

    return "\n".join(
        [
            r"\section{The softmax Jacobian}",
            r"For $n$ classes, differentiating the definition with indexed symbols (the work does not grow with $n$):",
            rf"\fiteq{{a_i = {plain(softmax_entry(i))}, \qquad \frac{{\partial a_i}}{{\partial z_j}} = {plain(J)},}}",
            rf"with the diagonal $\partial a_i / \partial z_i = {plain(sp.factor(J.subs(j, i)))}$. "
            r"So $J = \operatorname{diag}(a) - a a^{\top}$: its rows sum to zero, it is symmetric and positive "
            r"semidefinite, and its entries lie within $\pm 1/4$ (the theorems section proves each). For "
            r"cross-entropy the chain rule over all units collapses to $\delta^L_j = a^L_j - y_j$ "
            r"(Section~\ref{sec:derivations}).",
            "",
        ]
    )


@cache
def _recursion_checked() -> tuple[tuple[str, bool], ...]:
    """(activation, recursion holds) on the explicit network, for each elementwise activation."""
    return tuple((act.name, recursion_holds(act.name, NETWORK_WIDTHS)) for act in ACTIVATIONS.values() if act.elementwise)


def network_section() -> str:
    checked = _recursion_checked()
    rows = [rf"{name(act)} & {'holds' if ok else 'NOT shown'} \\" for act, ok in checked]
    widths = ", ".join(map(str, NETWORK_WIDTHS))
    return "\n".join(
        [
            r"\section{Hidden layers: the backpropagation recursion}",
            r"For layers $l = 1, \dots, L$ with $z^l = W^l a^{l-1} + b^l$, $a^l = f(z^l)$ and $a^0 = x$:",
            r"\begin{align*}",
            " \\\\\n".join(rf"{lhs} &= {rhs} && \text{{({name})}}" for name, lhs, rhs in RECURSION),
            r"\end{align*}",
            rf"Checked on an explicit network of widths ({widths}) with symbolic weights and a cost "
            r"$C(z^L)$ that is an arbitrary smooth function of the last pre-activations (so any output "
            r"activation and loss): every $\partial C/\partial W^l$ and $\partial C/\partial b^l$ by direct "
            r"differentiation equals what the recursion gives.",
            r"\begin{center}",
            r"\begin{tabular}{@{}ll@{}}",
            r"\toprule hidden activation & recursion \\ \midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{center}",
            "",
        ]
    )


def source_models_section() -> str:
    """The LSTM cell path (seed 001) and logistic regression as one sigmoid neuron, as SymPy derives them."""
    C_t, L_ = sp.Symbol("C_t"), sp.Symbol("L")
    X_ = sp.Symbol("X")
    lines = [
        r"\section{Two more derivations from the source texts}",
        rf"Both models are those of {cite('001')}.",
        r"\paragraph{The LSTM cell state along the cell path.} The gates $f_t, i_t \in (0, 1)$ and the candidate "
        r"$g_t$ read $h_{t-1}$ and $x_t$, not $C_{t-1}$, so along the cell path they are constants.",
    ]
    for cell in CELLS:
        g = cell_gradient(cell)
        lines += [
            rf"\par Cell {name(cell)}:",
            rf"\fiteq{{{layer_latex(C_t, layers=False)} = {layer_latex(g.state, layers=False)}, \qquad "
            rf"{layer_latex(sp.Derivative(C_t, C_prev, evaluate=False), layers=False)} = {layer_latex(g.gradient, layers=False)}}}",
        ]
    lines.append(
        r"\paragraph{Logistic regression} is one sigmoid unit with "
        rf"$X = {layer_latex(LOGIT, layers=False)}$; the gradient of its negative log-likelihood $L$:"
    )
    for labels in NLL:
        g = nll_gradient(labels)
        show = lambda e: layer_latex(e.subs(LOGIT, X_), layers=False)  # noqa: E731
        lines += [
            rf"\par Labels {name(labels)}:",
            rf"\fiteq{{L = {show(g.nll)}, \qquad "
            rf"{layer_latex(sp.Derivative(L_, COEF[k], evaluate=False), layers=False)} = {show(g.d_coef)}, \qquad "
            rf"{layer_latex(sp.Derivative(L_, INTERCEPT, evaluate=False), layers=False)} = {show(g.d_intercept)}}}",
        ]
    return "\n".join(lines) + "\n"


