"""Regression tests for the audit's classes of soundness holes (issue 13), one class per section.

Each probe was proved (or refuted, or crashed) by the checker before its fix; each asserts the
sound answer now. A statement must never be both proved and refuted.
"""

import pytest
import sympy as sp
from sympy import Float, IndexedBase, Interval, Rational, Sum, Symbol, exp, oo, zoo

from proofs import InexactValue, check_eq, check_le, check_lt, refute
from proofs.certificate import holds_by_refutation
from proofs.sign import sign

x = Symbol("x", real=True)
i = Symbol("i", integer=True)
n = Symbol("n", integer=True, positive=True)
TENTH = Rational(1, 10)

# ---------------------------------------------------------------- floats: refused, wherever a value is read


@pytest.mark.parametrize("lhs, rhs", [
    (Float("0.1"), TENTH + Rational(1, 10**17)),  # differ in the 17th digit: were "proved" equal
    (0.1, TENTH),  # a Python float is the binary number 0.1000000000000000055..., not 1/10
    (x * Float("0.1"), x * (TENTH + Rational(1, 10**17))),
])
def test_a_float_in_an_identity_is_refused(lhs, rhs):
    with pytest.raises(InexactValue, match="floats are refused"):
        check_eq(lhs, rhs)


def test_a_float_end_of_the_domain_is_refused_and_the_exact_end_is_consistent():
    # before: proved on [0, 0.1], yet refuted at the float's exact value Rational(0.1) > 1/10
    with pytest.raises(InexactValue, match="end of the domain"):
        check_le(x, TENTH, TENTH - x, {x: Interval(0, 0.1)})
    exact_end = {x: Interval(0, Rational(0.1))}
    assert not check_le(x, TENTH, TENTH - x, exact_end).proved
    assert refute(x, TENTH, {x: Rational(0.1)}, "<=", domain=exact_end).refuted


@pytest.mark.parametrize("where", ["certificate", "given", "point", "index"])
def test_a_float_is_refused_in_every_other_place_the_checker_reads_a_value(where):
    s = Symbol("s", real=True)
    with pytest.raises(InexactValue, match="float"):
        if where == "certificate":
            check_le(TENTH + Rational(1, 10**17), Float("0.1"), Float(0), {})
        elif where == "given":
            check_le(s, 1, 1 - s, {}, given={s: Float("0.5")})
        elif where == "point":
            refute(x, 0, {x: 0.5}, "<=")
        else:
            check_eq(Sum(x, (i, 1, n)), n * x, indices={i: (1, Float(2))})


def test_the_error_says_what_to_write_instead():
    with pytest.raises(InexactValue, match=r"Rational\(1, 10\), or Rational\(0.1\)"):
        check_eq(0.1, TENTH)


# ---------------------------------------------------------------- infinite values are not numbers


@pytest.mark.parametrize("expr, dom", [
    (x**oo, Interval.open(0, 1)),  # 0 on (0, 1): "x**oo > 0" was proved
    (exp(oo * x), Interval.open(-1, 0)),  # 0 on (-1, 0): "exp(oo x) > 0" was proved
])
def test_a_strict_bound_on_an_infinite_power_is_refused(expr, dom):
    with pytest.raises(InexactValue, match="not real numbers"):
        check_lt(0, expr, expr, {x: dom})


@pytest.mark.parametrize("bad", [oo, -oo, zoo, sp.nan, x * zoo])
def test_infinite_and_undefined_values_are_refused_in_statements_and_points(bad):
    with pytest.raises(InexactValue):
        check_eq(bad, bad)
    with pytest.raises(InexactValue):
        sign(bad, {x: Interval(0, 1)})
    if bad.is_number:
        with pytest.raises(InexactValue):
            refute(x, 0, {x: bad}, "<=")


def test_infinite_domain_ends_stay_allowed():
    assert check_lt(0, exp(x), exp(x), {x: sp.S.Reals}).proved
    assert check_le(0, x, x, {x: Interval(0, oo)}).proved


# ---------------------------------------------------------------- summation index capture


def test_an_outside_symbol_named_like_the_old_fixed_index_is_not_captured():
    # before: the index was renamed to Symbol("_idx0", integer=True), which captured this one:
    # sum 1/(i + c) = sum 1/(2 i) was "proved" for every c
    c = Symbol("_idx0", integer=True)
    lhs, rhs = Sum(1 / (i + c), (i, 1, n)), Sum(1 / (2 * i), (i, 1, n))
    assert not check_eq(lhs, rhs).proved
    assert refute(lhs, rhs, {n: 1, c: 0}).refuted  # 1 != 1/2


def test_sums_over_differently_named_indices_still_compare_equal():
    j = Symbol("j", integer=True)
    assert check_eq(Sum(x * i**2, (i, 1, n)), Sum(x * j**2, (j, 1, n))).proved
    # an outside symbol with the index's own name is not the index
    i_out = Symbol("i", integer=True, positive=True)
    assert not check_eq(Sum(i_out * i, (i, 1, n)), Sum(i * i, (i, 1, n))).proved


# ---------------------------------------------------------------- refute honours assumptions and domains


def test_refute_never_leaves_a_declared_assumption():
    xp = Symbol("x", positive=True)
    r = refute(xp, 0, {xp: -1}, ">")  # before: "refuted", so "x <= 0" for a positive x was "proved"
    assert not r.refuted and "positive" in r.reason
    assert not holds_by_refutation("x <= 0", r).proved


@pytest.mark.parametrize("decl, value", [
    ({"integer": True}, Rational(1, 2)),
    ({"nonnegative": True}, -1),
    ({"negative": True}, 0),
    ({"even": True}, 3),
])
def test_refute_checks_every_kind_of_assumption(decl, value):
    s = Symbol("s", **decl)
    assert not refute(s, s + 1, {s: value}).refuted


