"""The functional array-API printer: the same stabilised expressions, printed against ``xp``.

``python -m derive.compile`` writes ``derive/kernels/_generated_xp.py`` with it. Each function
evaluates one stabilised derivation (``derive.compile.rewrite``) functionally, no ``out=``,
no in-place writes, so it runs on any array namespace and under ``jax.jit``/``torch.compile``:

    def delta__sigmoid__bce(z, y, n, xp, ops):   # xp: the arrays' namespace, ops: derive.kernels.xp
        ...

The printer is SymPy's ``NumPyPrinter`` with another module name (``xp``), as SymPy's own
JAX and CuPy printers are; only the custom nodes of the rewrite rules and the functions with
scalar arguments (max, min, where, clip: the standard's versions take arrays only) are printed
as ``ops.<name>``, the functional primitives of ``derive.kernels.xp``.

>>> from derive.compile.expressions import Z
>>> from derive.compile.nodes import Quotient
>>> import sympy as sp
>>> print_xp(Quotient(sp.exp(sp.Min(40, Z)), 1 + sp.exp(sp.Min(40, Z))))
'((xp.exp(ops.minimum(40.0, z)))/(1.0 + xp.exp(ops.minimum(40.0, z))))'
>>> print_xp(sp.Min(rw.BOUNDS["tanh_clamp"], Z))
'ops.minimum(374.0, z)'
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp
from sympy.printing.numpy import NumPyPrinter, _known_functions_numpy
from sympy.printing.precedence import PRECEDENCE

from derive.compile import nodes as rw
from derive.compile.expressions import N, Y, Z, activation_expr, delta_expr, derivative_expr, loss_expr
from derive.compile.patterns import clamp_of
from derive.compile.printer_numpy import _Emitter, _run_line
from derive.compile.underflow import slow_paths_apart
from derive.kernels.bits import format_bounds
from derive.kernels.xp_ops import Ops
from derive.symbolic.catalogue import ACTIVATIONS, pairings
from derive.symbolic.functions import Phi

TARGET = Path(__file__).parent.parent / "kernels" / "_generated_xp.py"

# Nodes printed as a call of derive.kernels.xp_ops.Ops: by its name for every node of
# derive.compile.nodes that Ops has (clip, copysign, step, the softmax row functions); these by table.
OPS = {Phi: "ndtr", rw.log_ndtr: "log_ndtr", sp.Max: "maximum", sp.Min: "minimum"}
XP_BOUNDS = {**format_bounds(53, -1022), "tiny": 2.0**-1022}  # float64's (derive.kernels.bits)


class XpPrinter(NumPyPrinter):
    """NumPy's printer with ``xp`` for ``numpy``: ``xp.exp``, ``xp.log1p``, ``xp.tanh``, ..."""

    _module = "xp"
    _kf = {name: f"xp.{fn}" for name, fn in _known_functions_numpy.items()}  # the JAX printer's table, for xp

    def _print_Abs(self, expr):
        return f"xp.abs({self._print(expr.args[0])})"

    def _print_Mul(self, expr):
        # the numbers folded into one constant: sqrt(2)/(2 sqrt(pi)) is one rounding, not three
        numbers = [f for f in expr.args if f.is_number]
        if len(numbers) < 2:
            return super()._print_Mul(expr)
        rest = sp.Mul(*[f for f in expr.args if not f.is_number], evaluate=False)
        return f"{self._print(sp.Mul(*numbers))}*{self.parenthesize(rest, PRECEDENCE['Mul'])}"

    def _print(self, expr, **kwargs):
        # numbers as float literals (sqrt(2)/(2 sqrt(pi)), 1/100): xp.sqrt(2) is no array function
        if isinstance(expr, sp.Expr) and expr.is_number:
            value = float(expr)
            return f"({value!r})" if value < 0 else repr(value)
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr):
        if isinstance(expr, rw.Bound):  # array-API namespaces hold float32 and float64: float64's bound, a
            return repr(float(XP_BOUNDS[expr.name]))  # clamp past float32's threshold too (proofs.translation)
        return {Z: "z", Y: "y", N: "n"}.get(expr, super()._print_Symbol(expr))

    def _print_Add(self, expr, order=None):
        # exact terms first, as the NumPy printer does: (1 - y) - s keeps the digits of a small s
        terms = ordered_terms(expr)
        out = self._print(terms[0])
        for t in terms[1:]:
            if t.could_extract_minus_sign():
                out += " - " + self.parenthesize(-t, PRECEDENCE["Add"], strict=True)
            else:
                out += " + " + self.parenthesize(t, PRECEDENCE["Add"])
        return out

    def _print_Function(self, expr):
        name = OPS.get(type(expr))
        if name is None and type(expr).__module__ == rw.__name__:
            name = type(expr).__name__.lower()
            if not hasattr(Ops, name):
                raise TypeError(f"no functional form for the node {type(expr).__name__}: add Ops.{name} to "
                                "derive/kernels/xp_ops.py (the functional twin of its NumPy primitive)")
        if name is None:
            return super()._print_Function(expr)
        args = expr.args
        if type(expr) in (sp.Max, sp.Min) and len(args) > 2:  # pairwise
            args = (args[0], type(expr)(*args[1:], evaluate=False))
        return f"ops.{name}({', '.join(self._print(a) for a in args)})"

    _print_Max = _print_Min = _print_Function

    def _print_Minus(self, expr):
        p, q = expr.args
        return f"(({self._print(p)}) - ({self._print(q)}))"  # whole: no later step regroups it

    def _print_LogProduct(self, expr):
        # p r, with the log-space value on the lanes where p underflowed (derive.kernels.xp_ops.Ops.log_product):
        # the value is a function printed apart (function_source), called only when a lane needs it
        p, r, slow = expr.args
        return f"ops.log_product({self._print(p)}, {self._print(r)}, lambda: {slow.name}(z, y, n, xp, ops{self.passed}))"

    def _print_SignedExp(self, expr):
        s, lg = expr.args  # s e^l, as written (SymPy's exp would take log|r| out of it)
        return f"({self._print(s)})*xp.exp({self._print(lg)})"

    def _print_Over(self, expr):  # p * (1/k): the NumPy kernels' float32 and float64 (``bits.over``)
        p, k = expr.args
        return f"(({self._print(p)})*{1.0 / float(k)!r})"

    def _print_Quotient(self, expr):
        p, q = expr.args
        return f"(({self._print(p)})/({self._print(q)}))"  # divides before the product it is in multiplies

    def _print_RowSum(self, expr):
        return f"xp.sum({self._print(expr.args[0])}, axis=-1, keepdims=True)"

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr, fn="logical_and"):
        # pairwise: the standard's logical_and takes two arrays (NumPy's would print logical_and.reduce)
        out = self._print(expr.args[0])
        for c in expr.args[1:]:
            out = f"xp.{fn}({out}, {self._print(c)})"
        return out

    def _print_Or(self, expr):
        return self._print_And(expr, "logical_or")

    def _print_Not(self, expr):
        return f"xp.logical_not({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        # where(c1, e1, where(c2, e2, ... last)): every branch is evaluated, so the rules keep each finite
        (*branches, (last, cond)) = expr.args
        if cond != sp.true:
            raise TypeError(f"a Piecewise without an otherwise-branch has no array form: {expr}")
        if (clamp := clamp_of(expr, _run_line)) is not None:  # the NumPy printer's clip of the same line: same values
            return self._print(clamp)
        out = self._print(last)
        for e, c in reversed(branches):
            out = f"ops.where({self._print(c)}, {self._print(e)}, {out})"
        return out

    def _print_Pow(self, expr, rational=False):
        base, p = expr.args
        if p == sp.S.Half:
            return f"xp.sqrt({self._print(base)})"
        if p.is_Integer and p < 0:
            return f"1.0/({self._print(base ** -p)})"
        if p.is_Integer:
            return f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}**{int(p)}"
        return f"xp.pow({self._print(base)}, {self._print(p)})"


