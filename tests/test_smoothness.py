"""proofs.smoothness.decide: each verdict checked against mpmath derivatives of the definition C = l(f(z), y).

Unbounded by a jump: the one-sided slopes of C at the witness z0 (finite differences at 60 digits, each on
its own side) differ by the certified jump. Unbounded along the targets: C''(z0) at large targets grows
past any bound. Bounded: no grid point has C'' > L, and the grid comes within 1e-3 of L (tight).
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from sympy import Rational, S, oo

from derive.errors import PairingError
from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from proofs.certificate import steps_of
from proofs.smoothness import decide
from proofs.smoothness_line import W, elementwise_line
from proofs.smoothness_softmax import decide_softmax, softmax_line
from proofs.smoothness_witness import jump_witness
from proofs.values import InexactValue

DPS = 60


def _numeric_cost(act, loss, **values):
    """z, y -> C at mpmath precision, from the catalogue's definitions (lambdified; no derivation involved)."""
    pa = {p.name: values.get(p.name, p.default) for p in catalogue.activation(act).params}
    pl = {p.name: values.get(p.name, p.default) for p in catalogue.loss(loss).params}
    z, t = sp.symbols("z t", real=True)
    expr = expand_named(catalogue.loss(loss).term(catalogue.activation(act).f(z, **pa), t, **pl))
    return sp.lambdify((z, t), expr, modules="mpmath")


def _one_sided_slopes(cost, z0, eps=mpmath.mpf(10) ** -25):
    """(left, right) slopes of cost at z0: differences on one side only, O(eps) accurate."""
    left = (cost(z0 - eps) - cost(z0 - 2 * eps)) / eps
    right = (cost(z0 + 2 * eps) - cost(z0 + eps)) / eps
    return left, right


JUMPS = [("softplus", "l1"), ("identity", "hinge"), ("relu", "hinge"), ("leaky_relu", "quadratic"),
         ("hard_sigmoid", "quadratic"), ("hard_sigmoid", "hinge"), ("silu", "hinge"), ("softplus", "hinge"),
         ("selu", "huber"), ("mish", "l1"), ("leaky_relu", "log_cosh")]


@pytest.mark.parametrize("act, loss", JUMPS)
def test_jump_witness_is_a_jump_of_the_definition(act, loss):
    got = decide(act, loss)
    assert got.status == "unbounded" and got.value is oo and got.verdict.proved
    up, z0, point = got.verdict.details
    (t,) = point.values()
    assert catalogue.loss(loss).targets.contains(t) is sp.true and sp.sympify(z0).is_real
    exact_jump = up.details[1] - up.details[2]  # refute's lhs, rhs: the jump and 0, to 60 digits
    cost = _numeric_cost(act, loss)
    with mpmath.workdps(DPS):
        zz, tt = mpmath.mpf(sp.N(z0, DPS + 10)), mpmath.mpf(sp.N(t, DPS + 10))
        left, right = _one_sided_slopes(lambda v: cost(v, tt), zz)
        assert right - left > mpmath.mpf(10) ** -6  # the definition's slope does jump up there
        assert abs((right - left) - exact_jump) < mpmath.mpf(10) ** -15


@pytest.mark.parametrize("act, loss", [("swish", "quadratic"), ("sigmoid", "poisson"), ("softplus", "poisson"),
                                       ("elu", "mse")])
def test_curvature_grows_without_bound_along_the_targets(act, loss):
    got = decide(act, loss)
    assert got.status == "unbounded" and got.verdict.proved
    z0, _, direction = got.verdict.details
    cost = _numeric_cost(act, loss)
    with mpmath.workdps(30):
        h = [mpmath.diff(lambda v: cost(v, direction * mpmath.mpf(10) ** k), mpmath.mpf(sp.N(z0, 40)), 2)
             for k in (3, 6, 9)]
    assert h[0] > 0 and h[1] > 100 * h[0] / 2 and h[2] > 100 * h[1] / 2  # linear in y: no bound


BOUNDED = [("sigmoid", "hinge", sp.sqrt(3) / 18), ("tanh", "hinge", 4 * sp.sqrt(3) / 9), ("softsign", "hinge", S(2)),
           ("identity", "huber", S.One), ("identity", "log_cosh", S.One)]


