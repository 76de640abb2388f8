"""The kernels module is what the generator makes today, from the catalogue, without SymPy at run time."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.kernels import _generated as _gen
from derive.compile import generate as codegen
from derive.compile.patterns import signs_out as _signs_out
from derive.symbolic.catalogue import ACTIVATIONS, pairings, valid_pairings
from derive.compile.rewrite import Quotient, copysign
from derive.symbolic.functions import NAMED
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, j, y, z

A, Yj, Zj = sp.symbols("a y z", real=True)


@pytest.fixture(scope="module")
def source():
    return codegen.generate()


def test_committed_kernels_are_what_the_generator_makes(source):
    assert codegen.TARGET.read_text() == source, "derive/kernels.py is stale: run python -m derive.compile"


def test_generated_source_is_valid_python_without_sympy(source):
    tree = ast.parse(source)
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "derive.kernels"}
    assert "sympy" not in source.split('"""', 2)[2].replace("SymPy", "")


def test_one_generated_loss_and_delta_per_valid_pairing(source):
    tree = ast.parse(source)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for act, lo in valid_pairings():
        assert f"loss__{act}__{lo}" in names and f"delta__{act}__{lo}" in names
    assert set(_gen.PAIRS) == set(valid_pairings())


def test_invalid_table_carries_the_catalogue_reasons():
    want = {(a, lo): why for a, lo, why in pairings() if why is not None}
    assert set(_gen.INVALID) == set(want)
    for key, why in want.items():
        assert _gen.INVALID[key].endswith(why)


def test_activation_table_covers_the_catalogue():
    assert list(_gen.ACTIVATIONS) == list(ACTIVATIONS)


def test_every_kernel_docstring_is_its_stabilised_derivation(source):
    tree = ast.parse(source)
    docs = {node.name: ast.get_docstring(node) for node in tree.body if isinstance(node, ast.FunctionDef)}
    for act, lo in valid_pairings():
        derived, evaluated = docs[f"delta__{act}__{lo}"].split("\n\nevaluated as: ")
        # the form the printer evaluates: the stabilised delta with numbers pulled out of row sums and clips
        # (RowSum(-y) -> -RowSum(y), softmax + poisson), as function_source shows it
        assert evaluated == sp.sstr(_signs_out(codegen.delta_expr(act, lo)))
        d = derive_pair(act, lo)  # the raw derivation, in the unit's own a, y, z
        assert derived.startswith(f"dC/dz = {sp.sstr(d.delta.subs({a[j]: A, y[j]: Yj, z[j]: Zj}))},  a = ")


def test_emitter_writes_into_buffers_and_matches_numpy():
    Z, Y = codegen.Z, codegen.Y
    expr = (Z - Y) ** 2 * sp.exp(-Z) + 3 * Z
    src = codegen.function_source("f", "z, y, shape, dtype", expr)
    assert "out=" in src and src.count("empty(shape, dtype)") <= 3  # one buffer per live intermediate
    ns = {"np": np}
    exec(src, ns)
    z, y = np.linspace(-2, 2, 7), np.linspace(0, 1, 7)
    expected = (z - y) ** 2 * np.exp(-z) + 3 * z
    np.testing.assert_allclose(ns["f"](z, y, z.shape, z.dtype), expected, rtol=1e-15)
    # the caller's out (a view into a larger result) is the result's buffer; buffers come from empty
    made = []
    result = np.full((2, 7), -1.0)
    got = ns["f"](z, y, z.shape, z.dtype, empty=lambda s, d: made.append(s) or np.empty(s, d), out=result[1])
    assert got.base is result and np.array_equal(result[1], got) and (result[0] == -1).all()
    np.testing.assert_allclose(result[1], expected, rtol=1e-15)
    assert made and all(s == z.shape for s in made)


def test_emitter_subtracts_exact_terms_first():
    # (1 - y) - s, not (1 - s) - y: with s = 1e-20 and y = 1 the second gives 0
    Z, Y = codegen.Z, codegen.Y
    src = codegen.function_source("f", "z, y, shape, dtype", 1 - Y - sp.exp(Z))
    ns = {"np": np}
    exec(src, ns)
    z = np.array([np.log(1e-20)])
    assert ns["f"](z, np.array([1.0]), z.shape, z.dtype)[0] == pytest.approx(-1e-20, rel=1e-12)


def test_generator_command_rewrites_the_file(tmp_path, monkeypatch):
    target = tmp_path / "kernels.py"
    monkeypatch.setattr(codegen, "TARGET", target)
    assert codegen.main([]) == 0
    assert target.read_text() == codegen.TARGET.read_text()
    assert target.read_text().startswith('"""Kernel functions and tables, GENERATED')


