"""Write ``derive/kernels.py`` from the derivations: ``python -m derive.compile.generate``.

For every pairing of the catalogue, the derivation's delta and cost are written in
the logits (``Derivation.in_z`` style: a = f(z)), made stable by the rules of
``derive.compile.rewrite``, split by ``cse`` and printed as NumPy/SciPy ufunc calls that
write into preallocated buffers (``out=``): one output array, reused in place.

>>> src = generate()
>>> "def delta__sigmoid__bce(z, y, shape, dtype):" in src
True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sympy as sp
from sympy import Abs, Max, Min, Mul, Piecewise, S, Sum, exp, log, sign
from sympy.codegen.cfunctions import expm1, log1p

from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, pairings
from derive.symbolic.functions import Phi, sigmoid, softplus
from derive.symbolic.pairing import derive_pair
from derive.compile.rewrite import Clip, Minus, Quotient, RowSum, copysign, step, log1m_softmax, softmax_odds_vjp, softmax_residual, softmax_vjp, softmax_vjp_residual, softmax_vjp_clipped_residual, log_softmax, softmax, stabilize
from derive.symbolic.symbols import a, n, y, z

TARGET = Path(__file__).parent.parent / "kernels" / "_generated.py"

# Scalar stand-ins: the whole z / y arrays, and n = number of units (last axis).
Z, Y, N = sp.symbols("z y n", real=True)

# One ufunc per function node: the printer's table (autograd style: one line each).
UFUNCS = {
    exp: "np.exp",
    log: "np.log",
    expm1: "np.expm1",
    log1p: "np.log1p",
    sp.tanh: "np.tanh",
    Abs: "np.abs",
    sign: "np.sign",
    Phi: "bits.ndtr",
    Max: "np.maximum",
    Min: "np.minimum",
    Clip: "np.clip",
    Minus: "np.subtract",
    Quotient: "np.divide",
    copysign: "bits.copysign",  # on the sign bits, with a scratch buffer (see _Emitter.value)
    softmax: "rows.softmax",
    log_softmax: "rows.log_softmax",
    log1m_softmax: "rows.log1m_softmax",
    softmax_odds_vjp: "rows.softmax_odds_vjp",
    softmax_residual: "rows.softmax_residual",
    softmax_vjp: "rows.softmax_vjp",
    softmax_vjp_residual: "rows.softmax_vjp_residual",
    softmax_vjp_clipped_residual: "rows.softmax_vjp_clipped_residual",
}
EXTRA_ARGS = {}
# functions of whole rows: a kernel calling one is evaluated on whole rows only (derive.kernels.blocks)
ROW_FUNCTIONS = (softmax, log_softmax, log1m_softmax, softmax_odds_vjp, softmax_residual, softmax_vjp,
                 softmax_vjp_residual, softmax_vjp_clipped_residual, RowSum)
RELATIONS = {
    sp.StrictGreaterThan: "np.greater",
    sp.GreaterThan: "np.greater_equal",
    sp.StrictLessThan: "np.less",
    sp.LessThan: "np.less_equal",
}


# --- symbolic: one pairing's kernels as expressions in Z, Y, N -------------------------------


def _in_logits(expr, activation: str):
    """a[.] -> f(Z) (softmax: softmax(Z)), y[.] -> Y, z[.] -> Z, Sum over units -> RowSum."""
    act = ACTIVATIONS[activation]
    out = act.f(Z) if act.elementwise else softmax(Z)
    expr = expr.replace(lambda e: isinstance(e, Sum), lambda e: RowSum(e.function))
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed),
        lambda e: {a: out, y: Y, z: Z}[e.base],
    ).subs(n, N)


@cache
def delta_expr(activation: str, loss: str):
    """delta = dC/dz in the logits, stabilised."""
    d = derive_pair(activation, loss)
    return stabilize(sp.factor_terms(_in_logits(d.delta, activation)))


@cache
def loss_expr(activation: str, loss: str):
    """C per sample in the logits, stabilised: RowSum(term) [/ n]."""
    d = derive_pair(activation, loss)
    return stabilize(_in_logits(d.cost, activation))


def activation_expr(name: str):
    return stabilize(ACTIVATIONS[name].f(Z))


def derivative_expr(name: str):
    act = ACTIVATIONS[name]
    return stabilize(act.prime(act.f(Z), Z))


# --- printing: three-address ufunc calls into reused buffers -----------------------------------


@dataclass
class _Val:
    code: str
    kind: str  # "const", "input", "full" (a buffer), "row" (..., 1), "mask"
    uses: int = 1  # remaining reads; a buffer is free again at 0


@dataclass
class _Emitter:
    """Turns cse'd expressions into lines ``np.f(args, out=bK)``, reusing dead buffers."""

    leaves: dict
    lines: list = field(default_factory=list)
    free: list = field(default_factory=list)
    nbuf: int = 0
    ntmp: int = 0
    named: dict = field(default_factory=dict)

    def emit(self, replacements, root):
        counts = {}
        for e in [r for _, r in replacements] + [root]:
            for s in e.free_symbols:
                counts[s] = counts.get(s, 0) + _count(e, s)
        for sym, sub in replacements:
            v = self.value(sub)
            v.uses = counts.get(sym, 0)
            self.named[sym] = v
        return self.value(root)

    # values --------------------------------------------------------------
    def value(self, e) -> _Val:
        if e in self.named:
            return self.named[e]
        if e in self.leaves:
            code, kind = self.leaves[e]
            return _Val(code, kind, 10**9)
        if e.is_number:
            return _Val(repr(float(e)), "const", 10**9)
        if e.free_symbols <= {N}:  # a scalar of the shape: n, 2/n
            return _Val(f"({sp.pycode(e)})", "const", 10**9)
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, Piecewise):
            return self._piecewise(e)
        if type(e) in RELATIONS:
            lhs, rhs = self.value(e.lhs), self.value(e.rhs)
            return self._call(RELATIONS[type(e)], [lhs, rhs], kind="mask")
        if isinstance(e, step):  # sign bit clear: 1, else 0 (a bool array; exact in arithmetic)
            sb = self._call("np.signbit", [self.value(e.args[0])], kind="mask")
            return self._call("np.logical_not", [sb], kind="mask")
        if isinstance(e, copysign):  # the runtime sets sign bits through a scratch buffer
            p, x = (self.value(arg) for arg in e.args)
            scratch = self._buffer()
            result = self._call(UFUNCS[copysign], [p, x], tail=(f"scratch={scratch}",))
            self.free.append(scratch)
            return result
        if isinstance(e, RowSum):
            arg = self.value(e.args[0])
            return self._call("np.sum", [arg], kind="row", tail=("axis=-1", "keepdims=True"))
        if isinstance(e, (Max, Min)) and len(e.args) > 2:
            first, *rest = e.args
            return self.value(type(e)(first, type(e)(*rest), evaluate=False))
        if type(e) in UFUNCS:
            args = [self.value(x) for x in e.args]
            extra = [_Val(c, "const", 10**9) for c in EXTRA_ARGS.get(type(e), ())]
            tail = ("empty=empty",) if type(e) in ROW_FUNCTIONS else ()  # their buffers come from ours too
            return self._call(UFUNCS[type(e)], args + extra, tail=tail)
        raise TypeError(f"no NumPy form for {type(e).__name__}: {e}")

    @staticmethod
    def _ordered(e):
        """Terms of a sum in evaluation order. Exact terms first: (1 - y) - s keeps the digits
        of a small s that (1 - s) - y would round away."""
        exact = [t for t in e.args if t.free_symbols <= {Y, N}]
        if len(exact) >= 2:
            key = lambda t: (0 if t.is_number else 1 if t in exact else 2, t.could_extract_minus_sign())  # noqa: E731
        else:
            key = lambda t: t.could_extract_minus_sign()  # noqa: E731
        return sorted(e.args, key=key)

    def _add(self, e, into=None):
        first, *rest = self._ordered(e)
        if first.could_extract_minus_sign() and not first.is_number:
            acc = self._call("np.negative", [self.value(-first)])
        else:
            acc = self.value(first)
        for n_, t in enumerate(rest):
            target = into if n_ == len(rest) - 1 else None
            if t.could_extract_minus_sign():
                acc = self._call("np.subtract", [acc, self.value(-t)], into=target)
            else:
                acc = self._call("np.add", [acc, self.value(t)], into=target)
        return acc

    def _mul(self, e):
        if len(e.args) == 2 and e.args[0] == -1 and isinstance(e.args[1], Abs):  # -|x|: set the sign bit
            return self._call("bits.negative_abs", [self.value(e.args[1].args[0])])
        coeff, factors = e.as_coeff_mul()
        consts = [f for f in factors if f.free_symbols <= {N}]
        coeff = coeff * Mul(*consts)
        factors = [f for f in factors if not f.free_symbols <= {N}]
        num = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
        den = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
        if not num and coeff != 1 and not (den and coeff == -1):
            num, coeff = [coeff], S.One
        acc = self.value(num[0]) if num else _Val("1.0", "const", 10**9)
        for f in num[1:]:
            acc = self._call("np.multiply", [acc, self.value(f)])
        if den:
            acc = self._call("np.divide", [acc, self.value(Mul(*den))])
        if coeff == -1:
            acc = self._call("np.negative", [acc])
        elif coeff != 1:
            acc = self._call("np.multiply", [acc, self.value(coeff)])
        return acc

    def _pow(self, e):
        base, p = e.args
        if p == 2:
            return self._call("np.square", [self.value(base)])
        if p == S.Half:
            return self._call("np.sqrt", [self.value(base)])
        if p.is_negative:
            return self._call("np.divide", [_Val("1.0", "const", 10**9), self.value(1 / e)])
        return self._call("np.power", [self.value(base), self.value(p)])

    def _piecewise(self, e):
        # The last branch everywhere, then each earlier branch where its condition holds:
        # a sum's last operation writes straight into the result under the mask.
        (*branches, (last, cond)) = e.args
        assert cond == True  # noqa: E712  (catalogue Piecewise always end in an otherwise-branch)
        acc = self.value(last)
        if acc.kind != "full" or acc.uses != 1:
            acc = self._copy(acc)
        for expr, c in reversed(branches):
            mask = self.value(c)
            if isinstance(expr, Minus):
                self._call("np.subtract", [self.value(x) for x in expr.args], into=(acc, mask))
            elif expr.is_Add:
                self._add(expr, into=(acc, mask))
            else:
                val = self.value(expr)
                self.lines.append(f"np.copyto({acc.code}, {val.code}, where={mask.code})")
                self._release(val)
            self._release(mask)
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
        self.lines.append(f"np.copyto({buf}, {v.code})")
        self._release(v)
        return _Val(buf, "full")

    def _release(self, v):
        v.uses -= 1
        if v.uses == 0 and v.kind == "full":
            self.free.append(v.code)

    def _call(self, fn, args, kind=None, tail=(), into=None):
        full = any(v.kind in ("full", "input") for v in args)
        if kind is None:
            kind = "full" if full else ("row" if any(v.kind == "row" for v in args) else "const")
        argcode = ", ".join([v.code for v in args] + list(tail))
        if into is not None:  # write only where the mask holds, into an existing result
            target, mask = into
            self.lines.append(f"{fn}({argcode}, out={target.code}, where={mask.code})")
            for v in args:
                self._release(v)
            return target
        if kind == "full":
            # write over an operand that dies here, else a free buffer, else a new one
            dying = next((v for v in args if v.kind == "full" and v.uses == 1), None)
            for v in args:
                self._release(v)
            if dying is not None:
                self.free.remove(dying.code)
                buf = dying.code
            else:
                buf = self._buffer()
            self.lines.append(f"{fn}({argcode}, out={buf})")
            return _Val(buf, "full")
        for v in args:
            self._release(v)
        self.ntmp += 1
        name = f"t{self.ntmp - 1}"
        if kind == "mask" and any(v.kind in ("full", "input", "mask") for v in args):  # full size: from empty() too
            argcode += ", out=empty(shape, np.bool_)"
        self.lines.append(f"{name} = {fn}({argcode})")
        return _Val(name, kind)


