"""The catalogue's named functions as SymPy ``Function`` classes.

Each class knows its derivative (``fdiff``), its definition in elementary
functions (``rewrite(exp)`` / ``rewrite(Piecewise)``), its LaTeX name and its
high-precision value (``evalf`` through the definition), so a derivation prints
as ``sigma(z)*(1 - sigma(z))`` rather than a tower of exponentials, and a
numeric printer can map each name to stable code.

>>> from sympy import Symbol, diff, exp
>>> z = Symbol("z", real=True)
>>> diff(sigmoid(z), z)
(1 - sigmoid(z))*sigmoid(z)
>>> sigmoid(z).rewrite(exp)
1/(1 + exp(-z))
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Function, Piecewise, Rational, S, exp, log, oo, sqrt

__all__ = ["sigmoid", "softplus", "relu", "leaky_relu", "elu", "silu", "gelu", "Phi", "Facts", "facts"]

LEAKY_SLOPE = Rational(1, 100)


class _Named(Function):
    """A named elementwise function of one real argument.

    Subclasses give ``definition(x)`` (elementary), ``derivative(x)`` (in named
    functions where that reads better) and ``latex_name``.
    """

    nargs = 1
    latex_name = r"\operatorname{f}"
    pretty_name = "f"
    # The facts the proofs checker reads (through ``facts``):
    increasing = False  # strictly increasing on the reals
    ends = None  # (f(-oo), f(oo)) when increasing, else None
    positive_on_reals = False  # f(x) > 0 for every real x
    real_on_reals = True  # f(x) is real for every real x

    @classmethod
    def derivative(cls, x):
        t = sp.Dummy("t", real=True)  # x may be a compound argument
        return sp.diff(cls.definition(t), t).subs(t, x)

    def fdiff(self, argindex=1):
        return self.derivative(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return self.definition(x).rewrite(exp)

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return self.definition(x)

    def _eval_evalf(self, prec):
        return self.definition(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.positive_on_reals and self.args[0].is_extended_real:
            return True

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        name = self.latex_name if exp is None else f"{self.latex_name}^{{{exp}}}"
        return rf"{name}\left({arg}\right)"

    def _pretty(self, printer):
        name = self.pretty_name if printer._use_unicode else type(self).__name__
        return printer._helper_print_function(self.func, self.args, func_name=name)

    def _sympystr(self, printer):
        return f"{type(self).__name__}({printer._print(self.args[0])})"


class sigmoid(_Named):
    """sigma(x) = 1 / (1 + e^{-x}); sigma' = sigma (1 - sigma)."""

    latex_name = r"\sigma"
    pretty_name = "σ"
    positive_on_reals = True
    increasing, ends = True, (S.Zero, S.One)

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero

    @classmethod
    def definition(cls, x):
        return 1 / (1 + exp(-x))

    @classmethod
    def derivative(cls, x):
        return sigmoid(x) * (1 - sigmoid(x))

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return (1 + sp.tanh(x / 2)) / 2


class softplus(_Named):
    """softplus(x) = ln(1 + e^x); softplus' = sigma(x)."""

    latex_name = r"\operatorname{softplus}"
    pretty_name = "softplus"
    positive_on_reals = True
    increasing, ends = True, (S.Zero, oo)

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return log(2)

    @classmethod
    def definition(cls, x):
        return log(1 + exp(x))

    @classmethod
    def derivative(cls, x):
        return sigmoid(x)


class relu(_Named):
    """relu(x) = max(0, x); relu'(x) = 1 if x > 0 else 0 (relu'(0) = 0, as PyTorch and JAX)."""

    latex_name = r"\operatorname{ReLU}"
    pretty_name = "ReLU"

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Max(S.Zero, x)

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (0, True))

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(0, x)

    def _eval_is_nonnegative(self):
        if self.args[0].is_extended_real:
            return True


class leaky_relu(_Named):
    """leaky_relu(x) = x if x > 0 else x/100; derivative 1 or 1/100 (1/100 at 0)."""

    latex_name = r"\operatorname{LeakyReLU}"
    pretty_name = "LeakyReLU"
    increasing, ends = True, (-oo, oo)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return cls.definition(x)

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (LEAKY_SLOPE * x, True))


