r"""LaTeX for one pairing, in the notation of seed 002 (layer L fed by layer L-1).

    z^L_j = sum_k w^L_jk a^{L-1}_k + b^L_j,   a^L_j = f(z^L_j),   C = sum_j l(a^L_j, y_j)

Every formula goes through SymPy's LaTeX printer; ``LayerPrinter`` only names
the indexed symbols and writes derivatives as partial-derivative fractions.

>>> from derive.symbolic.symbols import C, a, x, w
>>> import sympy as sp
>>> layer_latex(sp.Derivative(C, a[j], evaluate=False))
'\\frac{\\partial C}{\\partial {a^{L}_{j}}}'
>>> layer_latex(x[k]), layer_latex(w[j, k])
('{a^{L-1}_{k}}', '{w^{L}_{jk}}')
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy as sp

from derive.docs.printer import NOTATION, LayerPrinter, layer_latex
from derive.symbolic.pairing import Derivation, derive_pair, outputs_as_logits
from derive.symbolic.symbols import C, a, b, j, k, w, y

__all__ = ["NOTATION", "LayerPrinter", "layer_latex", "text", "math_signs", "name", "equation", "label", "pairing_body", "pairing_document", "PREAMBLE"]

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\^{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "~": r"\~{}",
}


def text(s: str) -> str:
    """Plain text (a step's description, an assumption, a reason) safe for LaTeX.

    ``oo`` reads as infinity, ``-`` before a number or ``oo`` as a minus sign; an identifier such as
    leaky_relu is set as a ``name``.
    """
    escaped = "".join(_TEXT_ESCAPES.get(ch, ch) for ch in s)
    escaped = _IDENTIFIER.sub(lambda match: name(match.group().replace(r"\_", "_")), escaped)
    return math_signs(escaped)


def math_signs(escaped: str) -> str:
    """In LaTeX text, ``oo`` as infinity and ``-`` before a number or ``oo`` as a minus sign: [-1, oo)."""
    escaped = re.sub(r"(?<![A-Za-z0-9])-(?=\.?\d)", r"$-$", escaped)
    return re.sub(r"(?<![A-Za-z0-9])(-?)oo(?![A-Za-z])", r"$\1\\infty$", escaped)


_IDENTIFIER = re.compile(r"(?<![A-Za-z\\])[a-z]{3,}(?:\\_[a-z]{3,})+(?![A-Za-z])")


def name(s: str) -> str:
    """A catalogue name or a dotted path in typewriter type, with a real underscore glyph (so PDF text search
    finds it), breakable after its dots and colons."""
    # a line may break after a dot or a colon of a dotted path (proofs.report:latex_section)
    shown = s.replace("_", r"\char95{}").replace(".", r".\allowbreak{}").replace(":", r":\allowbreak{}")
    return r"\texttt{" + shown + "}"


def equation(lhs, rhs) -> str:
    r"""``lhs = rhs`` as a displayed equation, scaled to the line width when it is wider (``\fiteq``)."""
    return rf"\fiteq{{{layer_latex(lhs)} = {layer_latex(rhs)}}}"


PREAMBLE = r"""\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{booktabs,longtable,array}
\usepackage[margin=2.2cm]{geometry}
\usepackage{xcolor}
\usepackage[hidelinks]{hyperref}
\emergencystretch=3em % a long identifier moves to the next line instead of running into the margin
\newsavebox{\fiteqbox}
% A display that is scaled down to the line width when it would overflow it.
\newcommand{\fiteq}[1]{\sbox{\fiteqbox}{$\displaystyle #1$}%
\[\ifdim\wd\fiteqbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fiteqbox}}\else\usebox{\fiteqbox}\fi\]}
"""

NOTATION_TEXT = (
    r"Output layer $L$ with units $j = 1,\dots,n$ fed by the $n_{in}$ outputs $a^{L-1}_k$ of layer $L-1$ "
    r"(the input $x_k$ when $L$ is the first layer): weighted input $z^L_j$, weights $w^L_{jk}$, "
    r"biases $b^L_j$, output $a^L_j = f(z^L_j)$, targets $y_j$, cost $C$. "
    r"The error signal is $\delta^L_j = \partial C / \partial z^L_j$; "
    r"$\delta_{ij}$ (two indices) is Kronecker's delta."
)


def _partial(expr, wrt):
    return sp.Derivative(expr, wrt, evaluate=False)


def label(activation: str, loss: str) -> str:
    """The LaTeX label of a pairing's derivation: pair:sigmoid-bce."""
    return f"pair:{activation}-{loss}".replace("_", "")


