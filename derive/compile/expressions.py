"""Each kernel as one SymPy expression in the whole arrays: what every printer prints.

Z and Y stand for the whole logit and target arrays and N for the number of units
(the last axis); an output a[j] becomes f(Z) (softmax: softmax(Z)) and a sum over
the units becomes RowSum. Then the rules of ``derive.compile.rewrite`` make it stable.

>>> delta_expr("sigmoid", "bce")
Minus(-y + step(z), copysign(Quotient(exp(-Abs(z)), 1 + exp(-Abs(z))), z))
>>> formula(derive_pair("sigmoid", "bce").delta), output_formula("sigmoid")
('a - y', 'a = sigmoid(z)')
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Sum

from derive.compile import parametric
from derive.compile.nodes import ROW_FUNCTIONS, RowSum, softmax
from derive.compile.rewrite import RULES, phases, targets_of
from derive.compile.rewrite import stabilize as _stabilize
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, on_change
from derive.symbolic.pairing import derive_pair, pairing_params
from derive.symbolic.symbols import a, j, n, y, z

__all__ = ["Z", "Y", "N", "ROW_FUNCTIONS", "loss_expr", "delta_expr", "activation_expr", "derivative_expr",
           "elementwise", "formula", "output_formula", "stabilize", "params_of", "param_keywords"]

# Scalar stand-ins: the whole z / y arrays, and n = number of units (last axis).
Z, Y, N = sp.symbols("z y n", real=True)
# the parameters' rules first: rewrite's rule for elu(x) - y would take elu(x, alpha) for elu(x)
_PHASES = phases(parametric.RULES + RULES)


def stabilize(expr):
    """``expr`` through the rules of every phase, the parameters' own included."""
    return _stabilize(expr, _PHASES)


def _in_logits(expr, activation: str):
    """a[.] -> f(Z) (softmax: softmax(Z)), y[.] -> Y, z[.] -> Z, Sum over units -> RowSum."""
    act = ACTIVATIONS[activation]
    out = act.f(Z, **act.symbols) if act.elementwise else softmax(Z)
    expr = expr.replace(lambda e: isinstance(e, Sum), lambda e: RowSum(e.function))
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed),
        lambda e: {a: out, y: Y, z: Z}[e.base],
    ).subs(n, N)


def _at(params, symbolic: bool) -> dict:
    """Parameter symbols -> their defaults, unless the kernel keeps them (``symbolic``: keyword arguments)."""
    return {} if symbolic else {p.symbol: p.default for p in params}


# Each kernel at the parameters' defaults (the rules for the fixed values apply: elu(z) - y, huber's
# clip at 1), or with the parameters as symbols (``symbolic``: the kernels that take them as keywords).
@cache
def delta_expr(activation: str, loss: str, symbolic: bool = False):
    """delta = dC/dz in the logits, stabilised."""
    d = derive_pair(activation, loss)
    with targets_of(LOSSES[loss].targets):
        return stabilize(sp.factor_terms(_in_logits(d.delta, activation).xreplace(_at(d.params, symbolic))))


@cache
def loss_expr(activation: str, loss: str, symbolic: bool = False):
    """C per sample in the logits, stabilised: RowSum(term) [/ n]."""
    d = derive_pair(activation, loss)
    with targets_of(LOSSES[loss].targets):
        return stabilize(_in_logits(d.cost, activation).xreplace(_at(d.params, symbolic)))


@cache
def activation_expr(name: str, symbolic: bool = False):
    """a = f(Z), stabilised."""
    act = ACTIVATIONS[name]
    return stabilize(act.f(Z, **act.symbols).xreplace(_at(act.params, symbolic)))


@cache
def derivative_expr(name: str, symbolic: bool = False):
    """f'(Z), through the output where the catalogue writes it so, stabilised."""
    act = ACTIVATIONS[name]
    return stabilize(act.prime(act.f(Z, **act.symbols), Z, **act.symbols).xreplace(_at(act.params, symbolic)))


for _cached in (delta_expr, loss_expr, activation_expr, derivative_expr):
    on_change(_cached.cache_clear)


def elementwise(expr) -> bool:
    """True when each entry of the result depends on the same entry of z and y only."""
    return N not in expr.free_symbols and not expr.has(*ROW_FUNCTIONS)


def params_of(activation: str, loss: str | None = None) -> tuple:
    """The call-time parameters of an activation, or of a pairing (the activation's, then the loss's)."""
    act = ACTIVATIONS[activation]
    return act.params if loss is None else pairing_params(act, LOSSES[loss])


def param_keywords(activation: str, loss: str | None = None) -> str:
    """The generated functions' keyword parameters with their defaults: ', alpha=1.0' ('' for none)."""
    return "".join(f", {p.name}={float(p.default)!r}" for p in params_of(activation, loss))


def formula(expr) -> str:
    """A derivation's expression as a reader writes it: the unit's own entries a[j], y[j], z[j] as a, y, z."""
    plain = {base: sp.Symbol(base.label.name, real=True) for base in (a, y, z)}
    return sp.sstr(expr.replace(lambda e: isinstance(e, sp.Indexed) and e.indices == (j,), lambda e: plain[e.base]))


def output_formula(activation: str) -> str:
    """'a = f(z)' for the activation (softmax: 'a = softmax(z)')."""
    act = ACTIVATIONS[activation]
    return f"a = {sp.sstr(act.f(sp.Symbol('z', real=True), **act.symbols)) if act.elementwise else 'softmax(z)'}"