@pytest.mark.parametrize("act, loss, want", BOUNDED)
def test_bounded_constant_is_the_sup_of_the_definitions_curvature(act, loss, want):
    got = decide(act, loss)
    assert got.status == "bounded" and got.verdict.proved and sp.simplify(got.value - want) == 0
    targets = catalogue.loss(loss).targets
    ys = sorted(targets) if isinstance(targets, sp.FiniteSet) else [-Rational(1, 2), 0, 3]
    cost = _numeric_cost(act, loss)
    L = float(got.value)
    top = -mpmath.inf
    with mpmath.workdps(30):
        for t in ys:
            for k in range(-1200, 1201, 5):
                zk = mpmath.mpf(k) / 200 + mpmath.mpf(1) / 7919  # off the kinks at rationals with small denominators
                top = max(top, mpmath.diff(lambda v: cost(v, mpmath.mpf(t)), zk, 2))
    assert top <= L + 1e-12  # no point above the claimed L
    assert top >= L * (1 - 1e-3)  # and the grid comes close: the constant is not a loose bound


def test_identity_hinge_was_not_bounded_by_zero():
    """proofs.curvature said L = 0 (h = 0 away from the kink); delta jumps up at y a = 1: L = oo."""
    got = decide("identity", "hinge")
    assert got.status == "unbounded"
    _, z0, point = got.verdict.details
    assert abs(z0 * next(iter(point.values()))) == 1


def test_a_smooth_loss_has_no_jump_witness():
    """huber is C^1 (its branches meet with equal slopes): no upward jump may be reported."""
    assert jump_witness(elementwise_line("identity", "huber")) is None
    assert jump_witness(elementwise_line("sigmoid", "log_cosh")) is None


