"""A new activation is one catalogue line plus its range proof, and then works everywhere.

mish(z) = z tanh(softplus(z)) is added here, in a temporary catalogue, without touching any
other file: its derivations, its kernels (generated in the test, checked against the 50-digit
mpmath oracle), its range theorem (proved by the proofs checker and interval arithmetic) and
its LaTeX document.

The range proof. With w = e^z, mish'(z) = w (1 + w) k(z) / ((1 + w)^2 + 1)^2 where
k(z) = 4z + w^2 + 3w + 3 + 1/(1 + w), and k'(z) = (4 + 7w + 4w^2)/(1 + w)^2 + 2w^2 + 3w > 0;
k runs from -oo to oo, so mish' changes sign once, at the root z* of k: mish decreases
before z* and increases after, and min mish = mish(z*), enclosed by interval arithmetic.
"""

from __future__ import annotations

import shutil
import subprocess

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy import Interval, exp, oo

import derive
from derive.compile import generate as codegen
from derive.docs.latex import pairing_document
from derive.symbolic import catalogue
from derive.symbolic.catalogue import Activation, extended
from derive.symbolic.functions import expand_named, softplus
from derive.symbolic.symbols import j
from derive.symbolic.symbols import y as ys
from derive.symbolic.symbols import z as zs
from derive.testing import assert_kernel_matches
from proofs.certificate import Proof, Verdict, all_proved
from proofs.checker import check_eq, check_lt
from proofs.enclosure import bracket_root, enclose, interval_function
from proofs.extrema import ENCLOSURE_TOL
from proofs.given import by_fact
from proofs.limits import REALS, derivative, limit_is, z
from proofs.ranges import End, RangeProof, invalidity_witness, range_proof

# min mish, rounded down to 30 digits (enclosed below)
MISH_MIN = sp.Float("-0.308843413017250406628760229042", 30)

# The one catalogue line (its derivative: None, SymPy's d/dz of f).
MISH = Activation("mish", lambda z: z * sp.tanh(softplus(z)), None, Interval(MISH_MIN, oo))


def mish_minimum(claimed=MISH_MIN) -> Proof:
    """min mish in [claimed, claimed + 1e-29], attained at the one root z* of k (module docstring)."""
    w = exp(z)
    k = 4 * z + w**2 + 3 * w + 3 + 1 / (1 + w)
    factor = w * (1 + w) / ((1 + w) ** 2 + 1) ** 2
    lo, hi = bracket_root(interval_function(k, z), -1.19)
    box = enclose(interval_function(MISH.f(z), z), lo, hi)
    with mpmath.workprec(400):
        v, tol = mpmath.mpf(claimed._mpf_), mpmath.mpf(ENCLOSURE_TOL.p) / ENCLOSURE_TOL.q
        below = v <= box.lo and box.hi - v < tol
    k_sign = by_fact("monotonicity", "k < 0 before its one root z*, k > 0 after", [
        check_lt(0, sp.diff(k, z), (4 + 7 * w + 4 * w**2) / (1 + w) ** 2 + 2 * w**2 + 3 * w, REALS,
                 claim="k' > 0 on R"),
        limit_is(k, -oo, -oo),
        limit_is(k, oo, oo),
        by_fact("continuity", "k has its root in the bracket", [
            Verdict("root bracket", "proved", f"k changes sign on [{lo}, {hi}] (certified interval signs)")]),
    ])
    steps = [
        by_fact("monotonicity", "mish decreases on (-oo, z*], increases on [z*, oo): min mish = mish(z*)", [
            check_eq(derivative(MISH), factor * k, claim="mish' = w (1 + w) k / ((1 + w)^2 + 1)^2, w = e^z"),
            check_lt(0, factor, factor, REALS, claim="w (1 + w) / ((1 + w)^2 + 1)^2 > 0: mish' has the sign of k"),
            k_sign,
        ]),
        Verdict("the claimed minimum is a lower bound within 1e-29", "proved" if below else "not proved",
                f"{sp.sstr(claimed)} <= {box.show(32)}"),
    ]
    return Proof(r"\min \operatorname{mish} \in " + box.latex(25), "mish' = w(1+w)k/((1+w)^2+1)^2, k' > 0",
                 all_proved("min mish enclosed", steps))


MISH_RANGE = RangeProof(End(MISH_MIN, True, special=mish_minimum), End(oo))


@pytest.fixture
def with_mish():
    with extended(activations=[MISH]):
        yield


def _call(fn):
    """A generated kernel f(*arrays, shape, dtype) as the caller's fn(*arrays)."""
    def call(*arrays):
        return fn(*arrays, np.broadcast_shapes(*(a.shape for a in arrays)), np.result_type(*arrays))
    return call


