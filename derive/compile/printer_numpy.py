'''The NumPy in-place printer: an expression in Z, Y, N as three-address ufunc calls into reused buffers.

``sp.cse`` names the shared subexpressions; each operation is one call that writes into a buffer (``out=``), reused
once its value is dead; the result goes into the caller's ``out`` when given. Every name printed comes from the table
``NUMPY_NAMES`` (a line per node): another library with the same in-place calls is this emitter with another table.

>>> from derive.compile.expressions import Y, Z
>>> print(function_source("f", "z, y, shape, dtype", Z - Y, doc="a - y,  a = z"))
def f(z, y, shape, dtype, empty=np.empty, out=None):
    """a - y,  a = z
<BLANKLINE>
    evaluated as: -y + z
    """
    b0 = empty(shape, dtype) if out is None else out
    np.subtract(z, y, out=b0)
    return b0
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
'''

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy import Abs, Max, Min, Mul, Piecewise, S, exp, log, sign
from sympy.codegen.cfunctions import expm1, log1p

from derive.compile import nodes
from derive.compile.expressions import N, Y, Z
from derive.compile.patterns import clamp_of, signs_out
from derive.compile.underflow import slow_paths_apart
from derive.kernels import bits
from derive.compile.nodes import (ROW_FUNCTIONS, Bound, Clip, LogProduct, Minus, Quotient, RowSum, copysign, log1m_softmax, log_softmax,
                                  softmax, softmax_odds_vjp, softmax_residual, softmax_vjp, softmax_vjp_clipped_residual,
                                  softmax_vjp_residual, step)
from derive.symbolic.functions import Phi

__all__ = ["NUMPY_NAMES", "function_source"]

NUMPY_NAMES = {  # what each node and operation prints as (autograd style: one line each); elementwise functions
    exp: "np.exp",
    log: "np.log",
    expm1: "np.expm1",
    log1p: "np.log1p",
    sp.tanh: "np.tanh",
    sp.sinh: "np.sinh",
    sp.cosh: "np.cosh",
    sp.sin: "np.sin",
    sp.cos: "np.cos",
    sp.atan: "np.arctan",
    Abs: "np.abs",
    sign: "np.sign",
    Phi: "bits.ndtr",
    Max: "np.maximum",
    Min: "np.minimum",
    Clip: "np.clip",
    Minus: "np.subtract",
    Quotient: "np.divide",
    nodes.Over: "bits.over",
    copysign: "bits.copysign",  # on the sign bits, with a scratch buffer (see _Emitter.value)
    # comparisons: masks
    sp.StrictGreaterThan: "np.greater",
    sp.GreaterThan: "np.greater_equal",
    sp.StrictLessThan: "np.less",
    sp.LessThan: "np.less_equal",
    # functions of whole rows
    softmax: "rows.softmax",
    log_softmax: "rows.log_softmax",
    log1m_softmax: "rows.log1m_softmax",
    nodes.xlog_softmax: "rows.xlog_softmax",
    nodes.xlog1m_softmax: "rows.xlog1m_softmax", nodes.softmax_cce: "rows.softmax_cce",
    softmax_odds_vjp: "rows.softmax_odds_vjp",
    softmax_residual: "rows.softmax_residual",
    softmax_vjp: "rows.softmax_vjp",
    softmax_vjp_residual: "rows.softmax_vjp_residual",
    softmax_vjp_clipped_residual: "rows.softmax_vjp_clipped_residual",
    # what the emitter writes for sums, products, powers, selections, sums over rows and buffers
    "add": "np.add",
    "subtract": "np.subtract",
    "negative": "np.negative",
    "multiply": "np.multiply",
    "divide": "np.divide",
    "square": "np.square",
    "sqrt": "np.sqrt",
    "power": "np.power",
    "signbit": "np.signbit",
    "logical_not": "np.logical_not",
    sp.And: "np.logical_and",
    sp.Or: "np.logical_or",
    "negative_abs": "bits.negative_abs",  # -|x|: the sign bit set
    "signed": "bits.signed",  # copysign(c, x) for a number c >= 0, on the sign bits
    "sum": "rows.row_sum", "dot": "rows.row_dot",  # over the last axis, keepdims: BLAS dots (faster than add.reduce)
    "copyto": "np.copyto",
    "select": "bits.select",  # a where mask, on the bits, with a scratch buffer
    "bound": "bits.bound",  # a clamp or threshold of the dtype (nodes.Bound), read once per call
    "patch": "bits.patch",  # LogProduct: the log-space value on the lanes where a factor underflowed
    nodes.log_ndtr: "bits.log_ndtr",
    "empty": "np.empty", "bool": "np.bool_",
}


