r"""The report's sections computed from the catalogue: activations, losses, the pairing matrix, every delta.

    activations_section(figures)   losses_section()   matrix_section(pairings())   deltas_section(valid)

Each returns a LaTeX fragment that starts with its own ``\section``; the rows
come from ``derive.symbolic.catalogue`` (one line per entry), the formulas from
SymPy's LaTeX printer (``derive.docs.latex.layer_latex``).
"""

from __future__ import annotations

import sympy as sp

from derive.docs.figures import SATURATION, derivative_bound, elementwise
from derive.docs.latex import label, layer_latex, name, text
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES
from derive.symbolic.functions import NAMED, expand_named
from derive.symbolic.pairing import derive_pair
from derive.symbolic.softmax import jacobian_entry, softmax_entry
from derive.symbolic.symbols import as_, i, j, zs

__all__ = ["activations_section", "losses_section", "matrix_section", "deltas_section"]


def _interval(s: sp.Set) -> str:
    """A range in LaTeX; a 30-digit endpoint is shown to 6 digits, marked approximate."""
    floats = {v: sp.Float(v, 6) for v in s.atoms(sp.Float)}
    shown = layer_latex(s.xreplace(floats))
    return shown + (r"\ (\approx)" if floats else "")


def activations_section(figures: dict[str, str]) -> str:
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
    constants = [  # one display per function with named constants (SELU's lambda, alpha)
        rf"\fiteq{{\text{{{fname}:}}\quad " + r",\quad ".join(rf"{tex} = {sp.N(value, 32)}" for value, tex in cls.constants.items()) + "}"
        for fname, cls in NAMED.items() if cls.constants
    ]
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
            r"\begin{longtable}{@{}l>{\raggedright\arraybackslash}p{0.30\linewidth}>{\raggedright\arraybackslash}p{0.31\linewidth}l@{}}",
            r"\toprule activation & $f(z)$ & derivative & range \\ \midrule \endhead",
            *rows,
            r"\bottomrule",
            r"\end{longtable}",
            r"\end{center}",
            r"Constants shown by name are exact rationals (the published digits) in every derivation and proof:",
            *constants,
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


def losses_section() -> str:
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


def matrix_section(table) -> str:
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
            # the loss names upright: 12 columns of names side by side are wider than the page
            r"\toprule activation & " + " & ".join(rf"\rotatebox{{90}}{{{name(lo)}}}" for lo in losses) + r" \\ \midrule",
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


def deltas_section(valid) -> str:
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


