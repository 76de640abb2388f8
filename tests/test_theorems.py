"""Every theorem is proved; the certified numbers agree with an independent mpmath computation;
every catalogue activation has a range proof, and a wrong declared range is caught."""

import dataclasses
import re
from importlib.metadata import entry_points

import mpmath
import pytest
import sympy as sp
from sympy import Interval

from derive.symbolic import catalogue
from derive.symbolic.catalogue import ACTIVATIONS, GELU_MIN
from proofs import bounds, extrema, limits, ranges
from proofs.certificate import Proof, Verdict
from proofs.theorems import THEOREMS, run, run_all


@pytest.fixture(autouse=True)
def _digits():
    with mpmath.workdps(40):
        yield


def _Phi(t):
    return (1 + mpmath.erf(t / mpmath.sqrt(2))) / 2


def _sig(t):
    return 1 / (1 + mpmath.exp(-t))


@pytest.mark.parametrize("theorem", THEOREMS, ids=lambda t: f"{t.number}-{t.name}")
def test_theorem_is_proved(theorem):
    result = run(theorem)
    assert result.verdict.proved, result.verdict.reason
    assert result.proofs and all(p.statement and p.certificate for p in result.proofs)


def test_theorems_1_to_12():
    assert [t.number for t in THEOREMS] == list(range(1, 13))


def test_every_activation_has_a_range_proof():
    from proofs.parametric import PARAMETRIC_PROOFS

    # a RangeProof, or a proof for every value of its parameters (proofs.parametric)
    assert set(ranges.RANGE_PROOFS) | set(PARAMETRIC_PROOFS) == set(ACTIVATIONS)
    assert all(ranges.range_proof(name).verdict.proved for name in PARAMETRIC_PROOFS)


def test_a_wrong_declared_range_is_caught(monkeypatch):
    wrong = dataclasses.replace(ACTIVATIONS["sigmoid"], range=Interval(0, 1))  # closed: sigmoid never reaches 0, 1
    monkeypatch.setitem(catalogue.ACTIVATIONS, "sigmoid", wrong)
    assert not ranges.range_proof.__wrapped__("sigmoid").verdict.proved


def test_a_wrong_range_certificate_is_caught(monkeypatch):
    bad = ranges.RangeProof(ranges.End(sp.S.Zero, certificate=limits.z), ranges.End(sp.oo))  # "tanh >= 0"
    monkeypatch.setitem(ranges.RANGE_PROOFS, "tanh", bad)
    monkeypatch.setitem(catalogue.ACTIVATIONS, "tanh", dataclasses.replace(ACTIVATIONS["tanh"], range=Interval.open(0, sp.oo)))
    assert not ranges.range_proof.__wrapped__("tanh").verdict.proved


def test_silu_prime_maximum_matches_mpmath():
    # independent: maximise silu'(z) = s (1 + z (1 - s)) by a root of its derivative, numerically
    r = mpmath.findroot(lambda t: mpmath.diff(lambda u: _sig(u) * (1 + u * (1 - _sig(u))), t), 2.4)
    best = _sig(r) * (1 + r * (1 - _sig(r)))
    note = extrema.silu_prime_maximum().notes[0]
    lo, hi = (mpmath.mpf(v) for v in note.strip("[]").split(","))
    assert lo <= best <= hi and hi - lo < mpmath.mpf(10) ** -25
    assert abs(best - mpmath.mpf("1.0998")) < 1e-4


def test_gelu_minimum_matches_mpmath_and_catalogue():
    r = mpmath.findroot(lambda t: _Phi(t) + t * mpmath.npdf(t), -0.75)
    best = r * _Phi(r)
    lo, hi = (mpmath.mpf(v) for v in extrema.gelu_minimum().notes[0].strip("[]").split(","))
    assert lo <= best <= hi
    # the catalogue's endpoint is a lower bound within 1e-29 (it decides nothing else)
    assert mpmath.mpf(str(GELU_MIN)) <= lo and hi - mpmath.mpf(str(GELU_MIN)) < mpmath.mpf(10) ** -29


def test_gelu_prime_maximum_closed_form():
    r = mpmath.findroot(lambda t: mpmath.diff(lambda u: _Phi(u) + u * mpmath.npdf(u), t), 1.4)
    assert abs(r - mpmath.sqrt(2)) < 1e-30
    value = _Phi(r) + r * mpmath.npdf(r)
    assert abs(value - ((1 + mpmath.erf(1)) / 2 + mpmath.exp(-1) / mpmath.sqrt(mpmath.pi))) < 1e-30
    assert abs(value - mpmath.mpf("1.1289")) < 1e-4
    assert "1.1289" in extrema.gelu_prime_maximum().statement


def test_silu_minimum_is_minus_lambert_w():
    r = mpmath.findroot(lambda t: mpmath.diff(lambda u: u * _sig(u), t), -1.3)
    assert abs(r * _sig(r) + mpmath.lambertw(mpmath.exp(-1))) < 1e-30
    assert extrema.silu_minimum().verdict.proved