@dataclass
class _Val:
    code: str
    kind: str  # "const", "input", "full" (a buffer), "row" (..., 1), "mask"
    uses: int = 1  # remaining reads; a buffer is free again at 0


@dataclass
class _Emitter:
    """Turns cse'd expressions into lines ``f(args, out=bK)``, f from ``names``, reusing dead buffers."""

    leaves: dict
    names: dict = field(default_factory=lambda: NUMPY_NAMES)
    lines: list = field(default_factory=list)
    free: list = field(default_factory=list)
    nbuf: int = 0
    ntmp: int = 0
    named: dict = field(default_factory=dict)

    def emit(self, replacements, root):
        counts = {}
        for e in [r for _, r in replacements] + [root]:
            for s in e.free_symbols:
                counts[s] = counts.get(s, 0) + sum(1 for t in sp.preorder_traversal(e) if t == s)
        for sym, sub in replacements:
            self.named[sym] = v = self.value(sub)
            v.uses = counts.get(sym, 0)
        return self.value(root)

    def value(self, e) -> _Val:
        if e in self.named:
            return self.named[e]
        if e in self.leaves:
            return _Val(*self.leaves[e], 10**9)
        if e.is_number:
            return _Val(repr(float(e)), "const", 10**9)
        if _scalar(e):  # a scalar of the shape or the dtype: n, 2/n, tanh_clamp (read by function_source)
            return _Val(f"({sp.pycode(e)})", "const", 10**9)
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, Piecewise):
            return self._piecewise(e)
        if isinstance(e, sp.Rel) and type(e) in self.names:
            lhs, rhs = self.value(e.lhs), self.value(e.rhs)
            return self._call(self.names[type(e)], [lhs, rhs], kind="mask")
        if isinstance(e, sp.ITE):  # a condition on a Piecewise (huber of selu): as and/or/not of masks
            return self.value(e.to_nnf())
        if isinstance(e, (sp.And, sp.Or)):
            first, *rest = (self.value(c) for c in e.args)
            for other in rest:
                first = self._call(self.names[type(e)], [first, other], kind="mask")
            return first
        if isinstance(e, sp.Not):
            return self._call(self.names["logical_not"], [self.value(e.args[0])], kind="mask")
        if isinstance(e, step):  # sign bit clear: 1, else 0 (a bool array; exact in arithmetic)
            sb = self._call(self.names["signbit"], [self.value(e.args[0])], kind="mask")
            return self._call(self.names["logical_not"], [sb], kind="mask")
        if isinstance(e, (copysign, nodes.softmax_cce)):  # through a scratch buffer: sign bits; a row's differences
            args, row = [self.value(arg) for arg in e.args], isinstance(e, nodes.softmax_cce)
            scratch = self._buffer()
            result = self._call(self.names[type(e)], args, kind="row" if row else None, tail=(f"scratch={scratch}",))
            self.free.append(scratch)
            return result
        if isinstance(e, LogProduct):
            return self._product(*e.args)
        if isinstance(e, nodes.SignedExp):  # s e^l, as written (SymPy's exp would take log|r| out of it)
            acc = self._call(self.names[exp], [self.value(e.args[1])])
            return acc if e.args[0] == 1 else self._call(self.names["multiply"], [acc, self.value(e.args[0])])
        if isinstance(e, RowSum):  # RowSum(x**2) as the dot x.x: no pass squaring x
            square = e.args[0].is_Pow and e.args[0].exp == 2
            (arg := self.value(e.args[0].base if square else e.args[0])).uses += square  # the dot reads it twice
            return self._call(self.names["dot" if square else "sum"], [arg] * (1 + square), kind="row")
        if isinstance(e, (Max, Min)) and len(e.args) > 2:
            first, *rest = e.args
            return self.value(type(e)(first, type(e)(*rest), evaluate=False))
        if type(e) in self.names:
            args = [self.value(x) for x in e.args]
            tail = ("empty=empty",) if type(e) in ROW_FUNCTIONS else ()  # their buffers come from ours too
            xlog = type(e) in (nodes.xlog_softmax, nodes.xlog1m_softmax)  # they write out before reading w
            return self._call(self.names[type(e)], args, tail=tail, overwrite=not xlog)
        raise TypeError(f"no NumPy form for {type(e).__name__}: {e}")

    @staticmethod
    def _ordered(terms):
        """Terms of a sum (or a list of them) in evaluation order. Exact terms first: (1 - y) - s keeps the
        digits of a small s that (1 - s) - y would round away."""
        terms = list(getattr(terms, "args", terms))
        exact = [t for t in terms if t.free_symbols <= {Y, N}]
        if len(exact) < 2:
            return sorted(terms, key=lambda t: t.could_extract_minus_sign())
        return sorted(terms, key=lambda t: (0 if t.is_number else 1 if t in exact else 2, t.could_extract_minus_sign()))

    def _add(self, e):
        terms, acc = list(e.args), None
        for t in terms:  # k step(x) - k/2 = copysign(k/2, x), exact: the sign bits, no bool masks, first as a number
            k, f = t.as_coeff_Mul()
            if isinstance(f, step) and k.is_positive and -k / 2 in terms:
                terms = [u for u in terms if u not in (t, -k / 2)]
                acc = self._call(self.names["signed"], [self.value(k / 2), self.value(f.args[0])])
                break
        rest = self._ordered(terms)
        if acc is None:
            first, *rest = rest
            negated = first.could_extract_minus_sign() and not first.is_number
            acc = self._call(self.names["negative"], [self.value(-first)]) if negated else self.value(first)
        for t in rest:
            if t.could_extract_minus_sign():
                acc = self._call(self.names["subtract"], [acc, self.value(-t)])
            else:
                acc = self._call(self.names["add"], [acc, self.value(t)])
        return acc

    def _mul(self, e):
        if len(e.args) == 2 and e.args[0] == -1 and isinstance(e.args[1], Abs):  # -|x|: set the sign bit
            return self._call(self.names["negative_abs"], [self.value(e.args[1].args[0])])
        coeff, factors = e.as_coeff_mul()
        consts = [f for f in factors if _scalar(f)]
        coeff = coeff * Mul(*consts)
        factors = [f for f in factors if not _scalar(f)]
        num = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
        den = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
        if not num and coeff != 1 and not (den and coeff == -1):
            num, coeff = [coeff], S.One
        acc = self.value(num[0]) if num else _Val("1.0", "const", 10**9)
        for f in num[1:]:
            acc = self._call(self.names["multiply"], [acc, self.value(f)])
        for d in den:  # one factor at a time, u**2 as two divisions: u*u overflows where 1/u/u is a float
            for part in [d.base] * int(d.exp) if d.is_Pow and d.exp.is_Integer and 1 < d.exp <= 3 else [d]:
                acc = self._call(self.names["divide"], [acc, self.value(part)])
        if coeff == -1:
            acc = self._call(self.names["negative"], [acc])
        elif coeff != 1:
            acc = self._call(self.names["multiply"], [acc, self.value(coeff)])
        return acc

    def _pow(self, e):
        base, p = e.args
        if p == 2:
            return self._call(self.names["square"], [self.value(base)])
        if p == S.Half:
            return self._call(self.names["sqrt"], [self.value(base)])
        if p.is_negative:
            return self._mul(e)  # 1 divided by each factor of 1/e
        return self._call(self.names["power"], [self.value(base), self.value(p)])

    def _piecewise(self, e):
        (*branches, (last, cond)) = e.args
        assert cond == True  # noqa: E712  (catalogue Piecewise always end in an otherwise-branch)
        if len(branches) == 1 and _step(*branches[0], last) and type(branches[0][1]) in self.names:
            # Piecewise((c1, r), (c0, True)) -> max(c1 r, c0), r compared into a float buffer (0 or 1),
            # exact for c1 > c0 >= 0: a masked write costs as much as 15 such passes (random masks)
            (c1, rel) = branches[0]
            acc = self._call(self.names[type(rel)], [self.value(rel.lhs), self.value(rel.rhs)])
            if c1 != 1:
                acc = self._call(self.names["multiply"], [acc, self.value(c1)])
            return self._call(self.names[Max], [acc, self.value(last)]) if last != 0 else acc
        if (clamp := clamp_of(e, _run_line)) is not None:  # a line clipped at both ends: one np.clip
            return self.value(clamp)
        # The last branch everywhere, then each earlier branch where its condition holds.
        acc = self.value(last)
        if acc.kind != "full" or acc.uses != 1:
            acc = self._copy(acc)
        for expr, c in reversed(branches):
            mask = self.value(c)
            val = self.value(expr)  # then picked on the bits: a masked write costs 20 plain passes
            scratch = self._buffer()
            self.lines.append(f"{self.names['select']}({mask.code}, {val.code}, out={acc.code}, scratch={scratch})")
            self.free.append(scratch)
            self._release(val)
            self._release(mask)
        return acc

    def _product(self, p, r, slow):
        """p r into a buffer, then the log-space value ``slow`` (a function printed apart, named by the
        placeholder ``function_source`` put there) on the lanes where p underflowed: ``bits.patch``."""
        vp, vr = self.value(p), self.value(r)
        vp.uses, vr.uses = vp.uses + 1, vr.uses + 1  # read again by patch: not overwritten by the product
        acc = self._call(self.names["multiply"], [vp, vr])
        scratch = self._buffer()
        params = "".join(f", {code}={code}" for e, (code, _) in self.leaves.items() if e not in (Z, Y, N))
        self.lines.append(f"{self.names['patch']}({acc.code}, {vp.code}, {vr.code}, {slow.name}, z, y, dtype, "
                          f"scratch={scratch}{params})")
        self.free.append(scratch)
        self._release(vp)
        self._release(vr)
        return acc

    # buffers -------------------------------------------------------------
    def _buffer(self):
        if self.free:
            return self.free.pop()
        self.nbuf += 1
        name = f"b{self.nbuf - 1}"
        self.lines.append(f"{name} = empty(shape, dtype)")
        return name

    def _copy(self, v):
        buf = self._buffer()
        self.lines.append(f"{self.names['copyto']}({buf}, {v.code})")
        self._release(v)
        return _Val(buf, "full")

    def _release(self, v):
        v.uses -= 1
        if v.uses == 0 and v.kind == "full":
            self.free.append(v.code)

    def _call(self, fn, args, kind=None, tail=(), overwrite=True):
        full = any(v.kind in ("full", "input", "mask") for v in args)  # arithmetic on a mask: full size
        if kind is None:
            kind = "full" if full else ("row" if any(v.kind == "row" for v in args) else "const")
        argcode = ", ".join([v.code for v in args] + list(tail))
        if kind == "full":
            # write over an operand that dies here, else a free buffer, else a new one
            dying = next((v for v in args if v.kind == "full" and v.uses == 1), None) if overwrite else None
            buf = None if overwrite else self._buffer()  # taken before the operands' buffers are freed
            for v in args:
                self._release(v)
            if dying is not None:
                self.free.remove(dying.code)
                buf = dying.code
            else:
                buf = buf or self._buffer()
            self.lines.append(f"{fn}({argcode}, out={buf})")
            return _Val(buf, "full")
        for v in args:
            self._release(v)
        self.ntmp += 1
        name = f"t{self.ntmp - 1}"
        if kind == "mask" and any(v.kind in ("full", "input", "mask") for v in args):  # full size: from empty() too
            argcode += f", out=empty(shape, {self.names['bool']})"
        self.lines.append(f"{name} = {fn}({argcode})")
        return _Val(name, kind)


