r"""The full report: every pairing of the catalogue, the softmax Jacobian, the hidden layers, the proofs.

    derive report --out report/   ->   report/report.tex, report/figures/*.pdf, report/report.pdf

Everything is computed from the catalogue when the report is built: the
pairing matrix from ``pairings()``, each derivation from ``derive_pair`` (its
``Step``s printed by ``derive.docs.latex``), the figures from the activations.
Sections of other packages come from the entry-point group ``derive.docs.report``
(a callable returning a LaTeX fragment that starts with its own ``\section``),
so ``derive`` never imports ``proofs``. A section whose package is missing is
replaced by a note, in the document and on stderr.

The .tex is deterministic (catalogue order; the date is ``derive.docs.pdf.source_date()``,
the source's, not the build's), so two builds can be diffed. The preamble (``derive.docs.latex.PREAMBLE``) loads amsmath, amssymb,
graphicx, booktabs, longtable, array, geometry, xcolor and hyperref, from
Debian's texlive-latex-base and texlive-latex-recommended.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from derive import __version__ as version
from derive.docs.curvature import curvature_figure, curvature_section
from derive.docs.figures import write_figures
from derive.docs.latex import NOTATION_TEXT, PREAMBLE, equation, name, pairing_body, text
from derive.docs.pdf import compile_pdf, date_text, source_date
from derive.docs.sources import sources_paragraph
from derive.docs.tables import activations_section, deltas_section, losses_section, matrix_section
from derive.docs.theory import network_section, softmax_section, source_models_section
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings
from derive.symbolic.pairing import derive_pair

__all__ = ["build_report", "report_tex", "plugin_sections", "compile_pdf", "Progress", "SECTION_GROUP"]

SECTION_GROUP = "derive.docs.report"
FIGURE_DIR = "figures"


@dataclass
class Progress:
    """One line per stage on a stream (stderr), with the seconds since the start."""

    stream: object = field(default_factory=lambda: sys.stderr)
    start: float = field(default_factory=time.perf_counter)

    failures: list = field(default_factory=list)  # sections whose callable raised

    def __call__(self, message: str) -> None:
        print(f"report [{time.perf_counter() - self.start:5.1f}s] {message}", file=self.stream, flush=True)


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


TITLE = "The calculus of neural-network output layers"
SUBTITLE = r"every activation $\times$ loss pairing, derived and checked"


def metadata(version: str) -> str:
    """The PDF's title, subject, keywords and creator (the package version), set through hyperref."""
    return (
        rf"\hypersetup{{pdftitle={{{TITLE}}}, pdfauthor={{derive report}}, "
        r"pdfsubject={Derivatives of every activation x loss pairing of a dense output layer, "
        r"stable kernels and proofs}, "
        r"pdfkeywords={backpropagation, softmax, cross-entropy, SymPy, certificates}, "
        rf"pdfcreator={{derive {version}}}}}"
    )


def report_tex(figures: dict[str, str], progress: Progress | None = None, entries=None, epoch: int | None = None,
               curvature: str | None = None) -> str:
    """The report's LaTeX source; ``figures`` maps each elementwise activation to its figure's path,
    ``curvature`` is the curvature figure's path (None: the section without it).

    ``epoch`` (seconds) is the date printed on the title page; default ``derive.docs.pdf.source_date()``.
    """
    progress = progress or Progress()
    epoch = source_date() if epoch is None else epoch
    table = pairings()
    valid = [(act, lo) for act, lo, why in table if why is None]
    progress(f"deriving {len(valid)} valid pairings")
    derivations = [derive_pair(act, lo) for act, lo in valid]
    parts = [
        r"\documentclass[11pt]{article}",
        PREAMBLE,
        metadata(version),
        rf"\title{{{TITLE}\\[0.5ex]\large {SUBTITLE}}}",
        r"\author{generated by \texttt{derive report}}",
        rf"\date{{\texttt{{derive}} {version}, {date_text(epoch)}}}",
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
        sources_paragraph(),
        equation(derivations[0].steps[0].lhs, derivations[0].steps[0].rhs),
        activations_section(figures),
        losses_section(),
        matrix_section(table),
        deltas_section(valid),
        softmax_section(),
    ]
    progress("deriving the Hessians")
    parts.append(curvature_section(curvature))
    progress("checking the hidden-layer recursion")
    parts.append(network_section())
    parts.append(source_models_section())
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
    curvature = curvature_figure(out / FIGURE_DIR / "curvature.pdf")
    tex = out / "report.tex"
    epoch = source_date()
    tex.write_text(report_tex(figures, progress, entries, epoch, f"{FIGURE_DIR}/{curvature.name}"), encoding="utf-8")
    progress(f"wrote {tex}")
    pdf = compile_pdf(tex, progress, epoch) if compile else None
    return tex, pdf, tuple(progress.failures)