def test_main_prints_the_table_and_exits_zero(capsys):
    from proofs.__main__ import main

    assert main([]) == 0
    out = capsys.readouterr().out
    for r in run_all():
        assert r.theorem.name in out
    assert "12/12 theorems proved" in out
    from proofs.given import FACTS

    assert "taken as given" in out and all(f.key in out for f in FACTS)


def test_derive_prove_entry_point():
    (ep,) = [e for e in entry_points(group="derive.commands") if e.name == "prove"]
    from proofs.__main__ import main

    assert ep.load() is main


# proofs.report.latex_section is read in the built report: tests/test_report.py::test_the_proofs_section_is_in
# (building it costs minutes: the suite builds it once, in the report)


def test_main_exits_nonzero_when_a_theorem_is_not_proved(monkeypatch, capsys):
    import proofs.theorems as registry
    from proofs.__main__ import main

    failing = dataclasses.replace(THEOREMS[0], prove=lambda: Proof("s", "c", Verdict("x", "not proved", "why")))
    results = (registry.run(failing),) + registry.run_all()[1:]
    monkeypatch.setattr(registry, "run_all", lambda: results)
    assert main([]) == 1
    assert "not proved" in capsys.readouterr().out


def test_a_crashing_theorem_is_not_proved():
    def boom():
        raise ArithmeticError("no certified sign change")

    result = run(dataclasses.replace(THEOREMS[0], prove=boom))
    assert not result.verdict.proved and "ArithmeticError" in result.verdict.reason


# ---------------------------------------------------------------- review findings 9-11


@pytest.mark.parametrize("expr", ["gelu'", "gelu", "silu'", "k"])
def test_interval_functions_enclose_derives_own_expressions(expr):
    from mpmath import iv

    from proofs.enclosure import interval_function

    z = limits.z
    e = {"gelu'": limits.derivative("gelu"), "gelu": ACTIVATIONS["gelu"].f(z), "silu'": limits.derivative("silu"),
         "k": 2 - z * sp.tanh(z / 2)}[expr]
    f = interval_function(e, z)
    iv.dps = 40
    for t in ("-0.75", "0.3", "1.2"):  # iv_erf needs |t| <= sqrt 2
        box = f(iv.mpf(t))
        exact = mpmath.mpf(str(sp.N(e.subs(z, sp.Rational(t)).rewrite(sp.exp), 45)))
        assert box.a <= exact <= box.b and box.delta < mpmath.mpf(10) ** -30


def test_interval_function_refuses_what_it_cannot_enclose():
    from proofs.enclosure import interval_function

    with pytest.raises(AttributeError):
        interval_function(sp.gamma(limits.z), limits.z)(mpmath.iv.mpf(1))
    assert not [name for name in vars(bounds) if name.startswith("_iv_")]  # no retyped derivatives left


def test_softmax_range_states_and_uses_n_at_least_two():
    proof = ranges.range_proof("softmax")
    assert r"n \ge 2" in proof.statement
    steps = {v.claim: v for v in ranges.softmax_range().details}
    assert any(c.startswith("n = 1: S_1 = 1") and v.proved for c, v in steps.items())
    assert any(c.startswith("R = ") and v.proved for c, v in steps.items())  # R > 0 proved, not assumed


def test_gelu_range_says_only_what_is_enclosed():
    proof = ranges.range_proof("gelu")
    assert "10^{-29}" in proof.statement and "[m, oo)" in proof.verdict.claim
    assert "as the catalogue declares" not in proof.verdict.claim


def _value(act, t):
    from derive.symbolic.functions import expand_named

    return mpmath.mpf(str(sp.N(expand_named(ACTIVATIONS[act].f(limits.z)).subs(limits.z, t), 45)))


def test_every_invalid_pairing_has_a_witness_outside_the_domain():
    # a pairing refused for what the loss is (one probability per unit: focal with softmax) has no witness
    invalid = [(act, loss) for act, loss, why in catalogue.pairings()
               if why and not (catalogue.LOSSES[loss].per_unit and not ACTIVATIONS[act].elementwise)]
    assert len(invalid) == sum(1 for *_, why in catalogue.pairings() if why) - 1  # all but softmax + focal
    for act, loss in invalid:
        v = ranges.invalidity_witness(act, loss)
        assert v.proved, v.reason
        t = sp.sympify(v.reason.split(f"{act}(")[1].split(")")[0])
        value, dom = _value(act, t), catalogue.LOSSES[loss].domain
        # independent check: below the lower end, above the upper, or on an open end
        lo, hi = (mpmath.mpf(str(e)) if e.is_finite else mpmath.mpf("inf") * sp.sign(e) for e in (dom.start, dom.end))
        assert value < lo or value > hi or (value == lo and dom.left_open) or (value == hi and dom.right_open)


