"""The checker is sound: wrong bounds and cheating certificates are "not proved"; only a
high-precision counterexample refutes; the issue's two examples are proved."""

import mpmath
import pytest
import sympy as sp
from sympy import I, Interval, Piecewise, Rational, S, Sum, exp, oo, pi, sqrt

from derive.symbolic.functions import relu, sigmoid
from derive.symbolic.symbols import a as A, i, k, n
from proofs import InexactValue, check_eq, check_le, check_lt, refute
from proofs.certificate import holds_by_refutation
from proofs.sign import sign

s, a, y, z = sp.symbols("s a y z", real=True)
UNIT = Interval(0, 1)
Q = Rational(1, 4)
H = Rational(1, 2)
L2_CERT = (1 - a) * (1 - y) + (1 - a) * a + y * (1 - y) + y * a


# ---------------------------------------------------------------- the examples


def test_sigmoid_prime_quarter():
    v = check_le(s * (1 - s), Q, (s - H) ** 2, {s: UNIT})
    assert v.proved and bool(v)


def test_sigmoid_prime_quarter_through_the_named_function():
    g = sigmoid(z)
    assert check_le(sp.diff(g, z), Q, (g - H) ** 2, {g: Interval.open(0, 1)}).proved


def test_l2_le_one():
    assert check_le((a - y) ** 2, 1, L2_CERT, {a: UNIT, y: UNIT}).proved


# ---------------------------------------------------------------- wrong bounds


@pytest.mark.parametrize("bound", [Rational(1, 5), Rational(24, 100), Rational(1, 4) - Rational(1, 10**40), 0])
def test_wrong_bound_is_not_proved(bound):
    assert not check_le(s * (1 - s), bound, (s - H) ** 2, {s: UNIT}).proved
    assert not check_le(s * (1 - s), bound, bound - s * (1 - s), {s: UNIT}).proved


def test_l2_certificate_outside_its_domain_is_not_proved():
    # (a - y)^2 <= 1 is false for a in [0, 2]; the same certificate must fail there
    assert not check_le((a - y) ** 2, 1, L2_CERT, {a: Interval(0, 2), y: UNIT}).proved


def test_strict_bound_needs_a_strictly_positive_certificate():
    assert not check_lt(s * (1 - s), Q, (s - H) ** 2, {s: UNIT}).proved  # equality at s = 1/2
    assert not check_lt(0, s, s, {s: UNIT}).proved  # s = 0 is allowed
    assert check_lt(0, s, s, {s: Interval.Lopen(0, 1)}).proved


# ---------------------------------------------------------------- cheating certificates


def test_restated_claim_is_not_a_certificate():
    # g = rhs - lhs with no structure that shows its sign
    assert not check_le(s * (1 - s), Q, Q - s * (1 - s), {s: UNIT}).proved
    assert not check_le(s * (1 - s), Q, sp.expand(Q - s * (1 - s)), {s: UNIT}).proved
    assert not check_le((a - y) ** 2, 1, 1 - (a - y) ** 2, {a: UNIT, y: UNIT}).proved


def test_false_claim_restated_is_not_proved():
    # s (1 - s) >= 0 is false on the reals (s = 2); its restatement must not pass
    assert not check_le(0, s * (1 - s), s * (1 - s), {s: S.Reals}).proved
    assert not check_le(0, z, z, {z: S.Reals}).proved
    assert not check_le(0, 1 - s, 1 - s, {s: Interval(0, 2)}).proved


def test_sign_indefinite_terms_are_rejected():
    # 3/4 - s^2 <= 0 is false at s = 0; g = (s - 1/2)^2 + (s - 1) satisfies the identity but
    # its term s - 1 has no sign on the reals. On [1, 2] the same g is a valid certificate.
    lhs, g = Rational(3, 4) - s**2, (s - H) ** 2 + (s - 1)
    assert not check_le(lhs, 0, g, {s: S.Reals}).proved
    assert check_le(lhs, 0, g, {s: Interval(1, 2)}).proved
    assert not check_le(0, s**3, s**3, {s: S.Reals}).proved


def test_square_of_a_non_real_is_not_nonnegative():
    # (i s)^2 = -s^2: the identity holds, the "square" is not a real square
    v = check_le(0, -(s**2), (I * s) ** 2, {s: S.Reals})
    assert not v.proved


def test_inverse_square_needs_a_nonzero_base():
    assert sign(1 / s**2, {s: UNIT}) is None
    assert sign(1 / s**2, {s: Interval.Lopen(0, 1)}) == "positive"


def test_piecewise_branches_are_checked_where_they_apply():
    assert check_le(0, relu(z), Piecewise((z, z > 0), (0, True)), {z: S.Reals}).proved
    # the named function alone carries no sign
    assert not check_le(0, relu(z), relu(z), {z: S.Reals}).proved
    # a branch that is negative where it applies
    assert not check_le(0, z, Piecewise((z, z > 0), (z, True)), {z: S.Reals}).proved


