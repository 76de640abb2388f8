"""Each seed claim's verdict is backed by its evidence; each refuted claim's counterexample is
re-evaluated here with mpmath from the printed formula and the hand-derived value."""

import mpmath
import pytest
import sympy as sp

from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import j, k, x, y, z
from proofs.claims import CLAIMS, check_claim


@pytest.fixture(autouse=True)
def _digits():
    with mpmath.workdps(50):
        yield


def _sig(t):
    return 1 / (1 + mpmath.exp(-mpmath.mpf(t)))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_claim_evidence_is_consistent(claim):
    res = check_claim(claim.key)
    assert res.proof.proved, res.proof.reason
    if claim.verdict == "true":
        assert res.refutation is None
    else:
        assert res.refutation.refuted, res.refutation.reason
        assert claim.counterexample and claim.corrected


def test_every_seed_has_claims():
    assert {c.seed for c in CLAIMS} == {"000", "001", "002", "003", "004"}


def test_seed002_false_claims():
    assert {c.key for c in CLAIMS if c.seed == "002" and c.verdict == "false"} == {
        "002-sse-bias", "002-sse-weight", "002-sigmoid-ce", "002-linear-quadratic"}


def _derived(act, loss, field, point):
    d = derive_pair(act, loss)
    return sp.simplify(d.in_z(getattr(d, field)).subs(point))  # exact: sigma(0) = 1/2


def test_seed002_sse_bias_counterexample():
    # C = sum (a - y)^2 at z = 0, y = 0: dC/db = 2 (a - y) a (1 - a) = 2 * 1/2 * 1/4 = 1/4; printed (a - y) sigma' = 1/8
    derived = _derived("sigmoid", "sse", "grad_b", {z[j]: 0, y[j]: 0})
    printed = _sig(0) * _sig(0) * (1 - _sig(0))
    assert derived == sp.Rational(1, 4) and printed == mpmath.mpf(1) / 8
    r = check_claim("002-sse-bias").refutation
    assert r.details[1] == mpmath.mpf(1) / 4 and r.details[2] == mpmath.mpf(1) / 8


def test_seed002_sse_weight_counterexample():
    derived = _derived("sigmoid", "sse", "grad_w", {z[j]: 0, y[j]: 0, x[k]: 1})
    assert derived == sp.Rational(1, 4)
    r = check_claim("002-sse-weight").refutation
    assert r.details[2] == mpmath.mpf(1) / 8


def test_seed002_sigmoid_log_likelihood_counterexample():
    # C = -y ln a with y = 0 is identically 0, so dC/db = 0; printed a - y = sigma(0) = 1/2
    assert _derived("sigmoid", "cce", "grad_b", {z[j]: 0, y[j]: 0}) == 0
    r = check_claim("002-sigmoid-ce").refutation
    assert r.details[1] == 0 and r.details[2] == mpmath.mpf(1) / 2


def test_seed002_linear_counterexample():
    assert _derived("identity", "sse", "grad_b", {z[j]: 1, y[j]: 0}) == 2
    r = check_claim("002-linear-quadratic").refutation
    assert r.details[1] == 2 and r.details[2] == 1


def test_seed000_summed_loss_counterexample():
    r = check_claim("000-l2-le-1").refutation
    expected = 2 * _sig(10) ** 2
    assert abs(r.details[1] - expected) < mpmath.mpf(10) ** -45 and expected > 1


def test_seed001_lstm_counterexample():
    # sigma'(0) f_t = 1/4 * 1/2 = 1/8 against f_t = 1/2
    r = check_claim("001-lstm-additive").refutation
    assert r.details[1] == mpmath.mpf(1) / 8 and r.details[2] == mpmath.mpf(1) / 2


def test_seed004_relu_counterexample():
    r = check_claim("004-relu-derivative").refutation
    assert r.details[1] == 0 and r.details[2] == 1


def test_seed000_learning_rate_counterexample():
    r = check_claim("000-learning-rate").refutation
    expected = _sig(4) * (1 - _sig(4))
    assert abs(r.details[1] - expected) < mpmath.mpf(10) ** -45


# ---------------------------------------------------------------- review finding 12


def test_max_quarter_is_attained():
    res = check_claim("003-max-quarter")
    claims = [v.claim for v in res.proof.details]
    assert "sigma' <= 1/4" in claims and any("sigma'(0) = 1/4" in c for c in claims)
    assert _sig(0) * (1 - _sig(0)) == mpmath.mpf(1) / 4


def test_cross_entropy_is_not_real_outside_the_unit_interval():
    res = check_claim("004-xent-outside")
    assert res.proof.proved
    refuted = [d.details[0] for d in res.proof.details if d.details]
    assert len(refuted) == 2 and all(r.refuted for r in refuted)
    # independently: -ln(-1/2) has imaginary part -pi, -ln(1 - 3/2) too
    assert mpmath.im(-mpmath.log(mpmath.mpf(-1) / 2)) == -mpmath.pi
    assert mpmath.im(-mpmath.log(1 - mpmath.mpf(3) / 2)) == -mpmath.pi
    assert refuted[0].details[1] == -mpmath.pi or abs(refuted[0].details[1] + mpmath.pi) < mpmath.mpf(10) ** -45


def test_target_255_value_is_never_attained():
    c = next(c for c in CLAIMS if c.key == "000-target-255")
    assert c.verdict == "partly true"
    res = check_claim(c.key)
    assert res.proof.proved and res.refutation.refuted
    # at z = 0: (1/2 - 255)^2 = 64770.25, not 64516
    assert res.refutation.details[1] == (_sig(0) - 255) ** 2 == mpmath.mpf("64770.25")
    assert res.refutation.details[2] == 64516
