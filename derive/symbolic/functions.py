"""The catalogue's named functions as SymPy ``Function`` classes.

Each class is the one home of what the system knows about its function: the
derivative (``fdiff``), the definition in elementary functions (``rewrite(exp)`` /
``rewrite(Piecewise)``), the LaTeX and unicode names, the facts the proofs checker
may assume (``facts``), the stable form the kernels evaluate (``lowering``, read
by the lowering phase of ``derive.compile.rewrite``) and the form the mpmath
oracle evaluates (``oracle``, read by ``derive.testing.reference``). So a
derivation prints as ``sigma(z)*(1 - sigma(z))`` rather than a tower of
exponentials, and adding a function is adding one class.

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
from sympy import Abs, Function, Max, Min, Piecewise, Rational, S, exp, log, oo, sqrt
from sympy.codegen.cfunctions import expm1, log1p

from derive.compile.nodes import Quotient

__all__ = [
    "NamedFunction", "sigmoid", "softplus", "relu", "leaky_relu", "elu", "silu", "gelu", "Phi", "Facts", "facts",
    "ncdf", "expand_named", "selu", "xlogx", "SELU_SCALE", "SELU_ALPHA",
]

LEAKY_SLOPE = Rational(1, 100)
# Past 40 sigma(x) rounds to 1 in float64 (and float32): exp need not overflow.
SIGMOID_SATURATION = 40

# mpmath.ncdf, the normal CDF accurate in both tails: a name in oracle forms, evaluated by the oracle.
ncdf = sp.Function("ncdf")


class NamedFunction(Function):
    """A named elementwise function of one real argument.

    Subclasses give ``definition(x)`` (elementary), ``derivative(x)`` (in named
    functions where that reads better), ``latex_name``, the checker's facts, and
    where the definition is not how to evaluate it: ``lowering(x)`` (a stable
    form for the kernels, None for a primitive the printers know) and
    ``oracle(x)`` (the high-precision form, by default the definition).
    """

    nargs = 1
    latex_name = r"\operatorname{f}"
    pretty_name = "f"
    # The facts the proofs checker reads (through ``facts``):
    increasing = False  # strictly increasing on the reals
    ends = None  # (f(-oo), f(oo)) when increasing, else None
    positive_on_reals = False  # f(x) > 0 for every real x
    real_on_reals = True  # f(x) is real for every real x
    positive_where_argument_is = False  # f(x) > 0 exactly when x > 0
    at_zero = None  # f(0) in closed form, when it has one

    @classmethod
    def eval(cls, x):
        if x is S.Zero and cls.at_zero is not None:
            return cls.at_zero

    @classmethod
    def derivative(cls, x):
        t = sp.Dummy("t", real=True)  # x may be a compound argument
        return sp.diff(cls.definition(t), t).subs(t, x)

    @classmethod
    def lowering(cls, x):
        """The form the kernels evaluate, stable for every float x; None: a primitive of the printers."""
        return None

    @classmethod
    def oracle(cls, x):
        """The form mpmath evaluates at high precision (may use ``ncdf``)."""
        return cls.definition(x)

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


class sigmoid(NamedFunction):
    """sigma(x) = 1 / (1 + e^{-x}); sigma' = sigma (1 - sigma)."""

    latex_name, pretty_name = r"\sigma", "σ"
    positive_on_reals = True
    increasing, ends = True, (S.Zero, S.One)

    at_zero = S.Half

    @classmethod
    def eval(cls, x):
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero
        return super().eval(x)

    @classmethod
    def definition(cls, x):
        return 1 / (1 + exp(-x))

    @classmethod
    def lowering(cls, x):
        # e/(1 + e), e = exp(min(x, 40)): one exp, never overflowing. (scipy's expit(-710) is 0:
        # it flushes sigma = 4.5e-309 to zero, and -710*sigma(-710) = -3.2e-306 with it.)
        e = exp(Min(x, SIGMOID_SATURATION))
        return Quotient(e, 1 + e)

    @classmethod
    def derivative(cls, x):
        return sigmoid(x) * (1 - sigmoid(x))

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return (1 + sp.tanh(x / 2)) / 2


