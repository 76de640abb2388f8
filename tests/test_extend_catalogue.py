"""A new activation is one catalogue line plus its range proof, and then works everywhere.

arctan(z) is added here, in a temporary catalogue, without touching any other file: its
derivations, its kernels (generated in the test, checked against the 50-digit mpmath oracle),
its range theorem (proved by the proofs checker) and its LaTeX document. (mish was the example
here until it joined the catalogue: its range proof is ``proofs.extrema.mish_minimum``.)

The range proof: arctan(z) + pi/2 > 0 and pi/2 - arctan(z) > 0 are certificates the checker
reads from arctan's facts (increasing, from -pi/2 to pi/2); the limits at -+oo make the open
ends tight, and continuity gives every value between.
"""

from __future__ import annotations

import shutil
import subprocess

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy import Interval, atan, pi

import derive
from derive.compile import generate as codegen
from derive.docs.latex import pairing_document
from derive.symbolic import catalogue
from derive.symbolic.catalogue import Activation, extended
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import j
from derive.symbolic.symbols import y as ys
from derive.symbolic.symbols import z as zs
from derive.testing import assert_kernel_matches
from proofs.limits import z
from proofs.ranges import End, RangeProof, invalidity_witness, range_proof

# The one catalogue line (its derivative through z: 1/(1 + z^2)).
ARCTAN = Activation("arctan", atan, lambda a, t: 1 / (1 + t**2), Interval.open(-pi / 2, pi / 2))

ARCTAN_RANGE = RangeProof(End(-pi / 2, certificate=atan(z) + pi / 2), End(pi / 2, certificate=pi / 2 - atan(z)))


@pytest.fixture
def with_arctan():
    with extended(activations=[ARCTAN]):
        yield


def _call(fn):
    """A generated kernel f(*arrays, shape, dtype) as the caller's fn(*arrays)."""
    def call(*arrays):
        return fn(*arrays, np.broadcast_shapes(*(a.shape for a in arrays)), np.result_type(*arrays))
    return call


def test_the_entry_is_in_the_catalogue_only_inside_the_block():
    with extended(activations=[ARCTAN]):
        rows = {(a, lo): why for a, lo, why in derive.pairings()}
        assert rows[("arctan", "quadratic")] is None and rows[("arctan", "huber")] is None
        assert "arctan's range (-1.57080, 1.57080) is not inside (0, 1)" in rows[("arctan", "bce")]
        assert derive.derive_pair("arctan", "quadratic").activation == "arctan"
    assert "arctan" not in catalogue.ACTIVATIONS and codegen.generate.cache_info().currsize == 0
    with pytest.raises(derive.UnknownNameError, match="arctan"):
        derive.derive_pair("arctan", "quadratic")


@pytest.mark.parametrize("bad", ["arctan", "mi sh", "import", "a;b", 3])
def test_a_name_taken_or_not_an_identifier_is_refused(bad):
    entry = Activation(bad, ARCTAN.f, None, ARCTAN.range)
    with pytest.raises(ValueError, match="already in the catalogue|not allowed"):
        with extended(activations=[ARCTAN, entry]):
            pass
    assert "arctan" not in catalogue.ACTIVATIONS


def test_derivation_is_the_chain_rule_of_the_definition(with_arctan):
    """delta of arctan + quadratic equals d/dz of the textbook cost (mpmath.diff, 50 digits) at points."""
    d = derive.derive_pair("arctan", "quadratic")
    t, u = sp.symbols("t u", real=True)
    derived = expand_named(d.in_z(d.delta).subs({zs[j]: t, ys[j]: u}))  # named functions by definition
    delta, wrong = (sp.lambdify((t, u), e, "mpmath") for e in (derived, derived * (1 + t / 7)))
    with mpmath.workdps(50):
        def cost(v, target):
            return (mpmath.atan(v) - target) ** 2 / 2
        for v, target in [(-3, 0.5), (-1.5, -1), (0.25, 2), (4, 0)]:
            want = mpmath.diff(lambda x: cost(x, target), v)
            assert abs(delta(v, target) - want) <= mpmath.mpf(10) ** -40 * abs(want)
            assert abs(wrong(v, target) - want) > mpmath.mpf(10) ** -3 * abs(want)


@pytest.fixture(scope="module")
def arctan_kernels():
    with extended(activations=[ARCTAN]):
        source = codegen.generate()
    namespace = {}
    exec(compile(source, "<generated with arctan>", "exec"), namespace)  # our own generator's output
    return namespace


@pytest.mark.parametrize("loss", ["quadratic", "huber"])
@pytest.mark.parametrize("quantity", ["loss", "delta"])
def test_generated_kernels_match_the_oracle(arctan_kernels, with_arctan, loss, quantity):
    assert ("arctan", loss) in arctan_kernels["PAIRS"] and ("arctan", "bce") in arctan_kernels["INVALID"]
    fn = arctan_kernels[f"{quantity}__arctan__{loss}"]
    assert_kernel_matches(_call(fn), "arctan", loss, quantity, max_examples=15)


@pytest.mark.parametrize("quantity", ["activation", "derivative"])
def test_generated_activation_matches_the_oracle(arctan_kernels, with_arctan, quantity):
    f, df = arctan_kernels["ACTIVATIONS"]["arctan"]
    assert_kernel_matches(_call(f if quantity == "activation" else df), "arctan", None, quantity, max_examples=15)


def test_range_theorem_is_proved(with_arctan):
    proof = range_proof(ARCTAN, ARCTAN_RANGE)
    assert proof.verdict.proved, proof.verdict
    assert "as the catalogue declares" in proof.verdict.claim and r"\frac{\pi}{2}" in proof.statement


def test_a_wrong_range_is_not_proved(with_arctan):
    tight = End(-pi / 2, certificate=atan(z) + pi / 2)
    for wrong in (RangeProof(End(-sp.S.One, certificate=atan(z) + 1), ARCTAN_RANGE.upper),  # -1 is not a bound
                  RangeProof(End(-pi, certificate=atan(z) + pi), ARCTAN_RANGE.upper),  # a bound, not the limit
                  RangeProof(tight, End(pi / 2, True, pi / 2 - atan(z), at=sp.S.Zero))):  # pi/2 is not attained
        assert not range_proof(ARCTAN, wrong).verdict.proved


def test_invalid_with_bce_has_a_witness(with_arctan):
    assert invalidity_witness(ARCTAN, "bce").proved  # arctan(0) = 0 is not in (0, 1)


def test_latex_document(with_arctan, tmp_path):
    doc = pairing_document("arctan", "quadratic")
    assert r"\operatorname{atan}" in doc and r"\end{document}" in doc
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    (tmp_path / "arctan.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "arctan.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_a_kernel_off_by_a_relative_1e_9_fails_the_check(arctan_kernels, with_arctan):
    from derive.testing import KernelMismatch

    good = _call(arctan_kernels["delta__arctan__quadratic"])
    with pytest.raises(KernelMismatch):
        assert_kernel_matches(lambda z, y: good(z, y) * (1 + 1e-9), "arctan", "quadratic", "delta", max_examples=5)
