r"""The report's curvature section: the Hessian of each pairing family and a figure of C and C''.

    elementwise f, per-unit loss l(a, y):  H = diag(h_j),  h = l_aa(f(z), y) f'(z)^2 + l_a(f(z), y) f''(z)
    softmax:                               H_jk = sum_q (d delta_j / d a_q) a_q (delta_qk - a_k)

The elementwise family's h is SymPy's second derivative of the catalogue's loss term with f
left a generic real function; each softmax pairing's entry is ``Derivation.hessian``. The figure
plots C(z) and C''(z) of one sigmoid unit for the quadratic loss against bce, from the same
derivations (``lambdify``). Convexity verdicts and smoothness constants are the ``proofs``
package's (its section of the report); this section only derives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from derive.docs.latex import layer_latex, name
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.symbolic.functions import expand_named
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, n, y, z

__all__ = ["family_hessian", "curvature_figure", "curvature_section", "FIGURE_PAIRINGS", "FIGURE_TARGET"]

FIGURE_PAIRINGS = (("sigmoid", "quadratic"), ("sigmoid", "bce"))
FIGURE_TARGET = 1  # y = 1: the quadratic loss is concave where the unit is confidently wrong (z << 0)
Z_RANGE = (-8.0, 8.0)
LONGEST = 900  # characters of LaTeX: a longer Hessian entry would be scaled below reading size
PDF_METADATA = {"CreationDate": None, "ModDate": None}

_zs, _ys = sp.symbols("z y", real=True)
_f = sp.Function("f", real=True)


# how the family's formula is shown: a = f(z), f', f''
_SHOWN = {sp.Derivative(_f(_zs), (_zs, 2)): sp.Symbol("f''"), sp.Derivative(_f(_zs), _zs): sp.Symbol("f'"),
          _f(_zs): sp.Symbol("a")}



def _tex(name: str) -> str:
    """A catalogue name in running text: log_cosh's underscore escaped."""
    return name.replace("_", r"\_")

def family_hessian(loss: str) -> sp.Expr:
    """h = d^2/dz^2 l(f(z), y) for a generic real f (one unit; a mean divides by n)."""
    lo = LOSSES[loss]
    h = sp.factor_terms(sp.diff(lo.term(_f(_zs), _ys), _zs, 2))
    return h / n if lo.reduce == "mean" else h


def _shown(expr):
    for old, new in _SHOWN.items():
        expr = expr.xreplace({old: new})
    return expr


def _unit(expr, act: str):
    """A derivation's expression for one unit (n = 1) as a function of a scalar z and y."""
    out = ACTIVATIONS[act].f(_zs)
    expr = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.function)
    expr = expr.replace(lambda e: isinstance(e, sp.Indexed), lambda e: {a: out, y: _ys, z: _zs}[e.base])
    return expand_named(expr.subs(n, 1))


def curvature_curves(act: str, loss: str, grid: np.ndarray, target=FIGURE_TARGET):
    """(C(grid), C''(grid)) of one unit with target ``target``, from the derivation and its Hessian."""
    d = derive_pair(act, loss)
    cost, h = (sp.lambdify(_zs, _unit(e, act).subs(_ys, target), "numpy") for e in (d.cost, d.hessian.diagonal))
    return (np.broadcast_to(np.asarray(g(grid), dtype=float), grid.shape) for g in (cost, h))


def curvature_figure(path: Path, points: int = 801) -> Path:
    """C(z) and C''(z) of sigmoid + quadratic against sigmoid + bce (target y = 1), as a vector PDF."""
    grid = np.linspace(*Z_RANGE, points)
    fig = Figure(figsize=(6.2, 2.4))
    FigureCanvasAgg(fig)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for colour, (act, loss) in zip(("C3", "C0"), FIGURE_PAIRINGS):
        cost, h = curvature_curves(act, loss, grid)
        left.plot(grid, cost, color=colour, linewidth=1.3, label=f"{act} + {loss}")
        right.plot(grid, h, color=colour, linewidth=1.3, label=f"{act} + {loss}")
    right.axhline(0, color="0.4", linewidth=0.5)
    right.axhline(0.25, color="C0", linestyle="--", linewidth=0.8, label="$1/4$ (bce's $L$)")
    left.set_ylim(0, 4)
    for ax, title in ((left, f"$C(z)$, $y = {FIGURE_TARGET}$"), (right, "$C''(z)$")):
        ax.set_xlim(*Z_RANGE)
        ax.set_xlabel("$z$")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6.5, loc="upper right" if ax is left else "center right", frameon=True, framealpha=1.0,
                  edgecolor="0.8")
    fig.tight_layout(pad=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="pdf", metadata=PDF_METADATA)
    return path


def _plain(expr) -> str:
    return layer_latex(expr, layers=False)


def curvature_section(figure: str | None) -> str:
    """The section: the elementwise family's h per loss, each softmax pairing's H_jk, the figure."""
    lines = [
        r"\section{Curvature: the Hessian in the logits}",
        r"\label{sec:curvature}",
        r"The Hessian $H_{jk} = \partial^2 C / \partial z^L_j \partial z^L_k$ is derived from $\delta^L_j$ "
        rf"({name('Derivation.hessian')}). For an elementwise activation $a = f(z)$ it is diagonal, "
        r"$H = \operatorname{diag}(h_j)$, and for each loss the whole family of activations shares one "
        r"formula, with $f$ any real function (a mean over the $n$ units divides by $n$; $\delta$ is Dirac's "
        r"delta where the loss has a kink):",
    ]
    for loss in LOSSES:
        lines.append(rf"\fiteq{{\text{{{_tex(loss)}:}}\quad h = {_plain(_shown(family_hessian(loss)))}}}")
    entries = {loss: sp.factor_terms(derive_pair(act, loss).hessian.entry)
               for act, loss in valid_pairings() if not ACTIVATIONS[act].elementwise}
    long = [loss for loss, e in entries.items() if len(_plain(e)) > LONGEST]
    lines.append(r"For softmax every unit's output depends on every logit; the entries "
                 r"$H_{jk}$ (with $a = \operatorname{softmax}(z)$):")
    for loss, entry in entries.items():
        if loss not in long:
            lines.append(rf"\fiteq{{\text{{softmax + {_tex(loss)}:}}\quad H_{{jk}} = {_plain(entry)}}}")
    if long:
        lines.append(rf"The entries for softmax with {', '.join(map(_tex, long))} run to more than {LONGEST} characters of "
                     rf"LaTeX each and are not printed: {name('derive_pair(...).hessian.entry')} gives them.")
    if figure:
        lines += [
            r"\begin{figure}[htbp]\centering",
            rf"\includegraphics[width=\linewidth]{{{figure}}}",
            r"\caption{One sigmoid unit with target $y = 1$: the cost $C(z)$ and its curvature $C''(z)$, "
            r"quadratic loss against binary cross-entropy. The quadratic loss's curvature turns negative "
            r"where the unit is confidently wrong (not convex, and learning stalls there); bce's stays in "
            r"$[0, 1/4]$ (convex, $L = 1/4$).}",
            r"\label{fig:curvature}",
            r"\end{figure}",
        ]
    return "\n".join(lines) + "\n"