def test_refute_checks_an_indexed_symbol_s_assumptions_and_the_stated_domain():
    a = IndexedBase("a", positive=True)
    assert not refute(a[1], 0, {a[1]: -1}, ">").refuted
    assert not refute(x, 0, {x: 2}, "<=", domain={x: Interval(0, 1)}).refuted


def test_a_refutation_reports_the_assumptions_it_checked():
    xp = Symbol("x", positive=True)
    r = refute(xp**2, xp, {xp: 2}, "<=", domain={xp: Interval(0, 3)})
    assert r.refuted
    assert "x positive" in r.reason and "x in Interval(0, 3)" in r.reason


# ---------------------------------------------------------------- removable singularities


def test_a_bound_is_not_proved_where_the_expression_is_undefined():
    f = (x**2 - x) / x  # x - 1 except at 0, where it is 0/0
    v = check_le(f, 0, 1 - x, {x: Interval(0, 1)})
    assert not v.proved and "must be nonzero" in v.reason
    assert check_le(f, 0, 1 - x, {x: Interval.Lopen(0, 1)}).proved  # off the hole, the same bound holds


def test_a_log_of_a_possibly_nonpositive_number_is_no_bound():
    f = x * sp.log(x)  # undefined at 0
    assert not check_lt(f, f + 1, 1, {x: Interval(0, 1)}).proved
    assert check_lt(f, f + 1, 1, {x: Interval.Lopen(0, 1)}).proved


def test_an_identity_names_the_points_it_does_not_cover():
    v = check_eq((x**2 - 1) / (x - 1), x + 1)
    assert v.proved and "x - 1 != 0" in v.reason


# ---------------------------------------------------------------- sums with non-integer limits


def test_refute_on_a_sum_with_a_non_integer_limit_gives_a_verdict():
    m = Symbol("m")  # no integer assumption: the point may give it 1/2
    k = Symbol("k", integer=True)
    v = refute(Sum(k, (k, 1, m)), 0, {m: Rational(1, 2)})  # before: TypeError
    assert v.status == "not proved" and "not an integer" in v.reason


def test_refute_with_a_point_that_leaves_a_symbol_free_gives_a_verdict():
    v = refute(x + n, 0, {x: 1})
    assert v.status == "not proved" and "free" in v.reason


# ---------------------------------------------------------------- symbols that share a name


def test_symbols_sharing_a_name_print_with_their_assumptions():
    # before: "proved: 0 <= x", read as a claim on the real x of the domain; it is on a positive x
    xp = Symbol("x", positive=True)
    v = check_le(0, xp, xp, {x: Interval(-1, 1)})
    assert v.proved
    assert "x{positive}" in v.claim and "x{real}" in v.claim


def test_one_symbol_per_name_prints_plainly():
    assert check_le(0, x**2, x**2, {x: Interval(-1, 1)}).claim == "0 <= x**2"


def test_the_three_valued_equality_and_the_limits_refuse_floats_too():
    from proofs.equality import equal, is_zero
    from proofs.limits import limit_is, z

    with pytest.raises(InexactValue):
        equal(Float("0.1"), TENTH + Rational(1, 10**17))
    with pytest.raises(InexactValue):
        is_zero(exp(Float("0.1") * x) - exp(x / 10))
    with pytest.raises(InexactValue):
        limit_is(1 / (1 + exp(-z)), oo, Float(1))
    assert limit_is(1 / (1 + exp(-z)), oo, 1).proved


def test_a_refutation_names_symbols_that_share_a_name_and_takes_symbols_only():
    xp = Symbol("x", positive=True)
    r = refute(xp + x, 0, {xp: 1, x: 1}, "<=")
    assert r.refuted and "x{positive}" in r.claim and "x{real}" in r.claim
    f = sp.Function("f")
    assert not refute(f(x), 0, {f(x): 1}, "==").refuted  # f(x) = 1 is no point: f may not reach 1


def test_sign_refuses_an_inexact_domain():
    with pytest.raises(InexactValue):
        sign(x, {x: Interval(Float("0.5"), 1)})


def test_a_limit_is_a_step_by_the_stated_fact_and_a_finite_end_becomes_one_at_infinity():
    """A limit proves nothing by itself: every limit step uses the fact 'limits' (sympy.limit's value at +-oo),
    and a one-sided limit at a finite end is taken as t -> oo of f(p +- 1/t), the only limits the fact covers."""
    import sympy as sp

    from proofs.limits import limit_is, z

    got = limit_is(1 / z, sp.S.Zero, sp.oo, side="+")
    assert got.proved and "uses the fact 'limits'" in [d.claim for d in got.details]
    assert not limit_is(1 / z, sp.S.Zero, sp.oo, side="-").proved  # from below: -oo
    assert not limit_is(1 / (1 + sp.exp(-z)), sp.oo, sp.Rational(1, 2)).proved
    with pytest.raises(ValueError, match="needs side"):
        limit_is(1 / z, sp.S.Zero, sp.oo)



def test_a_value_at_an_open_end_is_not_taken_for_the_limit_there():
    # tight_1d read sign(0) = 0 as the limit from below (review, session 6): limits go through 'limits' now
    import sympy as sp

    from proofs.smoothness_bound import tight_1d

    z = sp.Symbol("z", real=True)
    assert not tight_1d(sp.sign(z), z, 0, ("limit", sp.S.Zero, "-"), "c").proved
    assert tight_1d(sp.sign(z), z, -1, ("limit", sp.S.Zero, "-"), "c").proved
    assert not tight_1d(sp.Heaviside(z), z, sp.Rational(1, 2), ("limit", sp.S.Zero, "-"), "c").proved
