"""Named constants (SELU's lambda and alpha) are typeset by name, their values stated once: a 32-digit exact
rational printed as a fraction ran 194 pt off the report's page."""

from __future__ import annotations

import re

import sympy as sp

from derive.docs.printer import layer_latex
from derive.docs.tables import activations_section
from derive.symbolic.catalogue import ACTIVATIONS
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import as_, zs

# Klambauer et al. (2017), the published digits
PUBLISHED = {r"\lambda": "1.0507009873554804934193349852946", r"\alpha": "1.6732632423543772848170429916717"}


def test_selu_prints_its_constants_by_name():
    selu = ACTIVATIONS["selu"]
    for expr in (expand_named(selu.f(zs)), selu.prime(as_, zs), selu.range):
        shown = layer_latex(expr)
        assert r"\lambda" in shown and not re.search(r"\d{8}", shown), shown
    assert layer_latex(selu.range) == r"\left(- \lambda \alpha, \infty\right)"


def test_naming_changes_only_the_print():
    # the expression itself keeps the exact rational: the printer substitutes a name, the math is unchanged
    selu = ACTIVATIONS["selu"]
    assert selu.range.inf == -sp.Rational(PUBLISHED[r"\lambda"]) * sp.Rational(PUBLISHED[r"\alpha"])
    assert layer_latex(sp.Rational(PUBLISHED[r"\lambda"]) * zs + 1) == r"\lambda z + 1"
    assert layer_latex(sp.Rational(1, 3)) == r"\frac{1}{3}"  # other rationals are untouched


def test_the_activation_table_states_the_values_once():
    tex = activations_section({})
    for tex_name, digits in PUBLISHED.items():
        assert tex.count(f"{tex_name} = {digits}") == 1, tex_name