def test_sum_certificate_and_hypotheses():
    v = sp.IndexedBase("v", real=True)
    M = Sum(A[k] * v[k], (k, 1, n))
    quad = Sum(A[i] * v[i] ** 2, (i, 1, n)) - M**2
    cert = Sum(A[i] * (v[i] - M) ** 2, (i, 1, n))
    dom = {A: Interval.open(0, 1), v: S.Reals}
    assert check_le(0, quad, cert, dom, given={Sum(A[i], (i, 1, n)): 1}).proved
    assert not check_le(0, quad, cert, dom, given={Sum(A[i], (i, 1, n)): 2}).proved
    assert not check_le(0, quad, cert, dom).proved  # without sum S = 1 the identity is not shown
    assert not check_le(0, quad, cert, {A: Interval(-1, 1), v: S.Reals}, given={Sum(A[i], (i, 1, n)): 1}).proved


def test_bad_domain_is_reported():
    v = check_le(s * (1 - s), Q, (s - H) ** 2, {s: sp.FiniteSet(I)})
    assert not v.proved and "real SymPy Interval" in v.reason


# ---------------------------------------------------------------- three-valued equality, refutation


def test_equality_is_never_false():
    v = check_eq(sigmoid(z), S.Half)
    assert v.status == "not proved"


def test_refute_needs_a_counterexample():
    assert refute(sigmoid(z), S.Half, {z: 0}).status == "not proved"
    assert refute(sigmoid(z), S.Half, {z: Rational(1, 10**30)}).refuted


def test_refute_at_high_precision_where_floats_cannot_tell():
    lhs, rhs = exp(pi * sqrt(163)), sp.Integer(640320) ** 3 + 744
    assert float(lhs) == float(rhs)  # the naive check fails to see the difference
    v = refute(lhs, rhs, {})
    assert v.refuted
    _, lv, rv = v.details
    assert mpmath.mpf("7.4e-13") < rv - lv < mpmath.mpf("7.5e-13")


def test_strict_claim_refuted_at_an_exact_tie():
    ds = sp.diff(sigmoid(z), z)
    assert refute(ds, Q, {z: 0}, "<").refuted
    assert refute(ds, Q, {z: 0}, "<=").status == "not proved"
    assert refute(ds, Q, {z: 1}, "<").status == "not proved"


def test_monotone_images_and_open_ends():
    # exp(z) on z <= 0 lies in (0, 1]: 1 - exp(z) >= 0 there, not on all reals
    assert check_le(exp(z), 1, 1 - exp(z), {z: Interval(-oo, 0)}).proved
    assert not check_le(exp(z), 1, 1 - exp(z), {z: S.Reals}).proved


# ---------------------------------------------------------------- review findings (regressions)

x = sp.Symbol("x", real=True)
R = sp.Symbol("R", real=True)


def test_piecewise_without_an_otherwise_branch_has_no_sign():
    # Piecewise((x - 1/2, x >= 1/2)) is undefined (nan) on [0, 1/2): no sign, no proof of 1/2 <= x
    partial = Piecewise((x - H, x >= H))
    assert sign(partial, {x: UNIT}) is None
    assert sign(Piecewise((1, x > 0), (2, x < 0)), {x: Interval(-1, 1)}) is None  # nothing at x = 0
    assert not check_le(H, x, partial, {x: UNIT}).proved
    assert sign(Piecewise((1, x > 0), (2, True)), {x: Interval(-1, 1)}) == "positive"


def test_reversed_sum_is_not_nonnegative():
    # Karr: sum_{i=3}^{1} f = -f(2), so x^2 + 1 <= 0 must not follow from it
    backwards = Sum(x**2 + 1, (i, 3, 1))
    assert backwards.doit() == -(x**2) - 1
    assert sign(backwards, {x: Interval(-1, 1)}) is None
    assert not check_le(x**2 + 1, 0, backwards, {x: Interval(-1, 1)}).proved
    m = sp.Symbol("m", integer=True)  # m may be negative: sum_{i=1}^{m} 1 = m
    assert not check_le(0, m, Sum(1, (i, 1, m)), {}).proved
    assert sign(Sum(x**2 + 1, (i, 1, n)), {x: Interval(-1, 1)}) == "positive"


def test_summation_index_is_read_from_its_limits_not_its_assumptions():
    # derive's i is declared positive, but here it runs over -5..1: the sum is -14
    s_neg = Sum(i, (i, -5, 1))
    assert s_neg.doit() == -14
    assert not check_lt(0, s_neg, s_neg, {}).proved
    q = sp.Symbol("q", integer=True)
    assert Sum(sp.Abs(q), (q, -3, 3)).doit() == 12
    assert not check_eq(Sum(sp.Abs(q), (q, -3, 3)), Sum(q, (q, -3, 3))).proved
    assert sign(Sum(i, (i, 1, n)), {}) == "positive"