class elu(_Named):
    """elu(x) = x if x > 0 else e^x - 1 (alpha = 1); elu' = 1 if x > 0 else elu(x) + 1."""

    latex_name = r"\operatorname{ELU}"
    pretty_name = "ELU"
    increasing, ends = True, (-S.One, oo)

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Zero

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (exp(x) - 1, True))


class Phi(_Named):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF; Phi' = e^{-x^2/2} / sqrt(2 pi)."""

    latex_name = r"\Phi"
    pretty_name = "Φ"
    positive_on_reals = True
    increasing, ends = True, (S.Zero, S.One)

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Half

    @classmethod
    def definition(cls, x):
        return (1 + sp.erf(x / sqrt(2))) / 2

    @classmethod
    def derivative(cls, x):
        return exp(-(x**2) / 2) / sqrt(2 * sp.pi)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return self.definition(x)  # erf has no exp form: keep it

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(-x / sqrt(2)) / 2


class silu(_Named):
    """silu(x) = x sigma(x); silu' = sigma(x) (1 + x (1 - sigma(x)))."""

    latex_name = r"\operatorname{SiLU}"
    pretty_name = "SiLU"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Zero

    @classmethod
    def definition(cls, x):
        return x / (1 + exp(-x))

    @classmethod
    def derivative(cls, x):
        return sigmoid(x) * (1 + x * (1 - sigmoid(x)))

    def _eval_rewrite_as_sigmoid(self, x, **kwargs):
        return x * sigmoid(x)


class gelu(_Named):
    """gelu(x) = x Phi(x) (exact, erf form); gelu' = Phi(x) + x e^{-x^2/2} / sqrt(2 pi)."""

    latex_name = r"\operatorname{GELU}"
    pretty_name = "GELU"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Zero

    @classmethod
    def definition(cls, x):
        return x * (1 + sp.erf(x / sqrt(2))) / 2

    @classmethod
    def derivative(cls, x):
        return Phi(x) + x * Phi.derivative(x)

    def _eval_rewrite_as_Phi(self, x, **kwargs):
        return x * Phi(x)


NAMED = {cls.__name__: cls for cls in (sigmoid, softplus, relu, leaky_relu, elu, Phi, silu, gelu)}


def expand_named(expr):
    """Replace every named function by its elementary definition."""
    return expr.replace(lambda e: isinstance(e, _Named), lambda e: e.definition(e.args[0]))


@dataclass(frozen=True)
class Facts:
    """What the proofs checker may assume of F(x) for real x.

    increasing: strictly increasing on the reals, so F maps [lo, hi] onto [F(lo), F(hi)];
    ends: (F(-oo), F(oo)) when increasing, else None; positive: F(x) > 0; real: F(x) is real.
    """

    increasing: bool
    ends: tuple | None
    positive: bool
    real: bool


# The SymPy built-ins the checker reasons about (the named functions carry theirs as class attributes).
_BUILTIN_FACTS = {
    sp.exp: Facts(True, (S.Zero, oo), True, True),
    sp.tanh: Facts(True, (-S.One, S.One), False, True),
    sp.erf: Facts(True, (-S.One, S.One), False, True),
    sp.atan: Facts(True, (-sp.pi / 2, sp.pi / 2), False, True),
    sp.sinh: Facts(True, (-oo, oo), False, True),
    sp.cosh: Facts(False, None, True, True),
    sp.Abs: Facts(False, None, False, True),
}


def facts(func) -> Facts | None:
    """The facts known of ``func`` (a function class, or an application such as sigmoid(x)); None if unknown."""
    cls = func if isinstance(func, type) else getattr(func, "func", None)
    if isinstance(cls, type) and issubclass(cls, _Named):
        return Facts(cls.increasing, cls.ends, cls.positive_on_reals, cls.real_on_reals)
    return _BUILTIN_FACTS.get(cls)