# Terms of a sum in the NumPy printer's evaluation order (exact terms first): one rule for both printers.
ordered_terms = _Emitter._ordered


def print_xp(expr, passed: str = "") -> str:
    """One expression in Z, Y, N as a functional expression over ``xp`` and ``ops``; ``passed``: the call-time
    parameters handed on to a log-space function (", alpha=alpha")."""
    printer = XpPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    printer.passed = passed
    return printer.doprint(expr)


def _cse(expr):
    """sp.cse of expr, with the subexpressions that are numbers put back: log(c), c = sqrt(2), is a Python float's
    log (no array function takes it); log(sqrt(2)) prints as one float."""
    replacements, (root,) = sp.cse([expr], symbols=sp.numbered_symbols("c"))
    numbers, kept = {}, []
    for sym, sub in replacements:
        sub = sub.xreplace(numbers)
        if sub.is_number:
            numbers[sym] = sub
        else:
            kept.append((sym, sub))
    return kept, root.xreplace(numbers)


def function_source(name: str, params: str, expr, *, reduce_last: bool = False, keywords: str = "") -> str:
    """``def name(params, n, xp, ops[, keywords]):`` evaluating ``expr`` through ``cse``: one line per shared
    subexpression. Row results (``reduce_last``) drop their length-1 last axis. ``keywords``: the
    call-time parameters with their defaults (", alpha=1.0"). A LogProduct's log-space value is a function of
    its own (``name__slow``, printed first), as in the NumPy kernels: cse shares nothing with it."""
    shown, slow = slow_paths_apart(expr, name)
    passed = "".join(f", {k}={k}" for k in (p.split("=")[0].strip() for p in keywords.split(",")) if k)
    apart = "".join(function_source(str(k), params, v, keywords=keywords) for k, v in slow.items())
    replacements, root = _cse(shown)
    lines = [f"def {name}({params}, n, xp, ops{keywords}):", f'    """{sp.sstr(expr)}"""']
    lines += [f"    {sym} = {print_xp(sub, passed)}" for sym, sub in replacements]
    result = print_xp(root, passed)
    lines.append(f"    return ({result})[..., 0]" if reduce_last else f"    return {result}")
    return apart + "\n".join(lines) + "\n\n\n"


