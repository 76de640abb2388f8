"""The full report: built by ``derive report``, compiled by pdflatex, read back with pdftotext.

The report is built once per module through the command line; the determinism
test builds it again in a fresh interpreter with another hash seed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from importlib.metadata import EntryPoint, entry_points

import numpy as np
import pytest
import sympy as sp

from derive.symbolic.catalogue import ACTIVATIONS, pairings, valid_pairings
from derive.cli import main
from derive.docs.latex import name
from derive.docs.report import SECTION_GROUP, Progress, compile_pdf, plugin_sections

TOOLS = ("pdflatex", "pdftotext", "pdfinfo")
EPOCH = 1700000000  # 2023-11-14 UTC: the fixed date the build is given (SOURCE_DATE_EPOCH)


def flat(s: str) -> str:
    """PDF text without whitespace, with pdftotext's typographic quote as the ASCII one."""
    return re.sub(r"\s+", "", s).replace("’", "'")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(out dir, stdout, stderr, pdf text, pages) of ``derive report --out DIR``."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not on the PATH: install texlive-latex-base, texlive-latex-recommended, poppler-utils"
    out = tmp_path_factory.mktemp("build") / "report"
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            assert main(["report", "--out", str(out)]) == 0
    pdf = out / "report.pdf"
    info = subprocess.run(["pdfinfo", "-isodates", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    body = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out, stdout.getvalue(), stderr.getvalue(), body, pages


def test_command_says_where_the_pdf_is(built):
    out, stdout, stderr, _, _ = built
    assert stdout.strip() == str(out / "report.pdf")
    assert (out / "report.tex").is_file()
    # One progress line per stage on stderr, the last naming the PDF and its page count.
    for stage in ("figures", "deriving", "hidden-layer recursion", SECTION_GROUP, "pdflatex, pass 1"):
        assert stage in stderr, stage
    assert re.search(r"wrote .*report\.pdf \(\d+ pages\)", stderr.splitlines()[-1])


def test_pdf_has_the_sections(built):
    _, _, _, body, pages = built
    assert pages >= 10
    for heading in (
        "Contents",
        "Notation",
        "Activations",
        "Losses",
        "Pairing matrix",
        "Invalid pairings.",
        "Error signals at a glance",
        "The softmax Jacobian",
        "Hidden layers: the backpropagation recursion",
        "Curvature: the Hessian in the logits",
        "Two more derivations from the source texts",
        "Derivations of every valid pairing",
    ):
        assert re.search(rf"^\d*\s*{re.escape(heading)}", body, re.M), heading


def test_pdf_derives_every_valid_pairing(built):
    body = flat(built[3])
    for act, lo in valid_pairings():
        assert flat(f"{act} + {lo}") in body, (act, lo)


def test_pdf_gives_the_reason_of_every_invalid_pairing(built):
    body = flat(built[3])
    invalid = [(act, lo, why) for act, lo, why in pairings() if why is not None]
    assert invalid
    for act, lo, why in invalid:
        # minus signs, not hyphens: "(−1, 1)", "(−∞, ∞)"
        shown = re.sub(r"(?<![A-Za-z0-9])-(?=\d|oo)", "−", why).replace("oo", "∞")
        assert flat(shown) in body, why
    assert "(-1," not in built[3] and "(-∞" not in built[3]


def test_pdf_shows_the_formulas(built):
    body = flat(built[3])
    assert "δjL=aLj−yj" in body  # seed 002: the canonical pairings
    assert "∂ai=(δij−aj)ai" in body  # the softmax Jacobian
    assert "∂zj" in body
    assert "itsrowssumtozero,itissymmetricandpositivesemidefinite" in body  # named, proved in the theorems
    assert "=(Wl+1)⊤δl+1⊙f′(zl)" in body  # the hidden-layer recursion (where delta^l's "l" lands varies)
    assert body.count("holds") >= sum(act.elementwise for act in ACTIVATIONS.values())
    # Seed 001: the LSTM cell path and logistic regression's gradient (g - y) x_k.
    assert "∂Ct=ft" in body
    assert "=(−y+σ(X))xk" in body


def test_figures_are_vector_pdfs_without_dates(built):
    out, _, _, body, _ = built
    tex = (out / "report.tex").read_text(encoding="utf-8")
    for act in ACTIVATIONS.values():
        figure = out / "figures" / f"{act.name}.pdf"
        assert figure.is_file() == act.elementwise, act.name
        if act.elementwise:
            data = figure.read_bytes()
            assert data.startswith(b"%PDF") and b"/CreationDate" not in data
            assert f"figures/{act.name}.pdf" in tex
    assert "sigmoid:f′≤1/4" in flat(body) and "tanh:f′≤1" in flat(body)  # the bounds, in the caption


def test_theorem_sections_are_in_or_noted(built):
    out, _, stderr, body, _ = built
    tex = (out / "report.tex").read_text(encoding="utf-8")
    group = entry_points(group=SECTION_GROUP)
    if not group:
        assert "This section is missing" in body and "no package provides a section" in stderr
    for ep in group:
        assert f"section '{ep.name}'" in stderr
        noted = rf"\section{{{name(ep.name)}}}" + "\n" + r"\textbf{This section is missing:}"
        assert (f"section '{ep.name}' left out" in stderr) == (noted in tex), ep.name


def test_the_proofs_section_is_in(built):
    """proofs.report.latex_section, as the report includes (and pdflatex compiles) it: every theorem, a counterexample."""
    from proofs.theorems import THEOREMS

    tex = (built[0] / "report.tex").read_text(encoding="utf-8")
    section = tex[tex.index(r"\section{Proofs}"):]
    assert section.count(r"\documentclass") == 0 and r"\begin{document}" not in section
    for t in THEOREMS:
        assert f"Theorem {t.number}:" in section, t.number
    assert "counterexample" in section.lower()


def test_the_proofs_section_has_the_curvature_table_the_kernels_and_the_facts(built):
    from proofs.given import FACTS

    tex = (built[0] / "report.tex").read_text(encoding="utf-8")
    table = tex.split(r"\subsection*{Curvature of every valid pairing}")[1].split(r"\end{longtable}")[0]
    assert r"sigmoid+bce & convex & $\frac{1}{4}$ & $8$ &  \\" in table  # no parameters: the last column empty
    assert r"identity+huber & convex & $1$ & $2$ & for every delta in (0, $\infty$) \\" in table
    assert r"sigmoid+quadratic & not convex & $\infty$ &  &  \\" in table
    assert r"softmax+cce & convex & $\frac{1}{2}$ & $4$ &  \\" in table
    assert table.count(r"\\") == len(valid_pairings()) + 1  # every pairing, and the header
    kernels = tex.split(r"\subsection*{Kernels proved equal to their derivations}")[1]
    for family in ("activation", "derivative", "loss", "delta"):
        assert rf"\item {family}" in kernels
    given = tex.split(r"\subsection*{Taken as given}")[1]
    for fact in FACTS:
        assert rf"\textbf{{{fact.key}}}" in given
    assert "Theorem 12" in tex


def test_tex_is_deterministic(built, tmp_path):
    out = built[0]
    again = tmp_path / "again"
    code = f"from derive.docs.report import build_report; build_report({str(again)!r}, compile=False)"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "SOURCE_DATE_EPOCH": str(EPOCH)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    assert (again / "report.tex").read_bytes() == (out / "report.tex").read_bytes()
    for figure in sorted((out / "figures").glob("*.pdf")):
        assert (again / "figures" / figure.name).read_bytes() == figure.read_bytes(), figure.name


def test_no_formula_runs_off_the_page(built):
    log = (built[0] / "report.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull" not in log, re.findall(r"^Overfull.*$", log, re.M)


def test_pdf_metadata_and_title_page_carry_the_version_and_a_fixed_date(built):
    from derive import __version__

    out, _, _, body, _ = built
    info = subprocess.run(["pdfinfo", "-isodates", str(out / "report.pdf")], capture_output=True, text=True,
                          check=True).stdout
    fields = dict(re.findall(r"^(\w+):\s+(.*)$", info, re.M))
    assert fields["Title"] == "The calculus of neural-network output layers"
    assert "activation x loss pairing" in fields["Subject"]
    assert __version__ in fields["Creator"]
    assert fields["CreationDate"].startswith("2023-11-14T22:13:20") and fields["ModDate"] == fields["CreationDate"]
    title_page = body.split("Abstract")[0]
    assert f"derive {__version__}, 2023-11-14" in title_page


def test_the_date_is_the_source_s_not_the_build_s(monkeypatch):
    from derive.docs.pdf import source_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert source_date() == 86400
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source_date() == source_date() < time.time() + 1  # a commit's or a file's date, stable


def test_source_texts_are_named_by_title_and_kind_where_judged(built):
    from derive.docs.sources import SOURCES

    body = flat(built[3])
    for source in SOURCES.values():
        assert flat(source.title) in body and flat(source.kind) in body, source.number
    # where the claims are judged, each names its source text, not a bare "Seed 002"
    claims = built[3].split("The claims of the source texts")[-1]
    assert "Problem with Sigmoid and Sum of Squares Loss" in claims.replace("\n", " ")
    assert not re.search(r"^Seed \d{3} \(theorem", claims, re.M)


def test_proof_steps_read_as_mathematics(built):
    tex = (built[0] / "report.tex").read_text(encoding="utf-8")
    proofs = tex.split(r"\section{Proofs}")[-1].split(r"\section{Derivations")[0]
    if r"\section{\texttt{proofs}}" in tex:
        pytest.skip("the proofs section could not be built (noted in the document)")
    steps = re.findall(r"^  \\item (.*)$", proofs, re.M)
    assert steps
    for step in steps:
        assert r"\textgreater" not in step and r"\textless" not in step and "->" not in step, step
        formula = re.sub(r"\[same name, different symbols:.*?\]", "", step)  # the checker's note on symbols
        assert r"\^{}" not in formula and r"\{" not in formula, step  # 4^-L, e^{z_k} as mathematics
        assert not re.search(r"[A-Za-z]''(?!\$)", step), step  # gelu'' as a prime, not a closing quote
        assert not re.match(r"(.+) = \1: \\emph", step), step  # no "0 = 0: proved"
    for line in re.findall(r"^\\noindent\\emph\{Certificate\.\} (.*)$", proofs, re.M):
        parts = [p.strip() for p in line.rsplit("(", 1)[0].split("; ")]
        assert len(parts) == len(set(parts)), line  # each part of a certificate once


# --- sections from other packages ------------------------------------------------------------------


def _progress():
    stream = io.StringIO()
    return Progress(stream=stream), stream


def test_a_missing_section_is_noted_in_the_document_and_on_stderr():
    progress, stream = _progress()
    missing = EntryPoint(name="proofs", value="no_such_package_xyz.report:latex_section", group=SECTION_GROUP)
    [fragment] = plugin_sections(progress, [missing])
    assert r"\section{\texttt{proofs}}" in fragment and "This section is missing" in fragment
    shown = r"no\char95{}such\char95{}package\char95{}xyz.\allowbreak{}report:\allowbreak{}latex\char95{}section"
    assert r"\texttt{" + shown + "}" in fragment
    assert "section 'proofs' left out" in stream.getvalue() and "ModuleNotFoundError" in stream.getvalue()


def test_a_present_section_is_included_verbatim(tmp_path, monkeypatch):
    (tmp_path / "fake_section_pkg.py").write_text(
        textwrap.dedent(
            r'''
            def latex_section():
                return "\\section{Theorems}\nAll proved.\n"
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    progress, stream = _progress()
    present = EntryPoint(name="fake", value="fake_section_pkg:latex_section", group=SECTION_GROUP)
    assert plugin_sections(progress, [present]) == ["\\section{Theorems}\nAll proved.\n"]
    assert "section 'fake': building it with fake_section_pkg:latex_section" in stream.getvalue()


def test_a_failing_section_is_noted_and_counted(tmp_path, monkeypatch):
    (tmp_path / "broken_section_pkg.py").write_text("def latex_section():\n    raise ZeroDivisionError('oops')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    progress, stream = _progress()
    broken = EntryPoint(name="broken", value="broken_section_pkg:latex_section", group=SECTION_GROUP)
    [fragment] = plugin_sections(progress, [broken])
    assert "This section is missing" in fragment and "ZeroDivisionError: oops" in fragment
    assert progress.failures == ["broken"]
    assert "section 'broken' left out" in stream.getvalue()


def test_no_section_at_all_is_noted():
    progress, stream = _progress()
    [fragment] = plugin_sections(progress, [])
    assert "This section is missing" in fragment
    assert "no package provides a section" in stream.getvalue()


# --- compiling -------------------------------------------------------------------------------------


def test_without_pdflatex_the_tex_stays_and_one_line_says_so(tmp_path, monkeypatch):
    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    progress, stream = _progress()
    assert compile_pdf(tex, progress) is None
    [line] = stream.getvalue().splitlines()
    assert "pdflatex is not on the PATH" in line and str(tex) in line
    assert tex.is_file() and not tex.with_suffix(".pdf").exists()


def test_a_latex_error_is_reported_with_the_log(tmp_path):
    tex = tmp_path / "bad.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    with pytest.raises(RuntimeError, match=r"pdflatex failed(.|\n)*Undefined control sequence"):
        compile_pdf(tex, _progress()[0])


# --- figures -------------------------------------------------------------------------------------


def test_the_drawn_bounds_are_sigma_prime_quarter_and_tanh_prime_one():
    from derive.docs.figures import derivative_bound

    assert derivative_bound(ACTIVATIONS["sigmoid"]) == sp.Rational(1, 4)
    assert derivative_bound(ACTIVATIONS["tanh"]) == 1
    assert derivative_bound(ACTIVATIONS["relu"]) is None  # piecewise: no smooth maximum drawn


def test_saturation_is_the_tails_not_a_stationary_point():
    from derive.docs.figures import saturated_tails

    slopes = np.array([0.0, 0.01, 0.5, 0.0, 0.9, 0.02])  # small at both ends and once inside
    assert saturated_tails(slopes).tolist() == [True, True, False, False, False, True]
    assert not saturated_tails(np.ones(4)).any()
    assert saturated_tails(np.zeros(3)).all()


def test_figure_curves_are_the_activation_and_its_derivative():
    from derive.docs.figures import evaluate

    grid = np.array([-40.0, -1.0, 0.0, 2.0, 40.0])
    values, slopes, _ = evaluate(ACTIVATIONS["sigmoid"], grid)
    reference = 1 / (1 + np.exp(-grid))  # independent: the textbook formula, fine on this grid
    np.testing.assert_allclose(values, reference, rtol=1e-12)
    e = np.exp(-np.abs(grid))
    np.testing.assert_allclose(slopes, e / (1 + e) ** 2, rtol=1e-12)  # sigma' in the form exact at |z| = 40
    values, slopes, _ = evaluate(ACTIVATIONS["relu"], grid)
    assert values.tolist() == [0.0, 0.0, 0.0, 2.0, 40.0] and slopes.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_proof_text_in_ascii_mathematics_compiles(tmp_path):
    from proofs import Verdict
    from proofs.report import _certificate, _claim_tex

    plain = "convex: h >= 0 (v^T H v = sum_i a_i (v_i - a.v)^2); 4^-(L+1) & 50% #1 ~ {x} | y_{t-1}; a -> b"
    certificate = _certificate(plain)
    step = _claim_tex(Verdict(plain, "proved", ""))
    assert "$v^{T}$" in certificate and r"$\sum_{i}$" in step and "$4^{-(L+1)}$" in step
    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n"
                   f"{certificate}\n\n{step}\n\\end{{document}}\n")
    assert compile_pdf(tex, _progress()[0]).is_file()
