"""Second order: the derived Hessian against a 50-digit second derivative of the textbook definition
(mpmath.diff of the loss written out by hand, not derive's derivation), and the curvature verdicts."""

import mpmath
import pytest
import sympy as sp

from derive.symbolic.catalogue import valid_pairings
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, j, k, n, y, z

mpmath.mp.dps = 50

# the definitions, retyped from the textbook (independent of derive's catalogue)
ACT = {
    "identity": lambda t: t,
    "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)),
    "tanh": mpmath.tanh,
    "softplus": lambda t: mpmath.log(1 + mpmath.exp(t)),
    "silu": lambda t: t / (1 + mpmath.exp(-t)),
    "gelu": lambda t: t * mpmath.ncdf(t),
    "elu": lambda t: t if t > 0 else mpmath.exp(t) - 1,
}
LOSS = {
    "quadratic": lambda p, t: (p - t) ** 2 / 2,
    "sse": lambda p, t: (p - t) ** 2,
    "bce": lambda p, t: -(t * mpmath.log(p) + (1 - t) * mpmath.log(1 - p)),
    "cce": lambda p, t: -t * mpmath.log(p),
}
SMOOTH = [(act, loss) for act, loss in valid_pairings() if act in ACT and loss in LOSS]
POINTS = [(mpmath.mpf("-1.25"), mpmath.mpf("0.3")), (mpmath.mpf("0.5"), mpmath.mpf("0.9")), (mpmath.mpf(2), mpmath.mpf(0))]


@pytest.mark.parametrize("act, loss", SMOOTH)
def test_elementwise_hessian_is_the_second_derivative_of_the_definition(act, loss):
    h = derive_pair(act, loss).hessian
    assert h.entry.subs(k, j + 1).doit() == 0 or sp.simplify(h.entry.subs(k, j + 1)) == 0  # off-diagonal
    for t, target in POINTS:
        if act == "elu" and abs(t) < mpmath.mpf("0.1"):
            continue
        want = mpmath.diff(lambda u: LOSS[loss](ACT[act](u), target), t, 2)
        got = derive_pair(act, loss).in_z(h.diagonal).subs({y[j]: sp.Rational(str(target))}).subs(z[j], sp.Rational(str(t)))
        assert abs(mpmath.mpf(sp.N(got, 50)) - want) < mpmath.mpf(10) ** -40


def test_softmax_cce_hessian_is_diag_a_minus_a_a_transpose_of_the_definition():
    entry = derive_pair("softmax", "cce").hessian.entry
    zs = [mpmath.mpf("0.3"), mpmath.mpf("-1.1"), mpmath.mpf("2.0")]
    ys = [0, 1, 0]

    def cost(*v):
        e = [mpmath.exp(t) for t in v]
        return -sum(yi * mpmath.log(ei / sum(e)) for yi, ei in zip(ys, e))

    e = [mpmath.exp(t) for t in zs]
    s = [ei / sum(e) for ei in e]
    for r in range(3):
        for c in range(3):
            order = [0, 0, 0]
            order[r] += 1
            order[c] += 1
            want = mpmath.diff(cost, zs, tuple(order))
            got = entry.subs({j: r + 1, k: c + 1}).doit().subs({a[q]: sp.Float(s[q - 1], 60) for q in (1, 2, 3)})
            assert abs(mpmath.mpf(sp.N(got, 50)) - want) < mpmath.mpf(10) ** -30


def test_softmax_hessian_is_symmetric_for_every_loss():
    for act, loss in valid_pairings():
        if act != "softmax" or loss in ("l1", "huber"):
            continue
        entry = derive_pair(act, loss).hessian.entry
        jj, kk = sp.symbols("jj kk", integer=True, positive=True)
        swapped = entry.xreplace({j: jj, k: kk}).xreplace({jj: k, kk: j})
        values = {a[1]: sp.Rational(1, 5), a[2]: sp.Rational(3, 10), a[3]: sp.Rational(1, 2),
                  y[1]: sp.Rational(1, 7), y[2]: sp.Rational(2, 7), y[3]: sp.Rational(4, 7), n: 3}
        for r, c in ((1, 2), (1, 3), (2, 3)):
            lhs = entry.subs({j: r, k: c}).subs(n, 3).doit().subs(values)
            rhs = swapped.subs({j: r, k: c}).subs(n, 3).doit().subs(values)
            assert sp.simplify(lhs - rhs) == 0, (loss, r, c)


# ---------------------------------------------------------------- convexity and smoothness verdicts

from proofs.curvature import convexity, smoothness  # noqa: E402
from proofs.second_order import second_order  # noqa: E402


def _cost(act, loss):
    return lambda t, target: LOSS[loss](ACT[act](t), target)


def test_sigmoid_quadratic_is_not_convex_by_a_midpoint_counterexample_checked_here():
    c = convexity("sigmoid", "quadratic")
    assert c.status == "not convex" and c.verdict.proved
    point = c.verdict.details[0].details[0]  # the refutation's point {z_1, z_2, y}
    z1, z2, t = (mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q for v in point.values())
    C = _cost("sigmoid", "quadratic")
    assert C((z1 + z2) / 2, t) > (C(z1, t) + C(z2, t)) / 2 + mpmath.mpf(10) ** -10


