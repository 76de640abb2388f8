"""hinge_margin (1 - y a -> (1 - y)(1 + y) - y (a - y)) applies only where the targets are declared in [-2, 2]:
past that its two terms grow as y^2 and cancel, so a user's loss with real targets keeps the plain 1 - y a."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy import S

from derive.compile import expressions
from derive.compile.nodes import Minus
from derive.compile.rewrite import stabilize, targets_of
from derive.symbolic.catalogue import Loss, extended
from derive.symbolic.functions import sigmoid

Y, Z = expressions.Y, expressions.Z


def _has_margin(expr) -> bool:
    return any(m.args[0] == sp.expand((1 - Y) * (1 + Y)) or m.args[0] == (1 - Y) * (1 + Y) for m in expr.atoms(Minus))


def test_the_rule_needs_the_targets_declared_small():
    e = 1 - Y * sigmoid(Z)
    assert not _has_margin(stabilize(e))  # no targets declared: the plain form
    with targets_of(S.Reals):
        assert not _has_margin(stabilize(e))
    with targets_of(sp.FiniteSet(-1, 1)):
        assert _has_margin(stabilize(e))
    assert not _has_margin(stabilize(e))  # and the declaration ends with its block


def test_hinge_keeps_it_and_a_loss_with_real_targets_does_not():
    assert _has_margin(expressions.loss_expr("sigmoid", "hinge"))
    sqmargin = Loss("sqmargin", lambda a, y: (1 - y * a) ** 2, "sum", S.Reals, S.Reals)
    with extended(losses=[sqmargin]):
        assert not _has_margin(expressions.loss_expr("sigmoid", "sqmargin"))
        assert not _has_margin(expressions.delta_expr("sigmoid", "sqmargin"))


def test_why_the_margin_form_is_kept_to_small_targets():
    # at y = 1e8 and a = sigma(z) near 1/y, the margin form's two terms are ~1e16 and cancel; the plain form does not
    mpmath.mp.dps = 60
    z, y = -18.420680743952367, 1e8  # sigma(z) ~ 1e-8: y a ~ 1, margin ~ 0
    a = 1 / (1 + np.exp(-z))
    want = float(1 - mpmath.mpf(y) * mpmath.mpf(a))  # exact in a: the error of the forms alone
    plain = 1 - y * a
    margin = (1 - y) * (1 + y) - y * (a - y)
    assert abs(plain - want) <= 4 * np.finfo(float).eps * max(1.0, abs(y * a))
    assert abs(margin - want) > 1e3 * abs(plain - want) + 1e-12
