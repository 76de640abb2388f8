"""derive.define_activation / define_loss: a formula in one call becomes a catalogue entry that works everywhere.

The user activation here is softsign written as a formula, z/(1 + abs(z)): strictly increasing, so its range
(-1, 1) is proved automatically (f' > 0 certified, limits); mish is not monotone, so its range stays unknown
and pairings that need it are refused with that reason. Kernels are generated into a temporary cache
(DERIVE_CACHE_DIR); a second process defining the same formula imports them without running the generator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points

import mpmath
import numpy as np
import pytest
import sympy as sp

import derive
from derive import kernels
from derive.docs.latex import pairing_document
from derive.docs.pdf import compile_pdf
from derive.symbolic import catalogue
from derive.testing import assert_kernel_matches

SOFTSIGN = "z/(1 + abs(z))"
POISSONISH = "a - y*log(a)"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A temporary cache and catalogue: whatever is defined inside is gone afterwards."""
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    with catalogue.extended():
        yield tmp_path
    assert "usoftsign" not in catalogue.ACTIVATIONS and ("usoftsign", "quadratic") not in kernels._gen.PAIRS


def test_range_prover_is_installed():
    assert [ep.value for ep in entry_points(group="derive.ranges")] == ["proofs.user_ranges:prove_range"]


def test_user_activation_everywhere(scratch):
    entry = derive.define_activation("usoftsign", SOFTSIGN)
    assert entry.range == sp.Interval.open(-1, 1) and entry.unknown_range is None
    from derive.define import RANGE_PROOFS

    assert RANGE_PROOFS["usoftsign"].verdict.proved
    rows = {(a, lo): why for a, lo, why in derive.pairings()}
    assert rows[("usoftsign", "quadratic")] is None
    assert "usoftsign's range (-1, 1) is not inside (0, 1), which bce needs" in rows[("usoftsign", "bce")]
    with pytest.raises(derive.PairingError, match="range \\(-1, 1\\) is not inside"):
        kernels.get("usoftsign", "bce")
    d = derive.derive_pair("usoftsign", "quadratic")
    assert d.activation == "usoftsign" and d.delta is not None
    k = kernels.get("usoftsign", "quadratic")
    assert_kernel_matches(k.delta, "usoftsign", "quadratic", "delta", max_examples=15)
    assert_kernel_matches(k.loss, "usoftsign", "quadratic", "loss", max_examples=15)
    assert_kernel_matches(kernels.activation("usoftsign").derivative, "usoftsign", None, "derivative", max_examples=15)


def test_delta_against_the_textbook_cost(scratch):
    """dC/dz by mpmath.diff of (z/(1 + |z|) - y)^2/2 at 50 digits, vs the generated kernel."""
    derive.define_activation("usoftsign", SOFTSIGN)
    k = kernels.get("usoftsign", "quadratic")
    with mpmath.workdps(50):
        for v, t in [(-3.5, 0.25), (0.125, -1.0), (1e6, 0.5), (-1e-8, 0.0)]:
            want = mpmath.diff(lambda x: (x / (1 + abs(x)) - t) ** 2 / 2, mpmath.mpf(v))
            got = k.delta(np.array([[v]]), np.array([[t]]))[0, 0]
            assert abs(got - float(want)) <= 1e-14 * abs(float(want)) + 1e-300


def test_unknown_range_refuses_pairings_that_need_it(scratch):
    entry = derive.define_activation("umish", "z*tanh(softplus(z))")
    assert entry.unknown_range and entry.range == sp.S.Reals
    with pytest.raises(derive.PairingError, match="umish's range is unknown .* bce needs a in \\(0, 1\\)"):
        kernels.get("umish", "bce")
    assert kernels.get("umish", "huber").delta(np.array([[-50.0, 0.0, 50.0]]), np.zeros((1, 3))).shape == (1, 3)