def test_kronecker_delta_collapses_only_inside_the_range():
    assert Sum(sp.KroneckerDelta(i, 5), (i, 1, 3)).doit() == 0
    assert not check_le(1, Sum(sp.KroneckerDelta(i, 5), (i, 1, 3)), 0, {}).proved
    j = sp.Symbol("j", integer=True, positive=True)
    picked = Sum(sp.KroneckerDelta(i, j) * A[i], (i, 1, n))
    assert not check_eq(picked, A[j]).proved  # j may exceed n
    v = check_eq(picked, A[j], indices={j: (1, n)})
    assert v.proved and "j in [1, n]" in v.reason  # the hypothesis is stated


def test_refutation_needs_a_certified_gap():
    # exp(x)(1 + exp(-x)) - exp(x) = 1 exactly; at x = 1000 plain 70-digit floats give 0
    lhs = exp(x) * (1 + exp(-x)) - exp(x)
    assert not refute(lhs, 1, {x: 1000}).refuted
    assert not refute(lhs, 1, {x: 1000}, "<=").refuted

    assert not holds_by_refutation("lhs != 1", refute(lhs, 1, {x: 1000})).proved


def test_refutation_point_must_be_real_and_in_the_domain():
    assert refute(x, 0, {x: 2}, "<=").refuted
    assert not refute(x, 0, {x: 2}, "<=", domain={x: Interval(-1, 1)}).refuted
    assert not refute(x, 0, {x: I}, "==").refuted


def test_inverse_power_is_not_real_where_the_base_can_vanish():
    # exp(-1/x^2) at x = 0 is not a real number: not positive on [-1, 1]
    g = exp(-1 / x**2)
    assert not check_lt(0, g, g, {x: Interval(-1, 1)}).proved
    assert sign((1 + 1 / x) ** 2, {x: Interval(-1, 1)}) is None
    assert check_lt(0, g, g, {x: Interval.Lopen(0, 1)}).proved


def test_given_value_must_agree_with_the_domain():
    # R = 1 - s - t with a domain R in [0, 1] claimed: false at s = t = 0.9, so -1/4 <= -s t is not proved
    t = sp.Symbol("t", real=True)
    v = check_le(-Q, -s * t, (s - t) ** 2 / 4 + R * (1 + s + t) / 4,
                 {s: Interval.open(0, 1), t: Interval.open(0, 1), R: UNIT}, given={R: 1 - s - t})
    assert not v.proved and "domain" in v.reason
    # when the value shows the interval, the hypothesis is checked and the proof stands
    assert check_le(0, R, R, {s: UNIT, R: Interval(0, 2)}, given={R: s + 1}).proved


def test_sign_of_an_infinite_coefficient_is_refused_not_a_crash():
    # oo is not a real number: refused with a clear error (proofs.values), never signed
    for e in (oo * x, oo):
        with pytest.raises(InexactValue, match="not real numbers"):
            sign(e, {x: UNIT})


def test_given_value_must_agree_with_a_declared_sign():
    # R declared nonnegative, then given R = 1 - s - t: the declaration is the same unchecked hypothesis
    t = sp.Symbol("t", real=True)
    Rp = sp.Symbol("R", nonnegative=True)
    dom = {s: Interval.open(0, 1), t: Interval.open(0, 1)}
    assert not check_le(-Q, -s * t, (s - t) ** 2 / 4 + Rp * (1 + s + t) / 4, dom, given={Rp: 1 - s - t}).proved
    assert not check_le(0, A[i], A[i], {A: UNIT}, given={A[i]: s - 1}).proved  # a_i in [0, 1] but s - 1 <= 0


def test_delta_collapse_needs_the_enclosing_index_inside_the_inner_range():
    # Karr: i runs over -9..4 here, so a[-9]..a[0] are picked by no delta in k = 1..10
    inner = Sum(sp.KroneckerDelta(k, i) * A[k], (k, 1, 10))
    assert not check_eq(Sum(inner, (i, 5, -10)), Sum(A[i], (i, 5, -10))).proved
    assert check_eq(Sum(Sum(sp.KroneckerDelta(k, i) * A[k], (k, 1, n)), (i, 1, n)), Sum(A[i], (i, 1, n))).proved


def test_strings_are_refused_not_parsed():
    import sympy as sp

    from proofs import check_le

    with pytest.raises(sp.SympifyError):
        check_le("__import__('os').getcwd()", 1, 0, {})


def test_piecewise_with_conditions_it_cannot_solve_has_the_sign_common_to_all_branches():
    t = sp.Symbol("t", real=True)
    both = {x: S.Reals, t: S.Reals}
    assert sign(Piecewise((1, sp.Abs(x - t) <= 1), (x**2, True)), both) == "nonnegative"
    assert sign(Piecewise((1, sp.Abs(x - t) <= 1), (x - 5, True)), both) is None  # one branch has no sign
    assert sign(Piecewise((1, sp.Abs(x - t) <= 1), (x**2, x > 3)), both) is None  # undefined where none applies
