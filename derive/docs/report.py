r"""The full report: every pairing of the catalogue, the softmax Jacobian, the hidden layers, the proofs.

    derive report --out report/   ->   report/report.tex, report/figures/*.pdf, report/report.pdf

Everything is computed from the catalogue when the report is built: the
pairing matrix from ``pairings()``, each derivation from ``derive_pair`` (its
``Step``s printed by ``derive.docs.latex``), the figures from the activations.
Sections of other packages come from the entry-point group ``derive.docs.report``
(a callable returning a LaTeX fragment that starts with its own ``\section``),
so ``derive`` never imports ``proofs``. A section whose package is missing is
replaced by a note, in the document and on stderr.

The .tex is deterministic (no dates, catalogue order), so two builds can be
diffed. The preamble (``derive.docs.latex.PREAMBLE``) loads amsmath, amssymb,
graphicx, booktabs, longtable, array, geometry, xcolor and hyperref, from
Debian's texlive-latex-base and texlive-latex-recommended.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

import sympy as sp

from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings
from derive.docs.figures import SATURATION, derivative_bound, elementwise, write_figures
from derive.symbolic.functions import expand_named
from derive.docs.latex import NOTATION_TEXT, PREAMBLE, equation, label, layer_latex, name, pairing_body, text
from derive.symbolic.logistic import NLL, nll_gradient
from derive.symbolic.logistic import X as LOGIT
from derive.symbolic.logistic import b0 as INTERCEPT
from derive.symbolic.logistic import coef as COEF
from derive.symbolic.lstm import CELLS, C_prev, cell_gradient
from derive.symbolic.network import RECURSION, recursion_holds
from derive.symbolic.pairing import derive_pair
from derive.symbolic.softmax import explicit_jacobian_matches, jacobian_entry, softmax_entry
from derive.symbolic.symbols import a, as_, drop_index_bounds, i, j, k, n, pull_constants, zs

__all__ = ["build_report", "report_tex", "Progress", "SECTION_GROUP", "NETWORK_WIDTHS", "JACOBIAN_SIZES"]

SECTION_GROUP = "derive.docs.report"
NETWORK_WIDTHS = (2, 2, 2, 2)  # the explicit network on which the recursion is checked
JACOBIAN_SIZES = (2, 3, 4)  # explicit n x n softmax Jacobians compared with the closed form
FIGURE_DIR = "figures"
MAX_PASSES = 4


@dataclass
class Progress:
    """One line per stage on a stream (stderr), with the seconds since the start."""

    stream: object = field(default_factory=lambda: sys.stderr)
    start: float = field(default_factory=time.perf_counter)

    failures: list = field(default_factory=list)  # sections whose callable raised

    def __call__(self, message: str) -> None:
        print(f"report [{time.perf_counter() - self.start:5.1f}s] {message}", file=self.stream, flush=True)


def _interval(s: sp.Set) -> str:
    """A range in LaTeX; a 30-digit endpoint is shown to 6 digits, marked approximate."""
    floats = {v: sp.Float(v, 6) for v in s.atoms(sp.Float)}
    shown = layer_latex(s.xreplace(floats))
    return shown + (r"\ (\approx)" if floats else "")


def _activations_section(figures: dict[str, str]) -> str:
    rows = []
    for act in ACTIVATIONS.values():
        if act.elementwise:
            f = act.f(zs)
            definition = expand_named(f)
            shown = layer_latex(f) if definition == f else f"{layer_latex(f)} = {layer_latex(definition)}"
            prime = rf"f' = {layer_latex(act.prime(as_, zs))}"
        else:
            shown = rf"a_j = {layer_latex(softmax_entry(j), layers=False)}"
            prime = rf"\frac{{\partial a_i}}{{\partial z_j}} = {layer_latex(jacobian_entry(i, j), layers=False)}"
        rows.append(rf"{name(act.name)} & ${shown}$ & ${prime}$ & ${_interval(act.range)}$ \\")
    bounds = ", ".join(
        rf"{name(act.name)}: $f' \leq {sp.latex(bound, fold_short_frac=True)}$"
        for act in elementwise()
        if (bound := derivative_bound(act)) is not None
    )
    images = [rf"\includegraphics[width=0.32\linewidth]{{{path}}}" for path in figures.values()]
    grid = [r"\hfill".join(images[row : row + 3]) + r"\\[1ex]" for row in range(0, len(images), 3)]
    return "\n".join(
        [
            r"\section{Activations}",
            r"Each activation $a = f(z)$ with its derivative, written through its output $a$ where that "
            r"form exists (it is what backpropagation has at hand), and its range, on which the pairing "
            r"matrix rests. Conventions: $\operatorname{ReLU}'(0) = 0$ and $|r|' = \operatorname{sign}(r)$ "
            r"with $\operatorname{sign}(0) = 0$, as PyTorch and JAX.",
            r"\begin{center}\small",
            r"\begin{longtable}{@{}l>{\raggedright\arraybackslash}p{0.33\linewidth}>{\raggedright\arraybackslash}p{0.29\linewidth}l@{}}",
            r"\toprule activation & $f(z)$ & derivative & range \\ \midrule \endhead",
            *rows,
            r"\bottomrule",
            r"\end{longtable}",
            r"\end{center}",
            r"\begin{figure}[tb]\centering",  # at a page top, text below: no half-empty float page
            *grid,
            r"\caption{Each elementwise activation $f$ (blue) and its derivative $f'$ (red). "
            rf"Shaded: saturation, the tails where $|f'(z)| < {SATURATION}$ and the gradient through the unit vanishes. "
            r"Dashed: the bound on $f'$ where SymPy finds it as the exact maximum over the range "
            rf"({bounds}).}}",
            r"\label{fig:activations}",
            r"\end{figure}",
            "",
        ]
    )


def _losses_section() -> str:
    rows = []
    for lo in LOSSES.values():
        reduce = r"mean over $j$" if lo.reduce == "mean" else r"sum over $j$"
        extra = r", $\sum_j y_j = 1$" if lo.targets_sum_to_one else ""
        rows.append(
            rf"{name(lo.name)} & ${layer_latex(lo.term(as_, sp.Symbol('y', real=True)))}$ & {reduce} & "
            rf"${_interval(lo.domain)}$ & ${_interval(lo.targets)}${extra} \\"
        )
    return "\n".join(
        [
            r"\section{Losses}",
            r"Each loss is a per-unit term $\ell(a, y)$ reduced over the units of the layer; "
            r"$a$ must lie in its domain, the targets $y$ in its target set.",
            r"\begin{center}\small",
            r"\begin{longtable}{@{}l>{\raggedright\arraybackslash}p{0.4\linewidth}lll@{}}",
            r"\toprule loss & $\ell(a, y)$ & reduced & domain of $a$ & targets \\ \midrule \endhead",
            *rows,
            r"\bottomrule",
            r"\end{longtable}",
            r"\end{center}",
            "",
        ]
    )


def _matrix_section(table) -> str:
    losses = list(LOSSES)
    marks: dict[str, dict[str, str]] = {}
    invalid = []
    for act, lo, why in table:
        if why is None:
            mark = r"$\checkmark^{*}$" if derive_pair(act, lo).canonical else r"$\checkmark$"
            mark = rf"\hyperref[{label(act, lo)}]{{{mark}}}"
        else:
            mark = r"$\times$"
            invalid.append((act, lo, why))
        marks.setdefault(act, {})[lo] = mark
    valid = len(table) - len(invalid)
    canonical = sum(1 for act, lo, why in table if why is None and derive_pair(act, lo).canonical)
    rows = [name(act) + " & " + " & ".join(marks[act][lo] for lo in losses) + r" \\" for act in marks]
    reasons = [rf"\item {name(act)} + {name(lo)}: {text(why)}." for act, lo, why in invalid]
    return "\n".join(
        [
            r"\section{Pairing matrix}",
            rf"{len(table)} pairings: {valid} valid ($\checkmark$), of which {canonical} canonical "
            r"($\checkmark^{*}$: $\delta^L_j = a^L_j - y_j$), and "
            rf"{len(invalid)} invalid ($\times$). A pairing is valid when the activation's range lies inside "
            r"the loss's domain. Each mark of a valid pairing links to its derivation.",
            r"\begin{center}",
            r"\begin{tabular}{@{}l" + "c" * len(losses) + "@{}}",
            r"\toprule activation & " + " & ".join(name(lo) for lo in losses) + r" \\ \midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{center}",
            r"\paragraph{Invalid pairings.}",
            r"\begin{itemize}\setlength{\itemsep}{0pt}",
            *reasons,
            r"\end{itemize}",
            "",
        ]
    )


def _deltas_section(valid) -> str:
    lines = [
        r"\section{Error signals at a glance}",
        r"$\delta^L_j = \partial C / \partial z^L_j$ of every valid pairing; "
        r"$\partial C / \partial b^L_j = \delta^L_j$ and "
        r"$\partial C / \partial w^L_{jk} = \delta^L_j a^{L-1}_k$ throughout "
        r"(Section~\ref{sec:derivations} derives each).",
    ]
    current = None
    for act, lo in valid:
        if act != current:
            lines.append(rf"\paragraph{{{name(act)}}}")
            current = act
        d = derive_pair(act, lo)
        lines.append(rf"\fiteq{{\text{{{name(lo)}:}}\quad \delta^L_j = {layer_latex(d.delta)}}}")
    return "\n".join(lines) + "\n"


def _rows_sum_to_zero() -> sp.Expr:
    """sum_j J_ij with sum_j a_j = 1: zero."""
    total = pull_constants(drop_index_bounds(sp.Sum(jacobian_entry(i, j), (j, 1, n)).doit()))
    return sp.expand(total.subs(sp.Sum(a[j], (j, 1, n)), 1))


def _symmetric() -> bool:
    """J_ij == J_ji, case by case of the Kronecker delta: i = j, and i != j (delta_ij = 0)."""
    gap = jacobian_entry(i, j) - jacobian_entry(j, i)
    on_diagonal = sp.expand(gap.subs(j, i))
    off_diagonal = sp.expand(gap.subs({sp.KroneckerDelta(i, j): 0, sp.KroneckerDelta(j, i): 0}))
    return on_diagonal == 0 and off_diagonal == 0


def _softmax_section() -> str:
    J = jacobian_entry(i, j)
    row_sum = _rows_sum_to_zero()
    explicit = [(size, explicit_jacobian_matches(size)) for size in JACOBIAN_SIZES]
    checks = ", ".join(rf"$n = {size}$: {'equal' if ok else 'NOT shown equal'}" for size, ok in explicit)

    def plain(expr):
        return layer_latex(expr, layers=False)

    return "\n".join(
        [
            r"\section{The softmax Jacobian}",
            r"For $n$ classes, differentiating the definition with indexed symbols (the work does not grow with $n$):",
            rf"\fiteq{{a_i = {plain(softmax_entry(i))}, \qquad \frac{{\partial a_i}}{{\partial z_j}} = {plain(J)}.}}",
            r"Its properties, each computed by SymPy:",
            r"\begin{itemize}",
            rf"\item rows sum to zero (with $\sum_j a_j = 1$): $\sum_j \frac{{\partial a_i}}{{\partial z_j}} = {plain(row_sum)}$;",
            r"\item symmetric, $\partial a_i/\partial z_j = \partial a_j/\partial z_i$: "
            + ("shown" if _symmetric() else "NOT shown")
            + r" (cases $i = j$ and $\delta_{ij} = 0$);",
            rf"\item the diagonal is $\partial a_i / \partial z_i = {plain(sp.factor(J.subs(j, i)))}$;",
            rf"\item the explicit $n \times n$ Jacobian equals the closed form: {checks}.",
            r"\end{itemize}",
            r"So $J = \operatorname{diag}(a) - a a^{\top}$, and for cross-entropy the chain rule over all units "
            r"collapses to $\delta^L_j = a^L_j - y_j$ (Section~\ref{sec:derivations}).",
            "",
        ]
    )


@cache
def _recursion_checked() -> tuple[tuple[str, bool], ...]:
    """(activation, recursion holds) on the explicit network, for each elementwise activation."""
    return tuple((act.name, recursion_holds(act.name, NETWORK_WIDTHS)) for act in ACTIVATIONS.values() if act.elementwise)


def _network_section() -> str:
    checked = _recursion_checked()
    rows = [rf"{name(act)} & {'holds' if ok else 'NOT shown'} \\" for act, ok in checked]
    widths = ", ".join(map(str, NETWORK_WIDTHS))
    return "\n".join(
        [
            r"\section{Hidden layers: the backpropagation recursion}",
            r"For layers $l = 1, \dots, L$ with $z^l = W^l a^{l-1} + b^l$, $a^l = f(z^l)$ and $a^0 = x$:",
            r"\begin{align*}",
            " \\\\\n".join(rf"{lhs} &= {rhs} && \text{{({name})}}" for name, lhs, rhs in RECURSION),
            r"\end{align*}",
            rf"Checked on an explicit network of widths ({widths}) with symbolic weights and a cost "
            r"$C(z^L)$ that is an arbitrary smooth function of the last pre-activations (so any output "
            r"activation and loss): every $\partial C/\partial W^l$ and $\partial C/\partial b^l$ by direct "
            r"differentiation equals what the recursion gives.",
            r"\begin{center}",
            r"\begin{tabular}{@{}ll@{}}",
            r"\toprule hidden activation & recursion \\ \midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{center}",
            "",
        ]
    )


def _seed_section() -> str:
    """The LSTM cell path (seed 001) and logistic regression as one sigmoid neuron, as SymPy derives them."""
    C_t, L_ = sp.Symbol("C_t"), sp.Symbol("L")
    X_ = sp.Symbol("X")
    lines = [
        r"\section{Two more derivations from the source texts}",
        r"\paragraph{The LSTM cell state along the cell path.} The gates $f_t, i_t \in (0, 1)$ and the candidate "
        r"$g_t$ read $h_{t-1}$ and $x_t$, not $C_{t-1}$, so along the cell path they are constants.",
    ]
    for cell in CELLS:
        g = cell_gradient(cell)
        lines += [
            rf"\par Cell {name(cell)}:",
            rf"\fiteq{{{layer_latex(C_t, layers=False)} = {layer_latex(g.state, layers=False)}, \qquad "
            rf"{layer_latex(sp.Derivative(C_t, C_prev, evaluate=False), layers=False)} = {layer_latex(g.gradient, layers=False)}}}",
        ]
    lines.append(
        r"\paragraph{Logistic regression} is one sigmoid unit with "
        rf"$X = {layer_latex(LOGIT, layers=False)}$; the gradient of its negative log-likelihood $L$:"
    )
    for labels in NLL:
        g = nll_gradient(labels)
        show = lambda e: layer_latex(e.subs(LOGIT, X_), layers=False)  # noqa: E731
        lines += [
            rf"\par Labels {name(labels)}:",
            rf"\fiteq{{L = {show(g.nll)}, \qquad "
            rf"{layer_latex(sp.Derivative(L_, COEF[k], evaluate=False), layers=False)} = {show(g.d_coef)}, \qquad "
            rf"{layer_latex(sp.Derivative(L_, INTERCEPT, evaluate=False), layers=False)} = {show(g.d_intercept)}}}",
        ]
    return "\n".join(lines) + "\n"


def _missing(ep, what: str, err: Exception, progress: Progress) -> str:
    why = f"{type(err).__name__}: {err}"
    progress(f"section '{ep.name}' left out: {ep.value} {what} ({why})")
    return (
        rf"\section{{{name(ep.name)}}}"
        "\n"
        rf"\textbf{{This section is missing:}} its entry point {name(ep.value)} "
        rf"(group {name(SECTION_GROUP)}) {what} ({text(why)}). "
        r"Install or fix the package that provides it and rebuild the report."
        "\n"
    )


def plugin_sections(progress: Progress, entries=None) -> list[str]:
    """The LaTeX fragment of each ``derive.docs.report`` entry point, by name; a note for each that is missing."""
    entries = entry_points(group=SECTION_GROUP) if entries is None else entries
    fragments = []
    for ep in sorted(entries, key=lambda e: e.name):
        try:
            make = ep.load()
        except (ImportError, AttributeError) as err:  # the providing package is not there
            fragments.append(_missing(ep, "could not be loaded", err, progress))
            continue
        progress(f"section '{ep.name}': building it with {ep.value}")
        try:
            fragment = make()
        except Exception as err:  # a bug in that package: keep the rest of the report, say so loudly
            progress.failures.append(ep.name)
            fragments.append(_missing(ep, "failed", err, progress))
            continue
        fragments.append(fragment.rstrip("\n") + "\n")
    if not fragments:
        progress(f"no package provides a section in the entry-point group {SECTION_GROUP}: the report has no theorems")
        fragments.append(
            r"\section{Theorems}"
            "\n"
            rf"\textbf{{This section is missing:}} no installed package provides a section in the entry-point "
            rf"group {name(SECTION_GROUP)} (the \texttt{{proofs}} package does; if it is present, "
            r"reinstall the project, \texttt{pip install -e .}, to register its entry points)."
            "\n"
        )
    return fragments


def report_tex(figures: dict[str, str], progress: Progress | None = None, entries=None) -> str:
    """The report's LaTeX source; ``figures`` maps each elementwise activation to its figure's path."""
    progress = progress or Progress()
    table = pairings()
    valid = [(act, lo) for act, lo, why in table if why is None]
    progress(f"deriving {len(valid)} valid pairings")
    derivations = [derive_pair(act, lo) for act, lo in valid]
    parts = [
        r"\documentclass[11pt]{article}",
        PREAMBLE,
        r"\title{The calculus of neural-network output layers\\[0.5ex]\large every activation $\times$ loss pairing, derived and checked}",
        r"\author{generated by \texttt{derive report}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"\begin{abstract}",
        rf"The catalogue holds {len(ACTIVATIONS)} activations and {len(LOSSES)} losses: {len(table)} pairings "
        rf"of a dense output layer, {len(valid)} of them valid. For each, SymPy derives the error signal "
        r"$\delta^L_j = \partial C/\partial z^L_j$, $\partial C/\partial b^L_j$ and "
        r"$\partial C/\partial w^L_{jk}$ by the chain rule; every formula below is SymPy's own "
        r"output, printed, in the notation of a layer $L$ fed by layer $L-1$. The report also derives the "
        r"softmax Jacobian, checks the backpropagation recursion through hidden layers, and lists the "
        r"theorems that certify the bounds and identities.",
        r"\end{abstract}",
        r"\setcounter{tocdepth}{1}",
        r"\tableofcontents",
        r"\section{Notation}",
        NOTATION_TEXT,
        equation(derivations[0].steps[0].lhs, derivations[0].steps[0].rhs),
        _activations_section(figures),
        _losses_section(),
        _matrix_section(table),
        _deltas_section(valid),
        _softmax_section(),
    ]
    progress("checking the hidden-layer recursion")
    parts.append(_network_section())
    parts.append(_seed_section())
    progress(f"loading sections from the entry-point group {SECTION_GROUP}")
    parts += plugin_sections(progress, entries)
    parts += [
        r"\section{Derivations of every valid pairing}",
        r"\label{sec:derivations}",
        rf"Each subsection prints the chain-rule steps that {name('derive_pair')} computed, in order.",
    ]
    parts += [pairing_body(d, "subsection", notation=False) for d in derivations]
    parts += [r"\end{document}", ""]
    return "\n".join(parts)


_PAGES = re.compile(r"Output written on .*? \((\d+) pages?")


def compile_pdf(tex: Path, progress: Progress) -> Path | None:
    """pdflatex ``tex`` in its folder until the contents are stable; None, with one line, when pdflatex is missing."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        progress(
            f"pdflatex is not on the PATH: wrote {tex} but no PDF "
            "(Debian: apt-get install texlive-latex-base texlive-latex-recommended)"
        )
        return None
    command = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name]
    state = [tex.with_suffix(".aux"), tex.with_suffix(".toc")]
    previous = None
    for run in range(1, MAX_PASSES + 1):
        progress(f"pdflatex, pass {run}")
        done = subprocess.run(command, cwd=tex.parent, capture_output=True, text=True, errors="replace")
        if done.returncode != 0:
            log = "\n".join(done.stdout.splitlines()[-25:])
            raise RuntimeError(f"pdflatex failed on {tex} (exit {done.returncode}):\n{log}")
        # Contents and references are right once a pass leaves the .aux and .toc unchanged.
        current = b"".join(path.read_bytes() for path in state if path.exists())
        if current == previous:
            break
        previous = current
    pdf = tex.with_suffix(".pdf")
    pages = _PAGES.search(done.stdout)
    progress(f"wrote {pdf}" + (f" ({pages.group(1)} pages)" if pages else ""))
    return pdf


def build_report(out: Path | str = "report", compile: bool = True, progress: Progress | None = None, entries=None):
    """Write ``out``/report.tex and ``out``/figures/*.pdf; compile ``out``/report.pdf if asked and possible.

    Returns (tex path, pdf path or None, names of the sections that failed to build).
    """
    progress = progress or Progress()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress(f"drawing the activation figures into {out / FIGURE_DIR}")
    paths = write_figures(out / FIGURE_DIR)
    figures = {name: f"{FIGURE_DIR}/{path.name}" for name, path in paths.items()}
    tex = out / "report.tex"
    tex.write_text(report_tex(figures, progress, entries), encoding="utf-8")
    progress(f"wrote {tex}")
    pdf = compile_pdf(tex, progress) if compile else None
    return tex, pdf, tuple(progress.failures)
