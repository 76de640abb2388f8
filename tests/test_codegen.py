"""The kernels module is what the generator makes today, from the catalogue, without SymPy at run time."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive import codegen, kernels
from derive.catalogue import ACTIVATIONS, pairings, valid_pairings


@pytest.fixture(scope="module")
def source():
    return codegen.generate()


def test_committed_kernels_are_what_the_generator_makes(source):
    assert codegen.TARGET.read_text() == source, "derive/kernels.py is stale: run python -m derive.codegen"


def test_generated_source_is_valid_python_without_sympy(source):
    tree = ast.parse(source)
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "scipy.special", "derive"}
    assert "sympy" not in source.split('"""', 2)[2].replace("SymPy", "")


def test_one_generated_loss_and_delta_per_valid_pairing(source):
    tree = ast.parse(source)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for act, lo in valid_pairings():
        assert f"loss__{act}__{lo}" in names and f"delta__{act}__{lo}" in names
    assert set(kernels.PAIRS) == set(valid_pairings())


def test_invalid_table_carries_the_catalogue_reasons():
    want = {(a, lo): why for a, lo, why in pairings() if why is not None}
    assert set(kernels.INVALID) == set(want)
    for key, why in want.items():
        assert kernels.INVALID[key].endswith(why)


def test_activation_table_covers_the_catalogue():
    assert list(kernels.ACTIVATIONS) == list(ACTIVATIONS)


def test_every_kernel_docstring_is_its_stabilised_derivation(source):
    tree = ast.parse(source)
    docs = {node.name: ast.get_docstring(node) for node in tree.body if isinstance(node, ast.FunctionDef)}
    for act, lo in valid_pairings():
        assert docs[f"delta__{act}__{lo}"] == sp.sstr(codegen.delta_expr(act, lo))


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
    assert target.read_text().startswith('"""Numeric kernels, GENERATED')


def test_import_kernels_costs_little_and_imports_no_sympy():
    code = (
        "import sys, time; t = time.perf_counter(); import derive.kernels; "
        "print(time.perf_counter() - t, 'sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    seconds, has_sympy = out.stdout.split()
    assert has_sympy == "False"
    assert "sympy" not in out.stderr  # -X importtime lists every module imported