def pairing_body(d: Derivation, section: str = "section", notation: bool = True) -> str:
    """The derivation of one pairing: definitions, every ``Step`` of ``d.steps``, delta, dC/db and dC/dw.

    ``notation=False`` leaves out the notation paragraph (the report states it once).
    """
    lines = [rf"\{section}{{{name(d.activation)} + {name(d.loss)}}}\label{{{label(d.activation, d.loss)}}}"]
    if notation:
        lines.append(rf"\paragraph{{Definitions.}} {NOTATION_TEXT}")
    lines += _parameters(d)
    lines += [
        r"\paragraph{Chain rule, step by step.} Each line is what SymPy computed; the first three define the layer and its cost.",
        r"\begin{enumerate}",
    ]
    for step in d.steps:
        lines += [rf"\item {text(step.description)}", equation(step.lhs, step.rhs)]
    lines += [r"\end{enumerate}", r"\paragraph{Result.}"]
    error = sp.Symbol(r"\delta^{L}_{j}")
    lines.append(equation(error, d.delta))
    in_z = outputs_as_logits(d.delta, d.activation)  # parameters kept as symbols
    if in_z != d.delta:
        lines += ["written in $z$:", equation(error, in_z)]
    lines.append(equation(_partial(C, b[j]), d.grad_b))
    lines.append(equation(_partial(C, w[j, k]), d.grad_w))
    if d.values:
        at = {p.symbol: v for p in d.params for name, v in d.values if name == p.name}
        shown = ", ".join(f"${layer_latex(s)} = {_number(v)}$" for s, v in at.items())
        lines += [f"At {shown}:", equation(error, _at(d.delta, at))]
        if in_z != d.delta:
            lines.append(equation(error, _at(in_z, at)))
    if d.canonical:
        lines.append(
            r"This is a \emph{canonical pairing}: the activation's derivative cancels against the "
            rf"loss's, so $\delta^L_j = {layer_latex(a[j] - y[j])}$ and the gradient does not vanish "
            r"when the unit saturates."
        )
    for note in d.assumptions:
        lines.append(rf"\emph{{Assumed:}} {text(note)}.")
    return "\n".join(lines) + "\n"


def _number(v) -> str:
    """A parameter's value as given: 0.5 stays 0.5 (not 1/2), a SymPy number in SymPy's LaTeX."""
    return repr(v) if isinstance(v, (int, float)) else sp.latex(v)


def _at(expr, values: dict):
    """``expr`` with the parameters at the given values, a float as the decimal it reads as (0.1 -> 1/10, not
    its binary value: the value the user wrote, which ``repr`` gives back)."""
    exact = {s: sp.Rational(*Fraction(repr(v)).as_integer_ratio()) if isinstance(v, float) else v for s, v in values.items()}
    return sp.factor_terms(expr.xreplace(exact))


def _parameters(d: Derivation) -> list[str]:
    """The parameters paragraph: each symbol with its domain, and the value given or its default."""
    if not d.params:
        return []
    given = dict(d.values)
    items = [rf"${layer_latex(p.symbol)} \in {sp.latex(p.domain)}$, "
             + (f"given ${_number(given[p.name])}$" if p.name in given else f"default ${sp.latex(p.default)}$")
             for p in d.params]
    then = " The result is then shown at the given values." if given else " No value is given: the result holds for every value in the domain."
    return [r"\paragraph{Parameters.} " + "; ".join(items) + ". Every step keeps the parameters as symbols." + then]


def pairing_document(activation: str, loss: str, **values) -> str:
    """A standalone LaTeX document deriving ``activation`` + ``loss`` (PairingError if invalid); ``values``:
    parameters given (``alpha=0.5``), checked against their domains: the steps keep the symbols, the result
    is also shown at the values."""
    d = derive_pair(activation, loss, **values)
    return "\n".join(
        [
            r"\documentclass[11pt]{article}",
            PREAMBLE,
            r"\begin{document}",
            pairing_body(d, "section*"),
            r"\end{document}",
            "",
        ]
    )