HEADER = '''"""Kernel functions, functional over an array namespace, GENERATED by ``python -m derive.compile``: do not edit.

The same stabilised derivations as ``_generated`` (the NumPy in-place kernels), printed by
``derive.compile.printer_xp`` for any array API namespace ``xp`` (PyTorch, JAX, CuPy,
array-api-strict); ``ops`` is ``derive.kernels.xp``, the functional primitives (softmax rows,
sign bits, the normal CDF of each library). ``n`` is the number of units (the last axis).
This module imports nothing.
"""


'''


def _ident(text: str) -> str:
    return text.replace("-", "_")


def generate() -> str:
    """The source of ``derive/kernels/_generated_xp.py``: the functions and their tables."""
    parts, acts, pairs = [], [], []
    for name, act in ACTIVATIONS.items():
        fn = _ident(name)
        f = activation_expr(name) if act.elementwise else rw.softmax(Z)
        parts.append(function_source(f"act__{fn}", "z", f))
        if act.elementwise:
            parts.append(function_source(f"dact__{fn}", "z", derivative_expr(name)))
        acts.append(f"    {name!r}: (act__{fn}, {f'dact__{fn}' if act.elementwise else 'None'}),\n")
    for act, lo, reason in pairings():
        if reason is None:
            tag = f"{_ident(act)}__{_ident(lo)}"
            parts.append(function_source(f"loss__{tag}", "z, y", loss_expr(act, lo), reduce_last=True))
            parts.append(function_source(f"delta__{tag}", "z, y", delta_expr(act, lo)))
            pairs.append(f"    ({act!r}, {lo!r}): (loss__{tag}, delta__{tag}),\n")
    parts.append("ACTIVATIONS = {\n" + "".join(acts) + "}\n\nPAIRS = {\n" + "".join(pairs) + "}\n")
    return HEADER + "".join(parts)


def main(argv=None) -> int:
    TARGET.write_text(generate())
    print(f"wrote {TARGET}", file=sys.stderr)
    return 0


__all__ = ["XpPrinter", "print_xp", "function_source", "generate", "main"]
