"""Second order with parameters (issue 13): the Hessian keeps the parameter's symbol; convexity and smoothness
say for which parameter values they hold (for every value in the domain, proved with the parameter a symbol;
else at the values given or at the defaults, saying so); values must be exact and inside their domains.

Oracles: the costs retyped from their textbook definitions and differentiated by mpmath at 50 digits."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from sympy import Rational

from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, j, y, z
from proofs.curvature import convexity, smoothness
from proofs.values import InexactValue

mpmath.mp.dps = 50
TINY = mpmath.mpf(10) ** -30


def leaky(t, s):
    return t if t > 0 else s * t


def elu(t, alpha):
    return t if t > 0 else alpha * (mpmath.exp(t) - 1)


def swish(t, beta):
    return t / (1 + mpmath.exp(-beta * t))


def huber(r, d):
    return r * r / 2 if abs(r) <= d else d * (abs(r) - d / 2)


def focal(p, t, g):
    return -(t * (1 - p) ** g * mpmath.log(p) + (1 - t) * p ** g * mpmath.log(1 - p))


def second(cost, at):
    return mpmath.diff(cost, mpmath.mpf(at), 2)


def _num(v):
    return mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q


# ---------------------------------------------------------------- the Hessian keeps the parameters


def test_hessian_keeps_the_parameter_symbols_of_f_prime():
    d = derive_pair("leaky_relu", "quadratic")
    slope = d.params[0].symbol
    assert d.hessian.diagonal == sp.Piecewise((1, a[j] > 0), (slope**2, True))  # not slope * 1/100


@pytest.mark.parametrize("alpha", [Rational(1, 2), Rational(3)])
def test_elu_hessian_at_a_value_is_the_second_derivative_of_the_definition(alpha):
    d = derive_pair("elu", "quadratic", alpha=alpha)
    h = d.in_z(d.hessian.diagonal)
    for t, target in ((-1.25, 0.3), (-3, 2), (0.75, -1)):
        got = h.subs({y[j]: Rational(str(target)), z[j]: Rational(str(t))})
        want = second(lambda u: (elu(u, _num(alpha)) - _num(Rational(str(target)))) ** 2 / 2, Rational(str(t)))
        assert abs(mpmath.mpf(sp.N(got, 50)) - want) < mpmath.mpf(10) ** -40, (alpha, t)


# ---------------------------------------------------------------- verdicts for every value


def test_leaky_relu_quadratic_is_not_convex_and_not_smooth_for_every_slope():
    c, s = convexity("leaky_relu", "quadratic"), smoothness("leaky_relu", "quadratic")
    assert (c.status, c.scope, c.verdict.proved) == ("not convex", "for every slope in [0, 1)", True)
    assert "jumps down" in c.verdict.reason
    assert (s.status, s.value, s.scope) == ("unbounded", sp.oo, "for every slope in [0, 1)")
    # independent: at y = 1/2 the midpoint inequality fails at +-t, t = (1 - s)/(2 (1 + s^2)), for each slope
    for slope in (mpmath.mpf(0), mpmath.mpf("0.5"), mpmath.mpf("0.99")):
        cost = lambda u: (leaky(u, slope) - mpmath.mpf("0.5")) ** 2 / 2  # noqa: E731
        t = (1 - slope) / (2 * (1 + slope**2))
        assert cost(0) > (cost(-t) + cost(t)) / 2 + TINY


def test_the_slope_domain_ends_where_the_verdict_would_change():
    # slope 1 is the identity (convex); it is outside the domain, and said so
    with pytest.raises(ValueError, match=r"slope must be in \[0, 1\), got 1"):
        convexity("leaky_relu", "quadratic", slope=1)
    assert convexity("leaky_relu", "quadratic", slope=Rational(99, 100)).status == "not convex"


@pytest.mark.parametrize("loss", ["quadratic", "mse"])  # sse is quadratic times 2
def test_elu_and_swish_with_squared_errors_for_every_parameter(loss):
    for act, name in (("elu", "alpha"), ("swish", "beta")):
        c, s = convexity(act, loss), smoothness(act, loss)
        assert c.status == "not convex" and c.scope == f"for every {name} in (0, oo)" and c.verdict.proved
        assert s.value is sp.oo and s.scope == f"for every {name} in (0, oo)"
        assert "leading coefficient" in c.verdict.reason


@pytest.mark.parametrize("alpha", ["0.1", "1", "10"])
def test_elu_quadratic_curvature_goes_negative_for_large_targets_independently(alpha):
    al = mpmath.mpf(alpha)
    target = 10 * al + 10
    assert second(lambda u: (elu(u, al) - target) ** 2 / 2, -4) < 0
    assert second(lambda u: (elu(u, al) + target) ** 2 / 2, -4) > target * al * mpmath.exp(-4) / 2  # grows with -y


def test_identity_huber_is_convex_with_L_1_for_every_delta():
    c, s = convexity("identity", "huber"), smoothness("identity", "huber")
    assert (c.status, c.scope) == ("convex", "for every delta in (0, oo)") and c.verdict.proved
    assert (s.status, s.value, s.scope, s.step) == ("bounded", 1, "for every delta in (0, oo)", 2)
    for d in ("0.1", "1", "10"):
        dd = mpmath.mpf(d)
        values = [second(lambda u: huber(u - mpmath.mpf("0.3"), dd), mpmath.mpf(q) / 7) for q in range(-80, 81)
                  if abs(abs(mpmath.mpf(q) / 7 - mpmath.mpf("0.3")) - dd) > mpmath.mpf("0.01")]  # off the kinks
        assert min(values) > -TINY and max(values) < 1 + TINY and max(values) > 1 - TINY


def test_relu_huber_jump_for_every_delta():
    c, s = convexity("relu", "huber"), smoothness("relu", "huber")
    assert c.status == "not convex" and s.value is sp.oo and c.scope == s.scope == "for every delta in (0, oo)"


# ---------------------------------------------------------------- per value, and where the verdict changes


def test_focal_is_convex_at_gamma_0_and_not_at_gamma_one_half():
    at0, half = convexity("sigmoid", "focal", gamma=0), convexity("sigmoid", "focal", gamma=Rational(1, 2))
    assert (at0.status, at0.scope) == ("convex", "at gamma = 0")  # focal at gamma = 0 is bce
    assert smoothness("sigmoid", "focal", gamma=0).value == Rational(1, 4)
    assert (half.status, half.scope) == ("not convex", "at gamma = 1/2")
    # independent: the refutation's point violates midpoint convexity of the textbook focal loss
    point = half.verdict.details[0].details[0]
    z1, z2, t = (_num(v) for v in point.values())
    sig = lambda u: 1 / (1 + mpmath.exp(-u))  # noqa: E731
    cost = lambda u: focal(sig(u), t, mpmath.mpf("0.5"))  # noqa: E731
    assert cost((z1 + z2) / 2) > (cost(z1) + cost(z2)) / 2 + TINY


def test_undecided_for_every_value_falls_back_to_the_defaults_and_says_so():
    c = convexity("sigmoid", "focal")
    assert c.status == "not convex" and c.scope == "at gamma = 2, the default (not decided for every gamma in [0, oo))"
    assert c.general.status == "undecided" and c.general.scope == "for every gamma in [0, oo)" and c.general.verdict.reason
    s = smoothness("sigmoid", "huber")
    assert s.status == "undecided" and s.scope == "at delta = 1, the default (not decided for every delta in (0, oo))"
    assert convexity("sigmoid", "huber").general is None  # decided for every delta


def test_a_value_changes_the_elu_jump():
    # elu's f' jumps at 0 from alpha to 1: delta jumps by (alpha - 1) y, none at alpha = 1
    from proofs.curvature_setting import Setting
    from proofs.kinks import jumps

    assert jumps(Setting.of("elu", "quadratic", alpha=1)) == [(0, 0, None)]
    assert jumps(Setting.of("elu", "quadratic", alpha=2)) == [(0, y[j], None)]


# ---------------------------------------------------------------- values: exact and inside the domain


@pytest.mark.parametrize("values, error, message", [
    ({"alpha": 0.5}, InexactValue, r"floats are refused; write it exactly, e.g. Rational\(1, 2\)"),
    ({"alpha": 0}, ValueError, r"alpha must be in \(0, oo\), got 0"),
    ({"alpha": -1}, ValueError, r"alpha must be in \(0, oo\), got -1"),
    ({"beta": 1}, ValueError, "unknown parameter 'beta' of elu \\+ quadratic; its parameters: alpha"),
])
def test_values_are_exact_and_inside_their_domain(values, error, message):
    for decide in (convexity, smoothness):
        with pytest.raises(error, match=message):
            decide("elu", "quadratic", **values)


def test_softmax_pairings_check_their_values_too():
    with pytest.raises(ValueError, match=r"delta must be in \(0, oo\)"):
        convexity("softmax", "huber", delta=-1)


def test_a_jump_of_unknown_sign_is_no_smoothness_constant():
    # hinge's delta jumps where a y = 1 and leaky_relu's where z = 0: L = 0 from h = 0 a.e. would be false
    for act in ("leaky_relu", "relu", "identity"):
        assert smoothness(act, "hinge").value != 0


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "elu", "swish"])
def test_huber_pairings_are_not_convex_for_every_delta(act):
    c = convexity(act, "huber")
    assert c.status == "not convex" and "for every delta in (0, oo)" in c.scope and "h = " in c.verdict.reason
    # independent: past the threshold (|a - y| > delta) huber is linear in a: C'' = +-delta f''(z), one side < 0
    f = {"sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)), "tanh": mpmath.tanh,
         "elu": lambda u: elu(u, mpmath.mpf(2)), "swish": lambda u: swish(u, mpmath.mpf(3))}[act]
    for d in (mpmath.mpf("0.1"), mpmath.mpf(1), mpmath.mpf(10)):
        sides = [second(lambda u, t=f(mpmath.mpf(-1)) + c * (d + 1): huber(f(u) - t, d), -1) for c in (1, -1)]
        assert min(sides) < 0


def test_hard_sigmoid_huber_stays_at_the_default_and_says_why():
    # hard_sigmoid'' = 0 off its kinks: no negative curvature to find off them, so only the default's counterexample
    c = convexity("hard_sigmoid", "huber")
    assert c.status == "not convex" and c.scope.startswith("at delta = 1, the default")


def test_a_user_activation_with_a_parameter_gets_a_verdict_for_every_value(tmp_path, monkeypatch):
    from derive.define import define_activation
    from derive.symbolic import catalogue

    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    with catalogue.extended():
        define_activation("scaled_tanh", "c*tanh(z)", params={"c": (1, "(0, oo)")})
        c, s = convexity("scaled_tanh", "quadratic"), smoothness("scaled_tanh", "quadratic")
        assert (c.status, c.scope) == ("not convex", "for every c in (0, oo)") and s.value is sp.oo
        assert convexity("scaled_tanh", "quadratic", c=2).scope == "at c = 2"
        # independent: c tanh(z) with y large: C'' = c^2 sech^4 - (c tanh - y) 2 c tanh sech^2 < 0 at z = -4, y = 10 c
        for k in (mpmath.mpf("0.1"), mpmath.mpf(3)):
            assert second(lambda u: (k * mpmath.tanh(u) - 10 * k - 10) ** 2 / 2, -4) < 0


@pytest.mark.parametrize("act, name", [("elu", "alpha"), ("swish", "beta")])
def test_l1_with_a_parametric_activation_is_not_convex_for_every_value(act, name):
    c = convexity(act, "l1")
    assert c.status == "not convex" and c.scope == f"for every {name} in (0, oo)" and "h = " in c.verdict.reason
    # independent: below the target, |f(z) - y| = y - f(z), whose C'' = -f'' < 0 where f is convex (z = -4 for elu,
    # 0 for swish)
    f, at = {"elu": (lambda u, p: elu(u, p), -4), "swish": (lambda u, p: swish(u, p), 0)}[act]
    for p in (mpmath.mpf("0.1"), mpmath.mpf(5)):
        target = f(mpmath.mpf(at), p) + 1
        assert second(lambda u: abs(f(u, p) - target), at) < 0