def _count(expr, sym):
    return sum(1 for s in sp.preorder_traversal(expr) if s == sym)


def _ident(text: str) -> str:
    return text.replace("-", "_")


def _row_constants_out(expr):
    """RowSum(c*f) -> c*RowSum(f) for numbers c: the sign or scale then costs a row, not a pass."""
    def pull(e):
        coeff, rest = e.args[0].as_coeff_Mul()
        return coeff * RowSum(rest) if coeff != 1 else e
    return expr.replace(lambda e: isinstance(e, RowSum), pull)


def function_source(name: str, params: str, expr, *, reduce_last: bool = False) -> str:
    """``def name(params, empty=np.empty[, out=None]):`` evaluating ``expr`` with one buffer per
    live intermediate, each from ``empty(shape, dtype)``; the result's buffer is ``out`` when given
    (``derive.kernels.blocks`` passes a view of the whole result). Row results (``reduce_last``) are new."""
    expr = _row_constants_out(expr)
    replacements, (root,) = sp.cse([expr], symbols=sp.numbered_symbols("c"))
    em = _Emitter({Z: ("z", "input"), Y: ("y", "input"), N: ("n", "const")})
    result = em.emit(replacements, root)
    body = []
    if any(N in e.free_symbols for _, e in replacements) or N in root.free_symbols:
        body.append("n = shape[-1]")
    body += em.lines
    if reduce_last:
        assert result.kind == "row", result
        params += ", empty=np.empty"
        ret = f"{result.code}[..., 0]"
    else:
        params += ", empty=np.empty, out=None"
        given = "empty(shape, dtype) if out is None else out"
        if result.kind in ("input", "const"):
            body += [f"out = {given}", f"np.copyto(out, {result.code})"]
            ret = "out"
        else:
            ret = result.code
            body = [f"{ret} = {given}" if line == f"{ret} = empty(shape, dtype)" else line for line in body]
    doc = f'    """{sp.sstr(expr)}"""'
    lines = [f"def {name}({params}):", doc]
    lines += [f"    {line}" for line in body]
    lines.append(f"    return {ret}")
    return "\n".join(lines) + "\n\n\n"