def test_parameters_are_read_exactly_and_checked():
    half = decide("leaky_relu", "quadratic", slope=Rational(1, 2))
    up, _, _ = half.verdict.details
    assert half.status == "unbounded" and "slope = 1/2" in half.pairing
    assert abs(up.details[1] - mpmath.mpf(1) / 2) < 1e-50  # y = -1: (0 - y)(1 - slope)
    with pytest.raises(TypeError, match="known: alpha, delta"):
        decide("elu", "huber", beta=1)
    with pytest.raises(InexactValue):
        decide("leaky_relu", "quadratic", slope=0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        decide("leaky_relu", "quadratic", slope=2)
    with pytest.raises(PairingError, match="softmax"):
        decide("softmax", "focal")
    with pytest.raises(ValueError, match="relu"):  # an unknown name lists the known ones
        decide("rleu", "quadratic")


def _softmax_lambda_max(loss, z1, ys):
    """The largest eigenvalue of the 2x2 Hessian of C(z1, z2) = sum_k l(softmax(z)_k, y_k) at (z1, 0), mpmath."""
    term = catalogue.loss(loss).term
    u, v = sp.symbols("u v", real=True)
    a = (sp.exp(u) / (sp.exp(u) + sp.exp(v)), sp.exp(v) / (sp.exp(u) + sp.exp(v)))
    cost = sp.lambdify((u, v), sum(term(ak, yk) for ak, yk in zip(a, ys)), modules="mpmath")
    at = (mpmath.mpf(z1), mpmath.mpf(0))
    h = mpmath.matrix(2, 2)
    for i in range(2):
        for k in range(2):
            h[i, k] = mpmath.diff(cost, at, tuple(int(m == i) + int(m == k) for m in range(2)))
    return max(mpmath.eigsy(h)[0])


def test_softmax_quadratic_curvature_is_unbounded():
    got = decide("softmax", "quadratic")
    assert got.status == "unbounded" and got.verdict.proved
    z0, _, direction = got.verdict.details[0].details
    with mpmath.workdps(30):
        lam = [_softmax_lambda_max("quadratic", z0, (direction * 10**k, 0)) for k in (2, 5)]
    assert lam[1] > 500 * lam[0] > 0


def test_softmax_kl_has_cces_constant_and_l1_jumps():
    assert decide_softmax("kl").value == Rational(1, 2)
    with mpmath.workdps(30):  # kl's Hessian is cce's: at z = 0, y = (1/2, 1/2) its top eigenvalue is 1/2
        lam = _softmax_lambda_max("kl", 0, (mpmath.mpf(1) / 2, mpmath.mpf(1) / 2))
    assert abs(lam - mpmath.mpf(1) / 2) < 1e-20
    got = decide_softmax("l1")
    up, z0, point = got.verdict.details[0].details
    line = softmax_line("l1")
    cost = sp.lambdify(W, line.cost.subs(point), modules="mpmath")
    with mpmath.workdps(DPS):
        left, right = _one_sided_slopes(cost, mpmath.mpf(z0))
    assert right - left > mpmath.mpf(1) / 10


def test_undecided_pairings_say_why():
    """sigmoid + huber (y over all reals, a = sigmoid(z)): no verdict is guessed, and the reason names what is missing."""
    got = decide("sigmoid", "huber")
    assert got.status == "undecided" and got.value is None and "two-dimensional" in got.verdict.reason


@pytest.mark.parametrize("act", ["gelu", "mish"])
def test_a_kink_without_closed_form_is_bracketed(act):
    """gelu(z) = 1 has no closed form: the root is bracketed (dyadic ends, certified signs), and the slope of the
    definition does jump up by the enclosed amount at a point of the bracket."""
    got = decide(act, "hinge")
    assert got.status == "unbounded" and got.verdict.proved
    root = next(s for s in steps_of(got.verdict) if s.claim.startswith("exactly one z0"))
    lo, hi = (sp.Rational(x) for x in root.claim.split("[")[1].split("]")[0].split(", "))
    assert 0 < hi - lo < sp.Rational(1, 10**12)
    cost = _numeric_cost(act, "hinge")
    with mpmath.workdps(DPS):
        far_left, _ = _one_sided_slopes(lambda v: cost(v, 1), mpmath.mpf(lo.p) / lo.q - mpmath.mpf(10) ** -6)
        _, far_right = _one_sided_slopes(lambda v: cost(v, 1), mpmath.mpf(hi.p) / hi.q + mpmath.mpf(10) ** -6)
    assert far_right - far_left > mpmath.mpf(1)  # across the bracket the definition's slope jumps up by more than 1


def test_a_registered_entry_is_decided_from_its_own_definition():
    """A loss added for a block (catalogue.extended) gets its own verdict, and the cache forgets it afterwards."""
    shifted = catalogue.Loss("l1_twice", lambda a, y: 2 * sp.Abs(a - y), "sum", S.Reals, S.Reals)
    with catalogue.extended(losses=[shifted]):
        got = decide("softplus", "l1_twice")
        assert got.status == "unbounded" and abs(got.verdict.details[0].details[1] - 2) < 1e-50  # 2 * (1/2 + 1/2)
    with pytest.raises(ValueError, match="l1"):
        decide("softplus", "l1_twice")


def test_softmax_values_are_exact_as_the_elementwise_ones():
    # a float reached softmax's line unchecked (its certificates would hold a Float); refused as elementwise
    with pytest.raises(InexactValue, match="Rational"):
        decide("softmax", "huber", delta=0.5)
    assert decide("softmax", "huber", delta=Rational(1, 2)).status == "undecided"


def test_an_enclosed_root_orients_its_negative_too():
    # the sign known for g fixes the sign of -g (y a - 1 against 1 - y a): before, -g was oriented at the
    # bracket's midpoint, the same on both sides of the root
    from proofs.smoothness_line import orient

    g, mid = W - Rational(1, 3), Rational(1, 3) + Rational(1, 1000)  # the root 1/3 inside a bracket with this midpoint
    for side in (1, -1):
        assert orient(-g, mid, side, fixed={g: side}) == -side


def test_target_samples_stay_inside_an_open_target_set():
    # a refutation or witness at an open end of a user's target set would sit outside the loss's assumptions
    from proofs.curvature_setting import targets_samples

    for targets in (sp.Interval.open(0, 1), sp.Interval.open(0, oo), sp.Interval.Lopen(-1, 1)):
        got = targets_samples(targets)
        assert got and all(targets.contains(t) is sp.true for t in got), (targets, got)
