"""The hinge margin rule's kernels proved equal to their derivations (``proofs.margin``, then ``proofs.translation``).

Every valid pairing whose generated kernel holds a margin M = (1 - y)(1 + y) - y R (computed from the
kernels, not listed): each M is proved to mean 1 - y f(z), and the kernel with the plain form put back is
proved equal to the derivation by the translation check. A wrong margin is not proved.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derive.compile.expressions import Y, Z, delta_expr, loss_expr
from derive.compile.nodes import Minus
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from proofs.margin import margin_proved, margins, reduced
from proofs.translation import meaning, proves

CASES = [(family, act, lo, build(act, lo)) for act, lo in valid_pairings()
         for family, build in (("loss", loss_expr), ("delta", delta_expr)) if margins(build(act, lo))]


def test_the_saturating_activations_have_margins_with_hinge():
    assert {act for _, act, lo, _ in CASES} >= {"sigmoid", "tanh", "elu", "softmax"}


@pytest.mark.parametrize(("family", "act", "lo", "kernel"), CASES, ids=[f"{f}-{a}+{lo}" for f, a, lo, _ in CASES])
def test_margin_kernels_are_proved(family, act, lo, kernel):
    plain = reduced(kernel, ACTIVATIONS[act], meaning)
    assert plain is not None and not margins(plain)
    assert proves(family, act, lo, plain)


def test_a_wrong_margin_is_not_proved():
    right = next(iter(margins(delta_expr("sigmoid", "hinge"))))
    wrong = Minus(right.args[0], right.args[1] * (1 + sp.Rational(1, 10**6)))
    assert margin_proved(right, ACTIVATIONS["sigmoid"], meaning)
    assert not margin_proved(wrong, ACTIVATIONS["sigmoid"], meaning)
    assert not margin_proved(Minus((1 - Y) * (1 + Y), Y * Z), ACTIVATIONS["tanh"], meaning)


def test_a_margin_proved_on_a_branch_is_not_replaced_outside_it():
    # M_b = (1 - y)(1 + y) - y (|tanh z| - y) is 1 - y tanh z only where z >= 0: proved inside ITE(z >= 0, M_b > 0,
    # M > 0) as a Piecewise, it must not be replaced where the kernel uses it outside that ITE
    import sympy as sp
    from derive.compile.expressions import Y, Z
    from derive.compile.nodes import Minus
    from derive.symbolic.catalogue import ACTIVATIONS
    from proofs.margin import reduced
    from proofs.translation import meaning

    tanh = ACTIVATIONS["tanh"]
    good = Minus((1 - Y) * (1 + Y), Y * (sp.tanh(Z) - Y))
    branch = Minus((1 - Y) * (1 + Y), Y * (sp.Abs(sp.tanh(Z)) - Y))
    ite = sp.ITE(Z >= 0, branch > 0, good > 0)
    kernel = sp.Piecewise((Y, ite), (0, True))
    assert reduced(kernel, tanh, meaning) is not None  # inside its ITE: proved as the Piecewise of its branches
    assert reduced(kernel + sp.Symbol("w") * branch, tanh, meaning) is None  # outside it: not 1 - y tanh z
