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

import itertools

import sympy as sp
from sympy import Abs, Max, Min, Piecewise, Rational, S, exp, log, oo, sqrt
from sympy.codegen.cfunctions import expm1, log1p

from derive.compile.nodes import Bound, Minus, Quotient
from derive.symbolic.named import Facts, NamedFunction, expand_named, facts, ncdf  # noqa: F401  (their home)

__all__ = [
    "NamedFunction", "sigmoid", "softplus", "relu", "leaky_relu", "elu", "silu", "gelu", "Phi", "Facts", "facts",
    "ncdf", "expand_named", "selu", "xlogx", "SELU_SCALE", "SELU_ALPHA", "CONSTANTS",
]

LEAKY_SLOPE = Rational(1, 100)
# Past this bound sigma(x) rounds to 1, so exp need not overflow: a symbol, its value per format
# derive.kernels.bits.bound's (39 in float64, 47 in long double)
SIGMOID_SATURATION = Bound("sigmoid_saturation")


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
        # e/(1 + e), e = exp(min(x, s)): one exp, never overflowing. (scipy's expit(-710) is 0:
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
    """leaky_relu(x, s) = x if x > 0 else s x (s = 1/100 when not given); derivative 1 or s (s at 0).

    For s in [0, 1] (the catalogue's slope domain is [0, 1)) it is max(x, s x); s = 0 is relu."""

    latex_name, pretty_name = r"\operatorname{LeakyReLU}", "LeakyReLU"
    nargs = (1, 2)
    params, param_defaults = ("slope",), (LEAKY_SLOPE,)
    positive_where_argument_is = True  # for s >= 0
    increasing, ends = True, (-oo, oo)  # for s > 0 (s = 0: relu, nondecreasing onto [0, oo))

    @classmethod
    def eval(cls, x, *params):
        if x.is_Number and all(p.is_Number for p in params):
            return cls.definition(x, *params)
        return super().eval(x, *params)

    @classmethod
    def definition(cls, x, slope=LEAKY_SLOPE):
        return Piecewise((x, x > 0), (slope * x, True))

    @classmethod
    def lowering(cls, x, slope=LEAKY_SLOPE):
        # max(x, slope x) needs slope <= 1; this needs nothing of slope, and is exact (slope 0 = 0)
        return Max(x, 0) + slope * Min(x, 0) if slope != LEAKY_SLOPE else Max(x, LEAKY_SLOPE * x)


class elu(NamedFunction):
    """elu(x, alpha) = x if x > 0 else alpha (e^x - 1) (alpha = 1 when not given); elu' = 1 if x > 0 else elu + alpha."""

    latex_name, pretty_name = r"\operatorname{ELU}", "ELU"
    nargs = (1, 2)
    params, param_defaults = ("alpha",), (S.One,)
    at_zero = S.Zero
    positive_where_argument_is = True  # for alpha > 0
    increasing, ends = True, (-S.One, oo)  # alpha given: (-alpha, oo) (``facts``)

    @classmethod
    def definition(cls, x, alpha=S.One):
        return Piecewise((x, x > 0), (alpha * (exp(x) - 1), True))

    @classmethod
    def lowering(cls, x, alpha=S.One):
        # max(x, 0) + alpha expm1(min(x, 0)): e^x - 1 in the untaken branch overflows at x = 1000
        return Max(x, 0) + alpha * expm1(Min(x, 0))

    @classmethod
    def residual(cls, x, y, alpha=S.One):
        # elu(x) - y = alpha e^x - (alpha + y) for x < -1/2: elu(-50) + alpha rounds to 0; the value is alpha 1.9e-22
        tail = alpha * exp(Min(x, 0))
        tail = Minus(tail, alpha + y) if alpha + y != 0 else tail  # a + alpha (elu' through a): alpha e^x
        return Piecewise((tail, x < -Rational(1, 2)), (cls.lowering(x, alpha) - y, True))

    @classmethod
    def param_ends(cls, alpha):
        return -alpha, oo


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
    constants = {SELU_SCALE: r"\lambda", SELU_ALPHA: r"\alpha"}
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


def _named_constants() -> dict:
    """value -> LaTeX name of every named constant and of each product of one function's constants (SymPy
    multiplies lambda alpha into one Rational, which is then named lambda alpha)."""
    out = {}
    for cls in NAMED.values():
        items = list(cls.constants.items())
        for size in range(1, len(items) + 1):
            for combo in itertools.combinations(items, size):
                out[sp.Mul(*(v for v, _ in combo))] = " ".join(tex for _, tex in combo)
    return out


CONSTANTS = _named_constants()
