"""``derive latex --param NAME=VALUE`` and the LaTeX of a parametric derivation: the steps keep the
parameter's symbol; a value given is shown, with the result at it; a value outside the domain is refused."""

from __future__ import annotations

import pytest

from derive.cli import main
from derive.docs.latex import pairing_document
from test_latex import compile_tex, flat, require_tools

ELU_SYMBOL, ELU_HALF = r"\operatorname{ELU}_{\alpha}", r"\operatorname{ELU}_{\frac{1}{2}}"


def _latex(argv, capsys) -> tuple[int, str, str]:
    code = main(["latex", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_without_a_value_the_symbol_is_kept_everywhere(capsys):
    code, doc, _ = _latex(["elu", "quadratic"], capsys)
    assert code == 0 and doc == pairing_document("elu", "quadratic")
    assert r"$\alpha \in \left(0, \infty\right)$, default $1$" in doc
    # the result written in z keeps alpha too (not ELU at the default alpha = 1)
    assert ELU_SYMBOL in doc.split(r"\paragraph{Result.}")[1] and r"\operatorname{ELU}_{1}" not in doc
    assert ", given $" not in doc and "At $" not in doc


def test_a_value_given_is_shown_and_the_result_evaluated_there(capsys):
    code, doc, _ = _latex(["elu", "quadratic", "--param", "alpha=0.5"], capsys)
    assert code == 0 and doc == pairing_document("elu", "quadratic", alpha=0.5)
    steps, result = doc.split(r"\paragraph{Result.}")
    assert r"$\alpha \in \left(0, \infty\right)$, given $0.5$" in steps
    assert ELU_SYMBOL in steps and ELU_HALF not in steps  # the steps keep the symbol
    at = result.split(r"At $\alpha = 0.5$:")[1]
    assert ELU_HALF in at and r"{a^{L}_{j}} + \frac{1}{2}" in at and r"\alpha" not in at


def test_a_decimal_value_is_the_decimal_written_not_its_binary_float(capsys):
    code, doc, _ = _latex(["leaky_relu", "huber", "--param", "slope=0.1", "--param", "delta=2"], capsys)
    assert code == 0
    at = doc.split(r"\paragraph{Result.}")[1]
    assert r"\frac{1}{10}" in at and "3602879701896397" not in at
    assert "default" not in doc.split(r"\paragraph{Chain rule")[0]  # both given


@pytest.mark.parametrize("argv, message", [
    (["elu", "quadratic", "--param", "alpha=-1"], "elu + quadratic's parameter alpha must be in (0, oo), got -1.0"),
    (["leaky_relu", "quadratic", "--param", "slope=1"], "leaky_relu + quadratic's parameter slope must be in [0, 1), got 1.0"),
    (["elu", "quadratic", "--param", "beta=1"], "unknown parameter 'beta' of elu + quadratic; its parameters: alpha"),
    (["sigmoid", "bce", "--param", "alpha=1"], "its parameters: none"),
    (["elu", "quadratic", "--param", "alpha=__import__('os')"], "--param takes NAME=NUMBER (alpha=0.5)"),
])
def test_latex_refuses_bad_parameters_with_the_domain(argv, message, capsys):
    code, doc, err = _latex(argv, capsys)
    assert code == 2 and doc == "" and message in err


def test_a_parametric_document_compiles_and_reads_back(tmp_path):
    require_tools()
    pages, body, _ = compile_tex(pairing_document("leaky_relu", "huber", slope=0.25), tmp_path / "doc")
    text = flat(body)
    assert pages >= 1 and "given0.25" in text and "default1" in text
    assert "Ats=0.25:" in text  # the slope's symbol is s
