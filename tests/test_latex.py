"""The single-pairing LaTeX document: seed 002's notation, every step printed, compiled by pdflatex.

Every valid pairing of the catalogue is compiled (in parallel, once per module)
and its PDF text (pdftotext) read back.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy as sp

from derive.symbolic.catalogue import pairings, valid_pairings
from derive.cli import main
from derive.symbolic.functions import gelu, sigmoid, softplus
from derive.docs.latex import equation, layer_latex, pairing_document, text
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import C, a, b, j, k, w, x, y, z

VALID = valid_pairings()
INVALID = [(act, lo) for act, lo, why in pairings() if why is not None]
TOOLS = ("pdflatex", "pdftotext", "pdfinfo")


def flat(s: str) -> str:
    """PDF text with all whitespace removed: display math comes out of pdftotext split over lines."""
    return re.sub(r"\s+", "", s)


def require_tools():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, (
        f"{', '.join(missing)} not on the PATH: install Debian's texlive-latex-base, "
        "texlive-latex-recommended and poppler-utils"
    )


def compile_tex(source: str, directory) -> tuple[int, str, str]:
    """(pages, pdftotext text, pdflatex stdout) of ``source`` compiled in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "doc.tex").write_text(source, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=directory, capture_output=True, text=True, errors="replace",
    )
    assert run.returncode == 0, run.stdout[-3000:]
    pdf = directory / "doc.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    body = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pages, body, run.stdout


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{(activation, loss): (pages, text, log)} for every valid pairing, compiled in parallel."""
    require_tools()
    root = tmp_path_factory.mktemp("pairings")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        jobs = {
            pair: pool.submit(compile_tex, pairing_document(*pair), root / f"{pair[0]}-{pair[1]}")
            for pair in VALID
        }
        return {pair: job.result() for pair, job in jobs.items()}


# --- the printer: seed 002's notation -------------------------------------------------------------


def test_indexed_symbols_print_in_layer_notation():
    assert layer_latex(a[j]) == "{a^{L}_{j}}"
    assert layer_latex(z[j]) == "{z^{L}_{j}}"
    assert layer_latex(b[j]) == "{b^{L}_{j}}"
    assert layer_latex(w[j, k]) == "{w^{L}_{jk}}"
    assert layer_latex(x[k]) == "{a^{L-1}_{k}}"  # the layer's input is the previous layer's output
    assert layer_latex(y[j]) == "{y_{j}}"


def test_derivatives_print_as_partial_fractions():
    d = lambda e, v: sp.Derivative(e, v, evaluate=False)  # noqa: E731
    assert layer_latex(d(C, a[j])) == r"\frac{\partial C}{\partial {a^{L}_{j}}}"
    assert layer_latex(d(a[j], z[j])) == r"\frac{\partial {a^{L}_{j}}}{\partial {z^{L}_{j}}}"
    assert layer_latex(d(C, w[j, k])) == r"\frac{\partial C}{\partial {w^{L}_{jk}}}"


def test_power_of_an_output_is_braced_not_a_layer_superscript():
    # {a^L_j}^2 reads as a_j^{L2}, layer L2: the power goes outside parentheses
    assert layer_latex(a[j] ** 2) == r"\left({a^{L}_{j}}\right)^{2}"
    assert layer_latex(x[k] ** 3) == r"\left({a^{L-1}_{k}}\right)^{3}"
    assert layer_latex(y[j] ** 2) == "{y_{j}}^{2}"  # no layer, no ambiguity
    assert layer_latex(a[j] ** 2, layers=False) == "{a_{j}}^{2}"


def test_no_document_has_a_layer_superscript_raised_again():
    for act, lo in VALID:
        assert not re.search(r"\{[a-z]\^\{L(-1)?\}_\{[^}]*\}\}\^", pairing_document(act, lo)), (act, lo)


def test_derivations_display_in_notebooks_in_the_report_s_notation(tmp_path):
    require_tools()
    d = derive_pair("sigmoid", "quadratic")
    shown = d._repr_latex_()
    assert shown.startswith("$$") and shown.endswith("$$")
    assert "{a^{L}_{j}}" in shown and r"\sigma\left({z^{L}_{j}}\right)" in shown
    for step in d.steps:
        assert layer_latex(step.rhs) in shown
        assert step._repr_latex_() == rf"$\displaystyle \text{{{step.description}:}}\quad {layer_latex(step.lhs)} = {layer_latex(step.rhs)}$"
    # valid LaTeX (amsmath), as Jupyter's MathJax and nbconvert's PDF need it
    document = "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n%s\n%s\n\\end{document}\n"
    for act, lo in [("sigmoid", "quadratic"), ("softmax", "cce")]:
        d = derive_pair(act, lo)
        compile_tex(document % (d._repr_latex_(), d.steps[-1]._repr_latex_()), tmp_path / f"{act}-{lo}")


def test_named_functions_keep_their_names():
    assert layer_latex(sigmoid(z[j])) == r"\sigma\left({z^{L}_{j}}\right)"
    assert layer_latex(softplus(z[j])) == r"\operatorname{softplus}\left({z^{L}_{j}}\right)"
    assert layer_latex(gelu(z[j])) == r"\operatorname{GELU}\left({z^{L}_{j}}\right)"
    assert layer_latex(sp.log(a[j])) == r"\ln{\left({a^{L}_{j}} \right)}"


def test_plain_notation_drops_the_layer():
    assert layer_latex(a[j] - x[k], layers=False) in ("{a_{j}} - {x_{k}}", "- {x_{k}} + {a_{j}}")


def test_text_is_escaped_and_infinity_is_a_symbol():
    assert text("delta_j & 50% #1") == r"delta\_j \& 50\% \#1"
    assert text("range [0, oo)") == r"range [0, $\infty$)"
    assert text("leaky_relu's range") == r"\texttt{leaky\char95{}relu}'s range"
    assert text("zoom") == "zoom"  # only a standalone oo is infinity


# --- the document is the derivation, printed ------------------------------------------------------


@pytest.mark.parametrize("act, lo", VALID, ids=[f"{p}-{q}" for p, q in VALID])
def test_document_prints_every_step_it_derived(act, lo):
    doc = pairing_document(act, lo)
    d = derive_pair(act, lo)
    for step in d.steps:
        assert equation(step.lhs, step.rhs) in doc, step.description
    assert doc.count(r"\item ") == len(d.steps)
    assert equation(sp.Derivative(C, b[j], evaluate=False), d.grad_b) in doc
    assert equation(sp.Derivative(C, w[j, k], evaluate=False), d.grad_w) in doc
    assert ("canonical pairing" in doc) == d.canonical
    for note in d.assumptions:
        assert text(note) in doc


def test_the_seed_002_canonical_pairings_are_remarked():
    # Seed 002: sigmoid + cross-entropy and softmax + log-likelihood give dC/db = a - y.
    for pair in [("sigmoid", "bce"), ("softmax", "cce")]:
        assert "canonical pairing" in pairing_document(*pair)
    assert "canonical pairing" not in pairing_document("sigmoid", "quadratic")


def test_softmax_cce_states_its_assumption():
    assert "targets sum to one" in pairing_document("softmax", "cce")


def test_document_is_deterministic():
    assert pairing_document("gelu", "huber") == pairing_document("gelu", "huber")


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.parametrize("act, lo", INVALID[:3] + INVALID[-1:])
def test_invalid_pairing_is_a_clear_error(act, lo, capsys):
    assert main(["latex", act, lo]) == 2
    err = capsys.readouterr().err
    assert f"invalid pairing {act} + {lo}" in err and "range" in err and lo in err


def test_unknown_name_lists_the_known_ones(capsys):
    assert main(["latex", "sigmoidd", "bce"]) == 2
    assert "sigmoid" in capsys.readouterr().err


def test_unwritable_output_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "doc.tex"
    assert main(["latex", "sigmoid", "bce", "-o", str(target)]) == 2
    assert f"cannot write {target}" in capsys.readouterr().err


def test_command_writes_the_document(tmp_path, capsys):
    out = tmp_path / "sb.tex"
    assert main(["latex", "sigmoid", "bce", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == pairing_document("sigmoid", "bce")
    assert main(["latex", "tanh", "l1"]) == 0
    assert capsys.readouterr().out == pairing_document("tanh", "l1")


# --- compiled by pdflatex, read back with pdftotext ------------------------------------------------


@pytest.mark.parametrize("act, lo", VALID, ids=[f"{p}-{q}" for p, q in VALID])
def test_every_valid_pairing_compiles(act, lo, compiled):
    pages, body, log = compiled[(act, lo)]
    assert pages >= 1
    assert "Overfull \\hbox" not in log  # wide formulas are scaled to the line (\fiteq)
    text_ = flat(body)
    assert flat(f"{act} + {lo}") in text_
    for heading in ("Definitions.", "Chain rule, step by step.", "Result."):
        assert heading in body
    assert "∂C" in text_ and "δjL=" in text_  # delta^L_j = dC/dz^L_j, in the layer notation
    assert "aL−1" in text_  # the input is the previous layer's output a^{L-1}_k
    # Every step's description, in order. A catalogue name in a description (log_cosh) is set by
    # ``name`` with a real underscore glyph, so the PDF text has it; any other underscore is drawn as
    # a rule (\_), not text.
    at = 0
    for number, step in enumerate(derive_pair(act, lo).steps, 1):
        at = text_.index(flat(_as_drawn(step.description)), at)


def _as_drawn(description: str) -> str:
    """``description`` as pdftotext reads it back: underscores kept in identifiers, dropped elsewhere."""
    keep = re.sub(r"(?<![A-Za-z])[a-z]{3,}(?:_[a-z]{3,})+(?![A-Za-z])",
                  lambda match: match.group().replace("_", "\0"), description)
    return keep.replace("_", "").replace("\0", "_")


# Seed 002's results, read off the PDF: dC/db_j = a_j - y_j for the canonical pairs.
SEED_002 = [("sigmoid", "bce"), ("softmax", "cce"), ("identity", "quadratic")]


@pytest.mark.parametrize("act, lo", SEED_002)
def test_pdf_shows_delta_is_a_minus_y(act, lo, compiled):
    body = flat(compiled[(act, lo)][1])
    assert "δjL=aLj−yj" in body
    assert "canonicalpairing" in body


def test_pdf_shows_the_sigmoid_and_its_derivative(compiled):
    body = flat(compiled[("sigmoid", "quadratic")][1])
    assert "σzjL" in body  # a^L_j = sigma(z^L_j)
    assert "1−aLj" in body  # sigma' through the output: (1 - a) a


def test_pdf_names_the_activations(compiled):
    assert "softplus" in flat(compiled[("softplus", "mse")][1])
    assert "GELU" in flat(compiled[("gelu", "l1")][1])
    assert "ReLU" in flat(compiled[("relu", "huber")][1])
    assert "leaky_relu+sse" in flat(compiled[("leaky_relu", "sse")][1])