def test_declared_range_is_proved(scratch):
    entry = derive.define_activation("ushift", "sigmoid(z)/2 + 1/4", range="(1/4, 3/4)")
    assert entry.range == sp.Interval.open(sp.Rational(1, 4), sp.Rational(3, 4))
    assert ("ushift", "bce") in kernels._gen.PAIRS  # (1/4, 3/4) lies in (0, 1)


def test_user_loss_domain_decides_validity(scratch):
    derive.define_loss("upoisson", POISSONISH, domain="(0, oo)")
    rows = {(a, lo): why for a, lo, why in derive.pairings()}
    assert rows[("softplus", "upoisson")] is None and rows[("sigmoid", "upoisson")] is None
    assert "relu's range [0, oo) is not inside (0, oo)" in rows[("relu", "upoisson")]
    z, y = np.array([[-800.0, 0.0, 30.0]]), np.array([[2.0, 1.0, 0.5]])  # softplus(-800) is 0: log softplus by rule
    got = kernels.get("softplus", "upoisson").loss(z, y)
    with mpmath.workdps(50):
        a = [mpmath.log1p(mpmath.exp(mpmath.mpf(v))) for v in z[0]]
        want = mpmath.fsum(ai - mpmath.mpf(t) * mpmath.log(ai) for ai, t in zip(a, y[0]))
    assert abs(got[0] - float(want)) <= 1e-13 * abs(float(want))
    assert_kernel_matches(kernels.get("sigmoid", "upoisson").delta, "sigmoid", "upoisson", "delta", max_examples=10)


def test_bad_definitions_are_refused(scratch):
    with pytest.raises(derive.FormulaError, match="unknown name 'x'"):
        derive.define_activation("ubad", "x + 1")
    with pytest.raises(ValueError, match="already in the catalogue"):
        derive.define_activation("tanh", "z")
    with pytest.raises(ValueError, match="reduction is 'sum' or 'mean'"):
        derive.define_loss("ubad", "(a - y)**2", reduction="max")
    with pytest.raises(ValueError, match="an interval is written"):
        derive.define_loss("ubad", "(a - y)**2", domain="0 < a")
    assert "ubad" not in catalogue.ACTIVATIONS and "ubad" not in catalogue.LOSSES


def test_latex_page(scratch, tmp_path):
    derive.define_activation("usoftsign", SOFTSIGN)
    doc = pairing_document("usoftsign", "quadratic")
    assert r"\left|" in doc and r"\end{document}" in doc
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    (tmp_path / "u.tex").write_text(doc)
    assert compile_pdf(tmp_path / "u.tex", progress=lambda line: None).exists()  # raises on a LaTeX error


SECOND = """
import sys, time
import numpy as np
import derive
from derive import kernels
start = time.perf_counter()
derive.define_activation("usoftsign", "z/(1 + abs(z))")
took = time.perf_counter() - start
print(kernels.get("usoftsign", "quadratic").loss(np.array([[3.0]]), np.array([[0.0]]))[0])
print("derive.compile.generate" in sys.modules, "sympy" in sys.modules, f"{took:.2f}")
"""