def test_import_kernels_costs_little_and_imports_no_sympy():
    code = (
        "import sys, time; t = time.perf_counter(); import derive.kernels; "
        "print(time.perf_counter() - t, 'sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    seconds, has_sympy = out.stdout.split()
    assert has_sympy == "False"
    assert "sympy" not in out.stderr  # -X importtime lists every module imported


# --- copysign on the sign bits ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.longdouble], ids=lambda d: np.dtype(d).name)
def test_copysign_on_bits_matches_numpy_for_magnitudes(dtype):
    from derive.kernels import bits as rt

    tiny = np.finfo(dtype).smallest_subnormal
    p = np.array([0.0, tiny, 1e-30, 0.5, 1.0, np.finfo(dtype).max, np.inf] * 2, dtype)
    x = np.array([1.0, -1.0, -0.0, 0.0, -np.inf, np.inf, -tiny, tiny, -3.0, 2.0, -0.0, -5.0, 7.0, -1e-300], dtype)
    def same(a, b):  # values and sign bits (long double's padding bytes are not compared)
        return a.dtype == b.dtype and np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))

    want = np.copysign(p, x)
    got = rt.copysign(p.copy(), x, out=np.empty_like(p), scratch=np.empty_like(p))
    assert same(got, want)
    # in place on p, x broadcast along rows, and x of another dtype (the NumPy fallback)
    rows = np.broadcast_to(x, (3, x.size))
    q = np.broadcast_to(p, (3, p.size)).copy()
    rt.copysign(q, rows, out=q, scratch=np.empty_like(q))
    assert same(q, np.broadcast_to(want, (3, x.size)))
    mixed = rt.copysign(p.copy(), x.astype(np.float16), out=np.empty_like(p), scratch=np.empty_like(p))
    assert same(mixed, np.copysign(p, x.astype(np.float16)).astype(dtype))


def test_every_copysign_the_rules_make_has_a_nonnegative_magnitude():
    # the bitwise copysign ORs the sign in: it needs p's sign bit clear
    found = 0
    for act, lo in valid_pairings():
        for expr in (codegen.delta_expr(act, lo), codegen.loss_expr(act, lo)):
            for c in expr.atoms(copysign):
                plain = c.args[0].replace(lambda e: isinstance(e, Quotient), lambda e: e.args[0] / e.args[1])
                assert plain.is_nonnegative, (act, lo, c)
                found += 1
    assert found >= 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.longdouble], ids=lambda d: np.dtype(d).name)
def test_negative_abs_on_bits_matches_numpy(dtype):
    from derive.kernels import bits as rt

    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([0.0, -0.0, tiny, -tiny, 1.5, -1.5, np.inf, -np.inf, np.finfo(dtype).max, 745.0], dtype)
    got = rt.negative_abs(x, out=np.empty_like(x))  # float32/64: the sign bit set on the bits
    assert got.dtype == x.dtype and np.array_equal(got, -np.abs(x)) and np.signbit(got).all()
    half = x[:8].astype(np.float16)  # another dtype in: np.abs, np.negative
    got = rt.negative_abs(half, out=np.empty_like(x[:8]))
    assert got.dtype == x.dtype and np.array_equal(got, -np.abs(half).astype(dtype)) and np.signbit(got).all()


@pytest.mark.parametrize("name", list(NAMED))
def test_every_named_function_prints_through_its_lowering_and_matches_mpmath(name):
    """A named function's class alone makes it printable (its lowering, or a printer primitive: Phi by ndtr),
    and the kernel agrees with the class's oracle form in mpmath; the oracle form is its definition (or ncdf)."""
    import mpmath

    from derive.compile.rewrite import stabilize
    from derive.symbolic.functions import expand_named

    cls = NAMED[name]
    lowered = stabilize(cls(codegen.Z))
    assert not any(isinstance(f, tuple(v for v in NAMED.values() if v.lowering(codegen.Z) is not None))
                   for f in sp.preorder_traversal(lowered))
    namespace = {}
    exec(_PREAMBLE + codegen.function_source("f", "z, shape, dtype", lowered), namespace)
    z = np.array([-30.0, -2.5, -1e-3, 0.0, 0.7, 4.0, 30.0])
    got = namespace["f"](z, z.shape, z.dtype)
    t = sp.Symbol("t", real=True)
    exact = sp.lambdify(t, expand_named(cls.oracle(t)), [{"ncdf": mpmath.ncdf}, "mpmath"])  # its oracle form
    with mpmath.workdps(60):
        for g, v in zip(got, z):
            want = exact(mpmath.mpf(v))
            assert abs(g - want) <= 1e-12 * abs(want) + 1e-300, (name, v, g, want)  # the float64 rtol of the suite


_PREAMBLE = "import numpy as np\nfrom derive.kernels import bits, rows\n"
