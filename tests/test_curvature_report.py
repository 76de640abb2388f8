"""The report's curvature section: the Hessian of each pairing family, the figure's curves, the proofs'
curvature table, the facts taken as given and the translation-validation counts.

Oracles are independent of the derivation: mpmath's 50-digit second derivative of the textbook cost
(1/2 (sigma(z) - y)^2, -y log sigma(z) - (1 - y) log(1 - sigma(z))), and SymPy's own second derivative
of a concrete f.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive.docs.curvature import (FIGURE_PAIRINGS, FIGURE_TARGET, curvature_curves, curvature_figure,
                                   curvature_section, family_hessian)
from derive.symbolic.catalogue import LOSSES, valid_pairings
from derive.symbolic.symbols import n

mpmath.mp.dps = 50


def _textbook(loss):
    s = lambda t: 1 / (1 + mpmath.exp(-t))  # noqa: E731
    y = FIGURE_TARGET
    return {"quadratic": lambda t: (s(t) - y) ** 2 / 2,
            "bce": lambda t: -y * mpmath.log(s(t)) - (1 - y) * mpmath.log(1 - s(t))}[loss]


@pytest.mark.parametrize("act, loss", FIGURE_PAIRINGS)
def test_the_figure_curves_are_the_cost_and_its_second_derivative(act, loss):
    grid = np.array([-6.0, -2.5, -0.3, 0.0, 1.7, 5.0])
    cost, h = curvature_curves(act, loss, grid)
    for zv, c, hv in zip(grid, cost, h):
        f = _textbook(loss)
        assert c == pytest.approx(float(f(mpmath.mpf(zv))), rel=1e-12)
        assert hv == pytest.approx(float(mpmath.diff(f, mpmath.mpf(zv), 2)), rel=1e-9, abs=1e-15)


def test_the_figure_shows_what_theorem_12_proves():
    grid = np.linspace(-8, 8, 2001)
    _, h_quadratic = curvature_curves("sigmoid", "quadratic", grid)
    _, h_bce = curvature_curves("sigmoid", "bce", grid)
    assert h_quadratic.min() < 0  # not convex: negative curvature where the unit is confidently wrong
    assert h_bce.min() >= 0 and h_bce.max() == pytest.approx(0.25, rel=1e-6)  # convex, L = 1/4


def test_the_figure_is_a_dateless_vector_pdf(tmp_path):
    path = curvature_figure(tmp_path / "curvature.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and b"/CreationDate" not in data
    assert curvature_figure(tmp_path / "again.pdf").read_bytes() == data


@pytest.mark.parametrize("loss", list(LOSSES))
def test_the_family_hessian_is_the_second_derivative_for_a_concrete_f(loss):
    # the family formula with f = tanh must be SymPy's second derivative of l(tanh z, y), at sample points
    zs, ys, f = sp.Symbol("z", real=True), sp.Symbol("y", real=True), sp.Function("f", real=True)
    h = family_hessian(loss).subs(n, 3)
    h = h.subs(f(zs), sp.tanh(zs)).doit() if not h.has(sp.DiracDelta) else None
    want = sp.diff(LOSSES[loss].term(sp.tanh(zs), ys), zs, 2) / (3 if LOSSES[loss].reduce == "mean" else 1)
    for zv, yv in ((sp.Rational(1, 3), sp.Rational(1, 5)), (sp.Rational(-2, 1), sp.Rational(2, 3))):
        if h is None:  # a kink: compare away from it, where the Dirac term is 0
            h_at = family_hessian(loss).subs(n, 3).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: 0)
            got = h_at.subs(f(zs), sp.tanh(zs)).doit().subs({zs: zv, ys: yv})
        else:
            got = h.subs({zs: zv, ys: yv})
        assert abs(sp.N(got - want.subs({zs: zv, ys: yv}), 30)) < 1e-25, loss


def test_the_section_prints_every_family_and_the_figure():
    tex = curvature_section("figures/curvature.pdf")
    assert r"\label{sec:curvature}" in tex and r"\includegraphics[width=\linewidth]{figures/curvature.pdf}" in tex
    for loss in LOSSES:  # in running text an underscore is escaped (log_cosh)
        shown = loss.replace("_", "\\_")
        assert rf"\text{{{shown}:}}" in tex
    softmax = [loss for act, loss in valid_pairings() if act == "softmax"]
    escaped = {loss: loss.replace("_", "\\_") for loss in softmax}
    shown = [loss for loss in softmax if rf"\text{{softmax + {escaped[loss]}:}}" in tex]
    assert "cce" in shown
    for loss in set(softmax) - set(shown):  # too long to print: named, not dropped silently
        assert escaped[loss] in tex.split("are not printed")[0].rsplit("softmax with", 1)[-1]
    assert r"H_{jk} = \left(\delta_{j k} - {a_{k}}\right) {a_{j}}" in tex  # diag(a) - a a^T
    assert r"\begin{figure}" not in curvature_section(None)


# the proofs section's curvature table, kernels and givens are read in the built report (building it costs
# minutes): tests/test_report.py::test_the_proofs_section_has_the_curvature_table_the_kernels_and_the_facts