def test_second_process_loads_the_cache(scratch):
    derive.define_activation("usoftsign", SOFTSIGN)
    files = sorted(p.name for p in scratch.glob("kernels_*.py"))
    valid = [lo for a, lo in derive.valid_pairings() if a == "usoftsign"]
    # the activation's module, one per valid pairing (softsign's range (-1, 1) fits every loss on R)
    assert len(files) == 1 + len(valid) and len(valid) == sum(lo.domain == sp.S.Reals for lo in catalogue.LOSSES.values())
    env = {**os.environ, "DERIVE_CACHE_DIR": str(scratch)}
    run = subprocess.run([sys.executable, "-c", SECOND], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    value, flags = run.stdout.split("\n")[:2]
    assert float(value) == 0.28125  # (3/4)^2/2
    generator_imported, sympy_imported, _ = flags.split()
    assert generator_imported == "False"  # every kernel came from the cache
    assert sorted(p.name for p in scratch.glob("kernels_*.py")) == files  # nothing regenerated


@pytest.mark.parametrize("argv, code, text", [
    (["show", "--activation", "umish=z*tanh(softplus(z))", "umish", "quadratic"], 0, "tanh(softplus(z[j]))"),
    (["show", "--loss", "ul4=(a - y)**4", "identity", "ul4"], 0, "(a[j] - y[j])"),
    (["show", "--activation", "umish=z.__class__", "umish", "quadratic"], 2, "attribute access not allowed"),
    (["show", "--activation", "umish", "umish", "quadratic"], 2, "takes NAME=FORMULA"),
    (["show", "--activation", "tanh=z", "tanh", "quadratic"], 2, "already in the catalogue"),
])
def test_cli_definitions(scratch, capsys, argv, code, text):
    from derive.cli import main

    assert main(argv) == code
    out = capsys.readouterr()
    assert text in (out.out if code == 0 else out.err)


def test_a_definition_whose_kernels_fail_is_undone(scratch, monkeypatch):
    from derive.compile import generate

    def unprintable(act, loss):
        raise TypeError("no NumPy form for Foo: Foo(z)")

    monkeypatch.setattr(generate, "pairing_functions", unprintable)
    with pytest.raises(ValueError, match="uhinge is not defined: its kernels cannot be generated .*Foo"):
        derive.define_loss("uhinge", "max(0, 1 - y*a)")
    assert "uhinge" not in catalogue.LOSSES and "uhinge" not in kernels._gen.LOSSES
    assert not [key for key in kernels._gen.PAIRS if "uhinge" in key]


def test_hinge_from_max_has_kernels(scratch):
    """max(0, 1 - y a) is parsed as a Piecewise, so its derivative prints (Max's would be a Heaviside)."""
    derive.define_loss("uhinge", "max(0, 1 - y*a)")
    z, y = np.array([[-2.0, 0.5, 3.0]]), np.array([[1.0, -1.0, 1.0]])
    k = kernels.get("identity", "uhinge")
    assert k.loss(z, y)[0] == 3.0 + 1.5 + 0.0
    assert k.delta(z, y).tolist() == [[-1.0, 1.0, 0.0]]


USER_EXAMPLES = [("usoftsign", SOFTSIGN), ("umish", "z*tanh(softplus(z))"), ("ugauss", "exp(-z**2/2)")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, formula", USER_EXAMPLES, ids=[n for n, _ in USER_EXAMPLES])
def test_user_kernels_over_the_whole_float_range(scratch, name, formula, dtype):
    """Activation and derivative finite with no warning for every finite z; loss and delta never nan
    (as tests/test_properties_whole_range.py for the built-ins): the built-ins' rules make them so."""
    import warnings

    from hypothesis import given

    from derive.testing import strategies as sts

    derive.define_activation(name, formula)
    f, k = kernels.activation(name), kernels.get(name, "huber")

    @given(sts.activation_inputs(name, dtype, max_magnitude=None))
    def activation_finite(z):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.all(np.isfinite(f(z))) and np.all(np.isfinite(f.derivative(z))), z

    @given(sts.kernel_inputs(name, "huber", dtype, max_magnitude=None))
    def never_nan(inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow to inf is allowed; nan is not
            values, delta = k.loss(inputs["z"], inputs["y"]), k.delta(inputs["z"], inputs["y"])
        assert not np.any(np.isnan(values)) and not np.any(np.isnan(delta)), inputs

    activation_finite()
    never_nan()


def test_reciprocal_square_printed_as_two_divisions(scratch):
    """softsign' = 1/(1 + |z|)^2: (1 + |z|)^2 overflows at z = 1e155 (a warning, then 1/inf); 1/u/u does not."""
    import warnings

    z = np.array([1e155, -3e200])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        naive = 1 / (1 + np.abs(z)) ** 2
    assert RuntimeWarning in [w.category for w in caught] and naive.tolist() == [0.0, 0.0]
    derive.define_activation("usoftsign", SOFTSIGN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = kernels.activation("usoftsign").derivative(z)
    with mpmath.workdps(50):
        want = [1 / (1 + abs(mpmath.mpf(v))) ** 2 for v in z]
    assert got[0] == float(want[0]) and got[1] == 0.0 == float(want[1])  # 1e-310 (subnormal) and below


THIRD = """
import sys
import numpy as np
from derive import kernels
from derive.kernels import user
print(user.load_defined("usoftsign", "ul4"))
print(kernels.get("usoftsign", "ul4").loss(np.array([[3.0]]), np.array([[0.0]]))[0])
print(kernels.get("identity", "ul4").delta(np.array([[2.0]]), np.array([[1.0]]))[0, 0])
try:
    kernels.get("usoftsign", "bce")
except ValueError as err:
    print(str(err).split(";")[0])
print("sympy" in sys.modules)
"""


def test_a_process_without_sympy_loads_what_was_defined(scratch):
    derive.define_activation("usoftsign", SOFTSIGN)
    derive.define_loss("ul4", "(a - y)**4")
    env = {**os.environ, "DERIVE_CACHE_DIR": str(scratch)}
    run = subprocess.run([sys.executable, "-c", THIRD], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    names, loss, delta, refused, sympy_imported = run.stdout.strip().split("\n")
    assert names == "['usoftsign', 'ul4']" and float(loss) == 0.75**4 and float(delta) == 4.0
    assert refused == "invalid pairing usoftsign + bce: usoftsign's range (-1, 1) is not inside (0, 1), which bce needs"
    assert sympy_imported == "False"


def test_load_defined_names_what_is_there(scratch):
    derive.define_activation("usoftsign", SOFTSIGN)
    from derive.kernels import user

    with pytest.raises(KeyError, match="not defined in .*: unope; defined there: usoftsign"):
        user.load_defined("unope")


def test_piecewise_in_a_condition_prints(scratch):
    """hard sigmoid + huber: huber's |a - y| <= 1 of a Piecewise a is an ITE, printed as and/or of masks."""
    derive.define_activation("uhard", "min(max(z/6 + 1/2, 0), 1)")
    k = kernels.get("uhard", "huber")
    z, y = np.array([[-4.0, -3.0, 0.0, 1.5, 3.0, 9.0]]), np.array([[2.5, -1.0, 0.5, 0.0, -0.25, 1.0]])
    a = np.clip(z / 6 + 0.5, 0, 1)
    r = a - y
    want = np.where(np.abs(r) <= 1, r**2 / 2, np.abs(r) - 0.5).sum()
    assert k.loss(z, y)[0] == pytest.approx(want, rel=1e-15)
    assert_kernel_matches(k.delta, "uhard", "huber", "delta", max_examples=15)


def test_user_kernels_on_other_array_libraries(scratch):
    """The cached module also holds the functional (array API) kernels: JAX arrays, and PyTorch tensors that
    autograd records, run them (float32 in JAX by default)."""
    derive.define_activation("usoftsign", SOFTSIGN)
    z, y = np.array([[-3.0, 0.5, 1e6]]), np.array([[0.25, -1.0, 0.5]])
    k, f = kernels.get("usoftsign", "huber"), kernels.activation("usoftsign")
    want_loss, want_delta = k.loss(z, y), k.delta(z, y)
    jnp = pytest.importorskip("jax.numpy")
    assert np.allclose(np.asarray(k.loss(jnp.asarray(z), jnp.asarray(y))), want_loss, rtol=1e-6, atol=0)
    assert np.allclose(np.asarray(f.derivative(jnp.asarray(z))), 1 / (1 + np.abs(z)) ** 2, rtol=1e-6, atol=0)
    torch = pytest.importorskip("torch")
    zt = torch.tensor(z, requires_grad=True)
    loss = k.loss(zt, torch.tensor(y))
    assert np.allclose(loss.detach().numpy(), want_loss, rtol=1e-15, atol=0)
    assert np.allclose(k.delta(zt, torch.tensor(y)).detach().numpy(), want_delta, rtol=1e-15, atol=0)