def _scalar(e) -> bool:
    """e is one number per call: made of n (the units) and the dtype's bounds (nodes.Bound)."""
    return all(s == N or isinstance(s, Bound) for s in e.free_symbols)


def _step(c1, rel, c0):
    """Piecewise((c1, rel), (c0, True)) is max(c1 [rel], c0), exactly: numbers c1 > c0 >= 0, a comparison rel."""
    return c1.is_number and c0.is_number and isinstance(rel, sp.Rel) and bool(c1 > c0) and bool(c0 >= 0)


def _run_line(f, x, points, dtype):
    """f(points) by the printed calls (``patterns.clamp_of`` checks the ends of a clamp with them)."""
    scope = {"np": np, "bits": bits}
    exec(function_source("line", "z, shape, dtype", f.xreplace({x: Z})), scope)
    return scope["line"](points, points.shape, dtype)


def function_source(name: str, params: str, expr, *, reduce_last: bool = False, doc: str | None = None,
                    names: dict = NUMPY_NAMES) -> str:
    """``def name(params, empty=np.empty[, out=None]):`` evaluating ``expr`` with one buffer per
    live intermediate, each from ``empty(shape, dtype)``; the result's buffer is ``out`` when given
    (``derive.kernels.blocks`` passes a view of the whole result). Row results (``reduce_last``) are new.
    The docstring is ``doc`` (the formula the kernel equals) then the form evaluated; without ``doc``, that form."""
    shown = signs_out(expr)
    expr, slow = slow_paths_apart(shown, name)
    replacements, (root,) = sp.cse([expr], symbols=sp.numbered_symbols("c"))
    given = {s: (s.name, "const") for s in expr.free_symbols - {Z, Y, N, *slow} if not isinstance(s, Bound)}  # call-time parameters
    em = _Emitter({Z: ("z", "input"), Y: ("y", "input"), N: ("n", "const"), **given}, names)
    result = em.emit(replacements, root)
    body = []
    used = set().union(root.free_symbols, *(e.free_symbols for _, e in replacements))
    if N in used:
        body.append("n = shape[-1]")
    body += [f"{b} = {names['bound']}({b.name!r}, dtype)" for b in sorted(used, key=str) if isinstance(b, Bound)]
    body += em.lines
    if reduce_last:
        assert result.kind == "row", result
        params += f", empty={names['empty']}"
        ret = f"{result.code}[..., 0]"
    else:
        params += f", empty={names['empty']}, out=None"
        given = "empty(shape, dtype) if out is None else out"
        if result.kind in ("input", "const"):
            body += [f"out = {given}", f"{names['copyto']}(out, {result.code})"]
            ret = "out"
        else:
            ret = result.code
            body = [f"{ret} = {given}" if line == f"{ret} = empty(shape, dtype)" else line for line in body]
    text = sp.sstr(shown) if doc is None else f"{doc}\n\nevaluated as: {sp.sstr(shown)}\n"
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')  # a docstring, whatever the names
    lines = [f"def {name}({params}):", '    """' + text.replace("\n", "\n    ").replace("    \n", "\n") + '"""']
    lines += [f"    {line}" for line in body]
    lines.append(f"    return {ret}")
    apart = "".join(function_source(str(k), params.split(", empty=")[0], v, names=names) for k, v in slow.items())
    return apart + "\n".join(lines) + "\n\n\n"

