"""derive.symbolic.formula: formulas parsed against a whitelist into SymPy nodes, never evaluated.

Every hostile formula is refused quickly with a FormulaError that shows the formula, a caret and what is
allowed; nothing runs: eval/exec/sympify/parse_expr/__import__ are made to fail while parsing.
"""

from __future__ import annotations

import builtins
import time

import pytest
import sympy as sp

from derive.errors import FormulaError
from derive.symbolic.formula import parse
from derive.symbolic.functions import sigmoid, softplus

z, alpha = sp.Symbol("z", real=True), sp.Symbol("alpha", real=True)
a, y = sp.Symbol("a", real=True), sp.Symbol("y", real=True)

HOSTILE = [
    ("__import__('os').system('touch /tmp/derive-pwned')", "only named functions"),
    ("().__class__", "attribute access"),
    ("z.__class__", "attribute access"),
    ("z.real", "attribute access"),
    ("[z for z in ()]", "comprehensions"),
    ("(z for z in ())", "comprehensions"),
    ("lambda: 1", "lambdas"),
    ("(lambda: 1)()", "only named functions"),
    ("'a'", "strings"),
    ("f'{z}'", "strings"),
    ("b'x'", "not a number"),
    ("1j", "not a number"),
    ("True", "not a number"),
    ("z[0]", "subscripts"),
    ("{}", "dicts"),
    ("z**10**10", "exponent beyond"),
    ("9**9**9", "exact power beyond"),
    ("((z**64)**64)**64", "exponent beyond"),
    ("2**0.5**0.5", "power beyond"),
    ("(" * 10000 + "z" + ")" * 10000, "characters"),
    ("(" * 300 + "z" + ")" * 300, "parentheses"),
    ("-" * 900 + "z", "too deep"),
    ("exp(" * 60 + "z" + ")" * 60, "too deep"),
    ("z+" * 499 + "z", "too deep or too long"),
    ("z" * 1_000_000, "characters"),
    ("exp(z, base=2)", "keyword arguments"),
    ("exp(*z)", "starred"),
    ("exp(z, z)", "exp takes 1 argument"),
    ("max(z)", "at least 2"),
    ("unknown_name + z", "unknown name 'unknown_name'"),
    ("open(z)", "unknown function 'open'"),
    ("getattr(z, 'x')", "unknown function 'getattr'"),
    ("exp", "a function: call it"),
    ("(z", "never closed"),
    ("z)", "not a formula"),
    ("z +", "not a formula"),
    ("", "empty"),
    ("z if z else 1", "conditional"),
    ("z @ z", "MatMult"),
    ("z // 2", "FloorDiv"),
    ("z and 1", "and/or"),
    ("z < 1", "comparisons outside where"),
    ("where(z, 1, 0)", "a comparison"),
    ("where(0 < z < 1, 1, 0)", "one comparison"),
    ("where(z == 0, 1, 0)", "one comparison"),
    ("(z := 1)", "assignment"),
    ("z; 1", "not a formula"),
    ("import os", "not a formula"),
    ("z\n+ __import__('os')", "not a formula"),
    ("1/0", "division by zero"),
    ("1e999 * z", "finite"),
    ("alpha * z", "unknown name 'alpha'"),  # not declared here
    (b"z", "a string"),
]


@pytest.fixture
def nothing_runs(monkeypatch):
    """eval, exec, __import__ (of anything new), sympify and parse_expr fail if called while parsing."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"called with {args!r}")

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "__import__", lambda name, *r, **k: refuse(name) if name == "os" else real_import(name, *r, **k))
    monkeypatch.setattr(sp, "sympify", refuse)
    monkeypatch.setattr(sp.parsing.sympy_parser, "parse_expr", refuse)


@pytest.mark.parametrize("text, why", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formula_refused_quickly_and_clearly(text, why, nothing_runs):
    start = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        parse(text, ["z"])
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert why in message
    assert isinstance(info.value, ValueError) and "^" in message
    if isinstance(text, str) and text.strip():
        assert text.strip()[:40] in message and "allowed: numbers" in message


def test_nothing_executed():
    import os.path

    assert not os.path.exists("/tmp/derive-pwned")


def test_caret_under_the_place():
    with pytest.raises(FormulaError) as info:
        parse("z + exp(z, base=2)", ["z"])
    _, shown, caret, *_ = str(info.value).split("\n")
    assert shown.strip() == "z + exp(z, base=2)" and shown[caret.index("^")] == "2"


@pytest.mark.parametrize("text, want", [
    ("z*tanh(softplus(z))", z * sp.tanh(softplus(z))),
    ("0.1*z**2 - 3", sp.Rational(1, 10) * z**2 - 3),  # exact: 0.1 is 1/10
    ("1/(1 + exp(-z))", 1 / (1 + sp.exp(-z))),
    ("-z", -z),
    ("+z**(1/3)", z ** sp.Rational(1, 3)),
    ("max(0, z)", sp.Piecewise((0, z <= 0), (z, True))),
    ("abs(z) + sigmoid(z)", sp.Abs(z) + sigmoid(z)),
    ("where(z > 0, z, alpha*expm1(z))", sp.Piecewise((z, z > 0), (alpha * (sp.exp(z) - 1), True))),
    ("where(z <= pi, 1, 2**10)", sp.Piecewise((1, z <= sp.pi), (1024, True))),
])
def test_formulas_built_as_sympy(text, want, nothing_runs):
    assert parse(text, ["z"], ["alpha"]) == want


def test_loss_variables_and_parameters():
    assert parse("  a - y*log(a)  ", ["a", "y"]) == a - y * sp.log(a)
    with pytest.raises(FormulaError, match="unknown name 'z'"):
        parse("z", ["a", "y"])