@pytest.mark.parametrize("act, loss, L", [("sigmoid", "bce", sp.Rational(1, 4)), ("identity", "quadratic", sp.Integer(1)),
                                           ("sigmoid", "cce", sp.Rational(1, 4))])
def test_convex_pairings_and_their_exact_smoothness_constant(act, loss, L):
    assert convexity(act, loss).status == "convex"
    s = smoothness(act, loss)
    assert s.status == "bounded" and s.value == L and s.step == 2 / L
    # independent: 50-digit second derivatives of the definition never exceed L, and come within 1e-6 of it
    C = _cost(act, loss)
    values = [mpmath.diff(lambda u: C(u, t), mpmath.mpf(q) / 8, 2) for q in range(-40, 41) for t in (0, 1)]
    assert max(values) <= mpmath.mpf(L.p) / L.q + mpmath.mpf(10) ** -30
    assert max(values) > mpmath.mpf(L.p) / L.q - mpmath.mpf(10) ** -6
    assert min(values) >= -mpmath.mpf(10) ** -30  # and convex along the grid


def test_mse_constant_keeps_the_number_of_units():
    assert smoothness("identity", "mse").value == 2 / n


def test_a_downward_jump_of_delta_is_not_convex_and_an_upward_one_is_not_smooth():
    # relu + quadratic: h >= 0 almost everywhere, yet delta jumps by -y at z = 0 (down for y > 0)
    assert convexity("relu", "quadratic").status == "not convex"
    s = smoothness("relu", "quadratic")
    assert s.value is sp.oo and "jumps up" in s.verdict.reason


def test_softmax_cce_is_convex_with_L_one_half_numerically_too():
    assert convexity("softmax", "cce").status == "convex"
    assert smoothness("softmax", "cce").value == sp.Rational(1, 2)
    import numpy as np

    rng = np.random.default_rng(0)
    worst = 0.0
    for size in (2, 3, 5):
        for _ in range(200):
            p = rng.dirichlet(np.ones(size))
            eig = np.linalg.eigvalsh(np.diag(p) - np.outer(p, p))
            assert eig.min() > -1e-12
            worst = max(worst, eig.max())
    assert worst <= 0.5 + 1e-12


def test_undecided_is_said_not_guessed():
    assert convexity("softmax", "quadratic").status == "undecided" and not convexity("softmax", "quadratic").verdict.proved
    assert smoothness("softmax", "huber").value is None  # a bounded L needs H's eigenvalues at every n
    # sigmoid + huber: h mixes the branches of |a - y| <= delta with a's curvature: no sup found, none guessed
    got = smoothness("sigmoid", "huber")
    assert got.status == "undecided" and got.value is None and not got.verdict.proved


def test_theorem_12_second_order_is_proved():
    assert second_order().verdict.proved


def test_a_kink_at_the_end_of_the_range_is_read_where_the_activation_stays():
    # relu written with a >= 0: for z <= 0 the output stays at a = 0, where the first branch applies,
    # so delta does not jump there; reading the branch below the range would invent a jump
    from derive.symbolic import catalogue
    from derive.symbolic.functions import relu
    from proofs.curvature_setting import Setting
    from proofs.kinks import jumps

    entry = catalogue.Activation("relu_ge", relu, lambda a_, z_: sp.Piecewise((1, a_ >= 0), (0, True)),
                                 sp.Interval(0, sp.oo))
    with catalogue.extended(activations=[entry]):
        assert jumps(Setting.of("relu_ge", "quadratic")) == [(0, 0, None)]
    assert jumps(Setting.of("relu", "quadratic")) == [(0, -y[j], None)]


def test_jumps_are_not_read_for_an_activation_not_shown_nondecreasing():
    from proofs.curvature_setting import Setting
    from proofs.kinks import jumps

    assert jumps(Setting.of("silu", "quadratic"), sp.Piecewise((a[j], a[j] > 0), (0, True))) == [(None, None, None)]


def test_unbounded_over_y_needs_a_leading_coefficient_that_grows():
    from proofs.curvature import _y_tail
    from proofs.curvature_setting import Setting

    s = Setting.of("identity", "quadratic")
    assert _y_tail(s, -y[j] ** 2 + a[j], +1) is None  # sup over y is finite
    assert _y_tail(s, y[j] ** 2 + a[j], +1).proved
    assert _y_tail(s, -y[j] ** 3, +1).proved  # odd degree: either sign
    assert _y_tail(s, -y[j] ** 2 + a[j], -1).proved and _y_tail(s, y[j] ** 2 + a[j], -1) is None  # inf: the mirror


def test_hinge_jumps_are_read_per_target_and_decide_identity_hinge():
    # y in {-1, 1}: delta = -y [a y < 1] jumps up by 1 at a = y (never down): convex; the jump is a point mass: L = oo
    c, s = convexity("identity", "hinge"), smoothness("identity", "hinge")
    assert c.status == "convex" and c.verdict.proved
    assert s.value is sp.oo and "jumps up" in s.verdict.reason
    # independent: one-sided slopes of max(0, 1 - y a) at a = y: the right one is the larger
    for t in (-1, 1):
        cost = lambda u, t=t: max(0, 1 - t * u)  # noqa: E731
        eps = sp.Rational(1, 10**6)
        left, right = (cost(t) - cost(t - eps)) / eps, (cost(t + eps) - cost(t)) / eps
        assert right - left == 1