def test_invalidity_rests_on_a_witness_not_on_a_superset(monkeypatch):
    monkeypatch.setattr(ranges, "WITNESS_POINTS", (sp.Rational(1, 2),))  # identity(1/2) lies in (0, 1)
    assert not ranges.invalidity_witness("identity", "bce").proved
    assert not ranges._pairing_validity.__wrapped__(tuple(ACTIVATIONS.values()), tuple(catalogue.LOSSES.values())).verdict.proved


# ---------------------------------------------------------------- facts taken as given, cited where used


def _fact_uses(verdict):
    from proofs.certificate import steps_of

    return [v.claim for v in steps_of(verdict) if v.claim.startswith("uses the fact")]


@pytest.mark.parametrize("proof, fact", [
    (lambda: extrema.silu_minimum(), "monotonicity"),
    (lambda: extrema.gelu_minimum(), "monotonicity"),
    (lambda: extrema.silu_prime_maximum(), "monotonicity"),
    (lambda: extrema.gelu_prime_maximum(), "monotonicity"),
    (lambda: bounds.vanishing_gradients(), "induction"),
])
def test_the_once_unchecked_steps_cite_a_stated_fact(proof, fact):
    p = proof()
    assert p.verdict.proved
    assert f"uses the fact '{fact}'" in _fact_uses(p.verdict)


def test_a_fact_with_an_unproved_premise_proves_nothing():
    from proofs.given import by_fact

    v = by_fact("induction", "P(L) for all L", [Verdict("P(1)", "proved", "x"), Verdict("step", "not proved", "y")])
    assert not v.proved and "premise is not proved" in v.reason
    with pytest.raises(KeyError):
        by_fact("wishful thinking", "anything", [])


# ---------------------------------------------------------------- one range theorem per catalogue entry


def test_range_proof_takes_one_entry_and_its_range_proof():
    # an entry that is not in the catalogue: a shifted sigmoid 1 + sigma(z), range (1, 2)
    from derive.symbolic.functions import sigmoid

    entry = catalogue.Activation("shifted", lambda t: 1 + sigmoid(t), None, Interval.open(1, 2))
    rp = ranges.RangeProof(ranges.End(sp.S(1), certificate=1 / (1 + sp.exp(-limits.z))),
                           ranges.End(sp.S(2), certificate=sp.exp(-limits.z) / (1 + sp.exp(-limits.z))))
    assert ranges.range_proof(entry, rp).verdict.proved
    assert not ranges.range_proof(entry).verdict.proved  # no RangeProof registered: says so
    assert "no RangeProof for shifted" in ranges.range_proof(entry).verdict.reason
    wrong = dataclasses.replace(entry, range=Interval.open(0, 2))
    assert not ranges.range_proof(wrong, rp).verdict.proved


def test_theorem_2_is_computed_from_the_catalogue(monkeypatch):
    from derive.symbolic.functions import sigmoid

    entry = catalogue.Activation("shifted", lambda t: 1 + sigmoid(t), None, Interval.open(1, 2))
    monkeypatch.setitem(catalogue.ACTIVATIONS, "shifted", entry)
    proofs = THEOREMS[1].prove()
    assert any("shifted" in p.statement for p in proofs)
    # no RangeProof for it: theorem 2 is not proved, and says why
    assert not all(p.verdict.proved for p in proofs)


def test_verdicts_carry_the_relation_they_checked_for_the_latex_printer():
    import sympy as sp

    from proofs import check_eq, check_le
    from proofs.limits import limit_is, z
    from proofs.report import _claim_tex

    s = sp.Symbol("s", real=True)
    v = check_le(s * (1 - s), sp.Rational(1, 4), (s - sp.Rational(1, 2)) ** 2, {s: sp.Interval(0, 1)})
    assert v.relation == sp.Le(s * (1 - s), sp.Rational(1, 4), evaluate=False)
    assert _claim_tex(v) == f"${sp.latex(v.relation)}$"
    g = sp.sqrt(2) * z * sp.exp(-z**2 / 2)
    shown = _claim_tex(check_eq(g, g + 0 * z))
    assert "sqrt(2)" not in shown and "**" not in shown and r"\sqrt{2}" in shown
    limit = limit_is(1 / (1 + sp.exp(-z)), sp.oo, 1)
    assert r"\lim_{z \to \infty}" in _claim_tex(limit) and "->" not in _claim_tex(limit)
    # the caller's own words keep their text (no relation to print instead)
    assert check_eq(1, 1, claim="n = 1: S_1 = 1").relation is None


def test_range_certificates_name_the_function():
    from proofs.ranges import range_proof

    for act in ("sigmoid", "relu", "elu", "identity", "softplus", "tanh"):
        cert = range_proof(act).certificate
        assert "- (0)" not in cert and "(0)" not in cert, cert
        assert not re.search(r"\\lim_\{[^}]*\}\}? =", cert), cert  # a limit always of something
    assert r"\lim_{z \to \infty} \operatorname{ReLU}\left(z\right) = \infty" in range_proof("relu").certificate
    assert r"\operatorname{ELU}\left(z\right) + 1 =" in range_proof.__wrapped__("elu", ranges.RANGE_PROOFS["elu"]).certificate
