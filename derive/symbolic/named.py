"""The base class of the named functions (``derive.symbolic.functions``), their call-time parameters, and
the facts the proofs checker may assume of them and of SymPy's built-ins.

A named function F(x) or, with parameters, F(x, p) (elu(x, alpha)): its class methods
(definition, derivative, lowering, oracle, residual) take the parameters after x, and read from
an application (``e.lowering(e.args[0])``) they get the application's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Function, S, exp, oo

__all__ = ["NamedFunction", "ncdf", "expand_named", "Facts", "facts"]

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
    # Call-time parameters after the argument (elu(x, alpha)): their names and the values f(x) stands for.
    # The class methods below take them after x; read from an application f(x, p) they are filled in.
    params: tuple[str, ...] = ()
    param_defaults: tuple = ()
    latex_name = r"\operatorname{f}"
    pretty_name = "f"
    # The facts the proofs checker reads (through ``facts``):
    increasing = False  # strictly increasing on the reals
    ends = None  # (f(-oo), f(oo)) when increasing, else None
    positive_on_reals = False  # f(x) > 0 for every real x
    real_on_reals = True  # f(x) is real for every real x
    positive_where_argument_is = False  # f(x) > 0 exactly when x > 0
    at_zero = None  # f(0) in closed form, when it has one
    # Exact constants of the definition -> their LaTeX names (SELU's lambda, alpha): printed by name, so a
    # 32-digit rational is not typeset as a page-wide fraction; their values are stated once in the report.
    constants: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _PARAMETRIC_METHODS:
            if isinstance(cls.__dict__.get(name), classmethod):
                setattr(cls, name, _with_params(cls.__dict__[name].__func__))

    @classmethod
    def eval(cls, x, *params):
        if params and tuple(params) == tuple(cls.param_defaults):
            return cls(x)  # f(x, defaults) is f(x): one form per value
        if x is S.Zero and cls.at_zero is not None:
            return cls.at_zero

    @classmethod
    def derivative(cls, x, *params):
        t = sp.Dummy("t", real=True)  # x may be a compound argument
        return sp.diff(cls.definition(t, *params), t).subs(t, x)

    @classmethod
    def lowering(cls, x, *params):
        """The form the kernels evaluate, stable for every float x; None: a primitive of the printers."""
        return None

    @classmethod
    def oracle(cls, x, *params):
        """The form mpmath evaluates at high precision (may use ``ncdf``)."""
        return cls.definition(x, *params)

    def fdiff(self, argindex=1):
        if argindex == 1:
            return self.derivative(self.args[0])
        t, args = sp.Dummy("t", real=True), list(self.args)  # d/d parameter: of the definition
        args[argindex - 1] = t
        return sp.diff(self.definition(*args), t).subs(t, self.args[argindex - 1])

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return self.definition(*args).rewrite(exp)

    def _eval_rewrite_as_Piecewise(self, *args, **kwargs):
        return self.definition(*args)

    def _eval_evalf(self, prec):
        return self.definition(*self.args)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real and all(p.is_real for p in self.args[1:]) or None

    def _eval_is_positive(self):
        if self.positive_on_reals and self.args[0].is_extended_real:
            return True

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        name = self.latex_name  # parameters as subscripts: ELU_alpha(z)
        if len(self.args) > 1:
            name += "_{" + ", ".join(printer._print(p) for p in self.args[1:]) + "}"
        name = name if exp is None else f"{name}^{{{exp}}}"
        return rf"{name}\left({arg}\right)"

    def _pretty(self, printer):
        name = self.pretty_name if printer._use_unicode else type(self).__name__
        return printer._helper_print_function(self.func, self.args, func_name=name)

    def _sympystr(self, printer):
        return f"{type(self).__name__}({', '.join(printer._print(x) for x in self.args)})"


_PARAMETRIC_METHODS = ("definition", "derivative", "lowering", "oracle", "residual")


class _with_params(classmethod):
    """A class method m(x, *params): read from an application f(x, p) (``e.lowering(e.args[0])``), p is filled in."""

    def __get__(self, obj, cls=None):
        method = super().__get__(obj, cls)
        if obj is None or not isinstance(obj, NamedFunction) or len(obj.args) < 2:
            return method
        return lambda x, *given: method(x, *(given or obj.args[1:]))


for _name in _PARAMETRIC_METHODS[1:4]:
    setattr(NamedFunction, _name, _with_params(NamedFunction.__dict__[_name].__func__))


def expand_named(expr):
    """Replace every named function by its elementary definition."""
    return expr.replace(lambda e: isinstance(e, NamedFunction), lambda e: expand_named(e.definition(*e.args)))


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
        params = func.args[1:] if not isinstance(func, type) else ()
        if params:  # f(x, p): the ends at p where the class gives them; monotone only if they are known
            ends = cls.param_ends(*params) if hasattr(cls, "param_ends") else None
            return Facts(cls.increasing and ends is not None, ends, cls.positive_on_reals, cls.real_on_reals)
        return Facts(cls.increasing, cls.ends, cls.positive_on_reals, cls.real_on_reals)
    return _BUILTIN_FACTS.get(cls)