class softplus(NamedFunction):
    """softplus(x) = ln(1 + e^x); softplus' = sigma(x)."""

    latex_name, pretty_name = r"\operatorname{softplus}", "softplus"
    at_zero = log(2)
    positive_on_reals = True
    increasing, ends = True, (S.Zero, oo)

    @classmethod
    def definition(cls, x):
        return log(1 + exp(x))

    @classmethod
    def lowering(cls, x):
        # max(x, 0) + log1p(exp(-|x|)): log(1 + e^1000) overflows (logaddexp(x, 0) is right but 3x slower)
        return Max(x, 0) + log1p(exp(-Abs(x)))

    @classmethod
    def derivative(cls, x):
        return sigmoid(x)


class relu(NamedFunction):
    """relu(x) = max(0, x); relu'(x) = 1 if x > 0 else 0 (relu'(0) = 0, as PyTorch and JAX)."""

    latex_name, pretty_name = r"\operatorname{ReLU}", "ReLU"
    positive_where_argument_is = True

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Max(S.Zero, x)

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (0, True))

    @classmethod
    def lowering(cls, x):
        return Max(x, 0)

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(0, x)

    def _eval_is_nonnegative(self):
        if self.args[0].is_extended_real:
            return True


class leaky_relu(NamedFunction):
    """leaky_relu(x) = x if x > 0 else x/100; derivative 1 or 1/100 (1/100 at 0)."""

    latex_name, pretty_name = r"\operatorname{LeakyReLU}", "LeakyReLU"
    positive_where_argument_is = True
    increasing, ends = True, (-oo, oo)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return cls.definition(x)

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (LEAKY_SLOPE * x, True))

    @classmethod
    def lowering(cls, x):
        return Max(x, LEAKY_SLOPE * x)  # the slope is below 1


class elu(NamedFunction):
    """elu(x) = x if x > 0 else e^x - 1 (alpha = 1); elu' = 1 if x > 0 else elu(x) + 1."""

    latex_name, pretty_name = r"\operatorname{ELU}", "ELU"
    at_zero = S.Zero
    positive_where_argument_is = True
    increasing, ends = True, (-S.One, oo)

    @classmethod
    def definition(cls, x):
        return Piecewise((x, x > 0), (exp(x) - 1, True))

    @classmethod
    def lowering(cls, x):
        # max(x, 0) + expm1(min(x, 0)): e^x - 1 in the untaken branch overflows at x = 1000
        return Max(x, 0) + expm1(Min(x, 0))


class Phi(NamedFunction):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF; Phi' = e^{-x^2/2} / sqrt(2 pi)."""

    latex_name, pretty_name = r"\Phi", "Φ"
    at_zero = S.Half
    positive_on_reals = True
    increasing, ends = True, (S.Zero, S.One)

    @classmethod
    def definition(cls, x):
        return (1 + sp.erf(x / sqrt(2))) / 2

    @classmethod
    def derivative(cls, x):
        return exp(-(x**2) / 2) / sqrt(2 * sp.pi)

    @classmethod
    def oracle(cls, x):
        return ncdf(x)  # (1 + erf(x/sqrt 2))/2 cancels in the left tail; mpmath.ncdf does not

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return self.definition(x)  # erf has no exp form: keep it

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(-x / sqrt(2)) / 2


class silu(NamedFunction):
    """silu(x) = x sigma(x); silu' = sigma(x) (1 + x (1 - sigma(x)))."""

    latex_name, pretty_name = r"\operatorname{SiLU}", "SiLU"
    at_zero = S.Zero
    positive_where_argument_is = True

    @classmethod
    def definition(cls, x):
        return x / (1 + exp(-x))

    @classmethod
    def derivative(cls, x):
        return sigmoid(x) * (1 + x * (1 - sigmoid(x)))

    @classmethod
    def lowering(cls, x):
        return x * sigmoid(x)  # x/(1 + e^{-x}) overflows e^{-x} at x = -1000

    def _eval_rewrite_as_sigmoid(self, x, **kwargs):
        return x * sigmoid(x)