def test_the_entry_is_in_the_catalogue_only_inside_the_block():
    with extended(activations=[MISH]):
        rows = {(a, lo): why for a, lo, why in derive.pairings()}
        assert rows[("mish", "quadratic")] is None and rows[("mish", "huber")] is None
        assert "mish's range [-0.308843, oo) is not inside (0, 1)" in rows[("mish", "bce")]
        assert derive.derive_pair("mish", "quadratic").activation == "mish"
    assert "mish" not in catalogue.ACTIVATIONS and codegen.generate.cache_info().currsize == 0
    with pytest.raises(derive.UnknownNameError, match="mish"):
        derive.derive_pair("mish", "quadratic")


@pytest.mark.parametrize("bad", ["mish", "mi sh", "import", "a;b", 3])
def test_a_name_taken_or_not_an_identifier_is_refused(bad):
    entry = Activation(bad, MISH.f, None, MISH.range)
    with pytest.raises(ValueError, match="already in the catalogue|not allowed"):
        with extended(activations=[MISH, entry]):
            pass
    assert "mish" not in catalogue.ACTIVATIONS


def test_derivation_is_the_chain_rule_of_the_definition(with_mish):
    """delta of mish + quadratic equals d/dz of the textbook cost (mpmath.diff, 50 digits) at points."""
    d = derive.derive_pair("mish", "quadratic")
    t, u = sp.symbols("t u", real=True)
    derived = expand_named(d.in_z(d.delta).subs({zs[j]: t, ys[j]: u}))  # named functions by definition
    delta, wrong = (sp.lambdify((t, u), e, "mpmath") for e in (derived, derived * (1 + t / 7)))
    with mpmath.workdps(50):
        def cost(v, target):
            return (v * mpmath.tanh(mpmath.log(1 + mpmath.exp(v))) - target) ** 2 / 2
        for v, target in [(-3, 0.5), (-1.19, -1), (0.25, 2), (4, 0)]:
            want = mpmath.diff(lambda x: cost(x, target), v)
            assert abs(delta(v, target) - want) <= mpmath.mpf(10) ** -40 * abs(want)
            assert abs(wrong(v, target) - want) > mpmath.mpf(10) ** -3 * abs(want)


@pytest.fixture(scope="module")
def mish_kernels():
    with extended(activations=[MISH]):
        source = codegen.generate()
    namespace = {}
    exec(compile(source, "<generated with mish>", "exec"), namespace)  # our own generator's output
    return namespace


@pytest.mark.parametrize("loss", ["quadratic", "huber"])
@pytest.mark.parametrize("quantity", ["loss", "delta"])
def test_generated_kernels_match_the_oracle(mish_kernels, with_mish, loss, quantity):
    assert ("mish", loss) in mish_kernels["PAIRS"] and ("mish", "bce") in mish_kernels["INVALID"]
    fn = mish_kernels[f"{quantity}__mish__{loss}"]
    assert_kernel_matches(_call(fn), "mish", loss, quantity, max_examples=15)


@pytest.mark.parametrize("quantity", ["activation", "derivative"])
def test_generated_activation_matches_the_oracle(mish_kernels, with_mish, quantity):
    f, df = mish_kernels["ACTIVATIONS"]["mish"]
    assert_kernel_matches(_call(f if quantity == "activation" else df), "mish", None, quantity, max_examples=15)


def test_range_theorem_is_proved(with_mish):
    proof = range_proof(MISH, MISH_RANGE)
    assert proof.verdict.proved, proof.verdict
    assert "m in [" in proof.verdict.claim and "0.3088434130172504066287602" in proof.statement.replace(r"\ ", "")


def test_a_wrong_minimum_is_not_proved(with_mish):
    wrong = MISH_MIN + sp.Rational(1, 10**6)  # above the true minimum: not a lower bound
    assert not mish_minimum(sp.Float(wrong, 30)).verdict.proved


def test_invalid_with_bce_has_a_witness(with_mish):
    assert invalidity_witness(MISH, "bce").proved  # mish(0) = 0 is not in (0, 1)


def test_latex_document(with_mish, tmp_path):
    doc = pairing_document("mish", "quadratic")
    assert r"\tanh" in doc and "softplus" in doc and r"\end{document}" in doc
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    (tmp_path / "mish.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "mish.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_a_kernel_off_by_a_relative_1e_9_fails_the_check(mish_kernels, with_mish):
    from derive.testing import KernelMismatch

    good = _call(mish_kernels["delta__mish__quadratic"])
    with pytest.raises(KernelMismatch):
        assert_kernel_matches(lambda z, y: good(z, y) * (1 + 1e-9), "mish", "quadratic", "delta", max_examples=5)
