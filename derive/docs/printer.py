r"""SymPy's LaTeX printer in the report's layer notation, and the notebook display of a derivation.

    layer_latex(a[j]**2) -> \left({a^{L}_{j}}\right)^{2}        (layer L fed by layer L-1)
    derivation_latex(derive_pair("sigmoid", "bce"))  -> what ``Derivation._repr_latex_`` shows in Jupyter

Imports only SymPy and the symbols, so ``derive.symbolic.pairing`` can display
its objects with it.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.symbolic.functions import CONSTANTS
from derive.symbolic.symbols import C, b, j, k, w, x, y, z
from derive.symbolic.symbols import a as a_base

__all__ = ["NOTATION", "LayerPrinter", "layer_latex", "step_latex", "derivation_latex"]

# IndexedBase name -> (letter, layer superscript or None); x is the previous layer's output.
NOTATION = {
    z.label.name: ("z", "L"),
    a_base.label.name: ("a", "L"),
    w.label.name: ("w", "L"),
    b.label.name: ("b", "L"),
    x.label.name: ("a", "L-1"),
    y.label.name: ("y", None),
}

# value and its negative -> a symbol printed as the constant's name
_NAMED = {sign * v: sign * sp.Symbol(tex) for v, tex in CONSTANTS.items() for sign in (1, -1)}


class LayerPrinter(LatexPrinter):
    """SymPy's LaTeX printer with seed 002's layer notation: a[j] -> a^L_j, x[k] -> a^{L-1}_k."""

    _default_settings = {**LatexPrinter._default_settings, "layers": True}

    def __init__(self, settings=None):
        super().__init__({"ln_notation": True, **(settings or {})})

    def doprint(self, expr):
        # a named constant by its name (SELU's -lambda alpha), not as its 60-digit fraction
        if isinstance(expr, sp.Basic) and (found := expr.atoms(sp.Rational) & _NAMED.keys()):
            expr = expr.xreplace({v: _NAMED[v] for v in found})
        return super().doprint(expr)

    def _print_Indexed(self, expr):
        name = expr.base.label.name
        letter, layer = NOTATION.get(name, (name, None))
        if not self._settings["layers"]:
            letter, layer = name, None
        sub = "".join(self._print(index) for index in expr.indices)
        sup = f"^{{{layer}}}" if layer else ""
        # Outer braces: a power prints as {a^{L}_{j}}^{2}, not a double superscript.
        return f"{{{letter}{sup}_{{{sub}}}}}"

    def _helper_print_standard_power(self, expr, template: str) -> str:
        # (a^L_j)^2, not {a^L_j}^2, which reads as a_j to the power L2
        if isinstance(expr.base, sp.Indexed) and self._settings["layers"] and NOTATION.get(expr.base.base.label.name, (0, None))[1]:
            return template % (rf"\left({self._print(expr.base)}\right)", self._print(expr.exp))
        return super()._helper_print_standard_power(expr, template)

    def _print_Derivative(self, expr):
        order = sum(count for _, count in expr.variable_count)
        top = r"\partial" if order == 1 else rf"\partial^{{{order}}}"
        bottom = " ".join(
            rf"\partial {self._print(v)}" + (f"^{{{count}}}" if count > 1 else "")
            for v, count in expr.variable_count
        )
        if isinstance(expr.expr, (sp.Symbol, sp.Indexed)):
            return rf"\frac{{{top} {self._print(expr.expr)}}}{{{bottom}}}"
        return rf"\frac{{{top}}}{{{bottom}}}\left({self._print(expr.expr)}\right)"


def layer_latex(expr, layers: bool = True) -> str:
    """``expr`` in LaTeX, in the layer notation (``layers=False``: plain a_j, z_j, x_k)."""
    return LayerPrinter({"layers": layers}).doprint(expr)


def _words(s: str) -> str:
    r"""Text inside mathematics, valid for LaTeX and MathJax alike: \text{...}, with _ & % # set between."""
    kept = "".join(ch for ch in s if ch not in "\\{}$^~")
    for ch in "_&%#":
        kept = kept.replace(ch, "}\\" + ch + r"\text{")
    return r"\text{" + kept + "}"


def step_latex(step) -> str:
    """A ``Step`` for Jupyter: ``$\\displaystyle lhs = rhs$`` after its description."""
    return rf"$\displaystyle {_words(step.description + ':')}\quad {layer_latex(step.lhs)} = {layer_latex(step.rhs)}$"


def derivation_latex(d) -> str:
    """A ``Derivation`` for Jupyter: its steps, then delta, dC/db and dC/dw, aligned."""
    delta = sp.Symbol(r"\delta^{L}_{j}")
    rows = [rf"{_words(s.description)} && {layer_latex(s.lhs)} &= {layer_latex(s.rhs)}" for s in d.steps]
    rows += [
        rf"{_words('result')} && {layer_latex(delta)} &= {layer_latex(d.delta)}",
        rf"&& {layer_latex(sp.Derivative(C, b[j], evaluate=False))} &= {layer_latex(d.grad_b)}",
        rf"&& {layer_latex(sp.Derivative(C, w[j, k], evaluate=False))} &= {layer_latex(d.grad_w)}",
    ]
    rows += [rf"{_words('assumed: ' + note)} &&&" for note in d.assumptions]
    rows.insert(0, _words(f"{d.activation} + {d.loss}") + " &&&")
    return r"$$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$$"