class gelu(NamedFunction):
    """gelu(x) = x Phi(x) (exact, erf form); gelu' = Phi(x) + x e^{-x^2/2} / sqrt(2 pi)."""

    latex_name, pretty_name = r"\operatorname{GELU}", "GELU"
    at_zero = S.Zero
    positive_where_argument_is = True

    @classmethod
    def definition(cls, x):
        return x * (1 + sp.erf(x / sqrt(2))) / 2

    @classmethod
    def derivative(cls, x):
        return Phi(x) + x * Phi.derivative(x)

    @classmethod
    def lowering(cls, x):
        return x * Phi(x)  # Phi is a primitive: ndtr, by erfc

    @classmethod
    def oracle(cls, x):
        return x * ncdf(x)

    def _eval_rewrite_as_Phi(self, x, **kwargs):
        return x * Phi(x)

# SELU's constants (Klambauer et al. 2017): the published 32 significant digits, as exact rationals
SELU_SCALE = Rational("1.0507009873554804934193349852946")
SELU_ALPHA = Rational("1.6732632423543772848170429916717")


class selu(NamedFunction):
    """selu(x) = lambda x if x > 0 else lambda alpha (e^x - 1); selu' = lambda if x > 0 else lambda alpha e^x."""

    latex_name, pretty_name = r"\operatorname{SELU}", "SELU"
    at_zero = S.Zero
    positive_where_argument_is = True
    increasing, ends = True, (-SELU_SCALE * SELU_ALPHA, oo)

    @classmethod
    def definition(cls, x):
        return Piecewise((SELU_SCALE * x, x > 0), (SELU_SCALE * SELU_ALPHA * (exp(x) - 1), True))

    @classmethod
    def lowering(cls, x):
        # lambda (max(x, 0) + alpha expm1(min(x, 0))): e^x - 1 in the untaken branch overflows at x = 1000
        return SELU_SCALE * (Max(x, 0) + SELU_ALPHA * expm1(Min(x, 0)))


class xlogx(NamedFunction):
    """xlogx(x) = x ln x for x > 0, 0 for x <= 0 (0 ln 0 = 0, the limit); xlogx' = 1 + ln x for x > 0."""

    latex_name, pretty_name = r"\operatorname{xlogx}", "xlogx"
    at_zero = S.Zero

    @classmethod
    def definition(cls, x):
        return Piecewise((x * log(x), x > 0), (0, True))

    @classmethod
    def lowering(cls, x):
        # x ln(x + [x <= 0]): ln 1 = 0 where x <= 0, no log(0) (a divide warning, then 0 * -inf = nan)
        return x * log(Max(x, 0) + Piecewise((1, x <= 0), (0, True)))

    def _latex(self, printer, exp=None):
        arg = printer.parenthesize(self.args[0], sp.printing.precedence.PRECEDENCE["Mul"])
        return rf"{arg} \ln {arg}" if exp is None else rf"\left({arg} \ln {arg}\right)^{{{exp}}}"


_Named = NamedFunction  # the name proofs.equality imports

# every named function of this module, in the order defined: a new class is in it
NAMED = {cls.__name__: cls for cls in NamedFunction.__subclasses__() if cls.__module__ == __name__}


def expand_named(expr):
    """Replace every named function by its elementary definition."""
    return expr.replace(lambda e: isinstance(e, NamedFunction), lambda e: expand_named(e.definition(e.args[0])))


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
    if isinstance(cls, type) and issubclass(cls, NamedFunction):
        return Facts(cls.increasing, cls.ends, cls.positive_on_reals, cls.real_on_reals)
    return _BUILTIN_FACTS.get(cls)