def elementwise(expr) -> bool:
    """True when each entry of the result depends on the same entry of z and y only."""
    return N not in expr.free_symbols and not expr.has(*ROW_FUNCTIONS)


# --- the module ------------------------------------------------------------------------------

HEADER = '''"""Kernel functions and tables, GENERATED by ``python -m derive.compile`` from the derivations: do not edit.

The public front is ``derive.kernels`` (``get``, ``activation``). Each function evaluates the stabilised derivation shown in its docstring; ``shape``
and ``dtype`` are the broadcast shape and the floating dtype of the arguments, and
``empty(shape, dtype)`` makes its buffers (``derive.kernels.blocks`` reuses them per block).
This module does not import SymPy.
"""

import numpy as np

from derive.kernels import bits, rows


'''


@cache
def generate() -> str:
    """The source of ``derive/kernels.py``."""
    parts, pointwise = [], []

    def emit(name, params, expr, **kw):
        parts.append(function_source(name, params, expr, **kw))
        if elementwise(expr):
            pointwise.append(name)

    for name, act in ACTIVATIONS.items():
        fn = _ident(name)
        if act.elementwise:
            emit(f"act__{fn}", "z, shape, dtype", activation_expr(name))
            emit(f"dact__{fn}", "z, shape, dtype", derivative_expr(name))
        else:
            emit(f"act__{fn}", "z, shape, dtype", softmax(Z))
    valid, invalid = [], {}
    for act, lo, reason in pairings():
        if reason is not None:
            invalid[(act, lo)] = f"invalid pairing {act} + {lo}: {reason}"
            continue
        tag = f"{_ident(act)}__{_ident(lo)}"
        emit(f"loss__{tag}", "z, y, shape, dtype", loss_expr(act, lo), reduce_last=True)
        emit(f"delta__{tag}", "z, y, shape, dtype", delta_expr(act, lo))
        valid.append((act, lo, tag))
    parts.append("ACTIVATIONS = {\n")
    for name, act in ACTIVATIONS.items():
        fn = _ident(name)
        d = f"dact__{fn}" if act.elementwise else "None"
        parts.append(f"    {name!r}: (act__{fn}, {d}),\n")
    parts.append("}\n\nLOSSES = (" + ", ".join(repr(lo) for lo in LOSSES) + ",)\n\n")
    parts.append("PAIRS = {\n")
    for act, lo, tag in valid:
        parts.append(f"    ({act!r}, {lo!r}): (loss__{tag}, delta__{tag}),\n")
    parts.append("}\n\nINVALID = {\n")
    for key, reason in invalid.items():
        parts.append(f"    {key!r}: {reason!r},\n")
    parts.append("}\n\n")
    # pairs whose delta used sum_i y_i = 1 (softmax + cce): their kernels check it, not assume it
    summing = [(act, lo) for act, lo, _ in valid if LOSSES[lo].targets_sum_to_one and derive_pair(act, lo).assumptions]
    parts.append("TARGETS_SUM_TO_ONE = {" + ", ".join(repr(key) for key in summing) + "}\n\n")
    # kernels that may be evaluated on any box of the array, not only on whole rows
    parts.append("ELEMENTWISE = {\n" + "".join(f"    {name},\n" for name in pointwise) + "}\n\n")
    return HEADER + "".join(parts).rstrip() + "\n"


def main(argv=None) -> int:
    TARGET.write_text(generate())
    print(f"wrote {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
