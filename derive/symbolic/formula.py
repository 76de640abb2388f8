"""A formula string -> a SymPy expression, parsed with ``ast`` against a whitelist, never evaluated.

    parse("z*tanh(softplus(z))", ["z"])        -> z*tanh(softplus(z))
    parse("where(z > 0, z, alpha*expm1(z))", ["z"], ["alpha"])

Numbers, the declared variables and parameters, ``+ - * / **``, unary minus, parentheses,
calls of the known functions (``FUNCTIONS``) with positional arguments, and
``where(comparison, then, otherwise)``. Each node is built directly as a SymPy node: no user
string reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``. Everything else (attributes,
subscripts, lambdas, comprehensions, keywords, strings, unknown names) raises ``FormulaError``
with the formula, a caret under the position and what is allowed; so do inputs that would take
unbounded time or memory (length, nesting, nodes, exact powers past ``MAX_BITS``).
"""

from __future__ import annotations

import ast
import functools
import math
from fractions import Fraction

import sympy as sp

from derive.errors import FormulaError
from derive.symbolic.functions import NAMED

__all__ = ["parse", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES", "MAX_BITS", "MAX_EXPONENT"]

MAX_LENGTH = 1000  # characters
MAX_DEPTH = 40  # nested operations
MAX_NODES = 400  # syntax nodes
MAX_BITS = 4096  # an exact number's numerator or denominator
MAX_EXPONENT = 64  # |p|, |q| of a numeric exponent p/q of a non-numeric base

# name -> (SymPy callable, number of arguments: an int, or (least, None) for any number from least)
FUNCTIONS = {
    **{name: (cls, 1) for name, cls in NAMED.items()},
    "exp": (sp.exp, 1), "log": (sp.log, 1), "sqrt": (sp.sqrt, 1), "abs": (sp.Abs, 1), "sign": (sp.sign, 1),
    "tanh": (sp.tanh, 1), "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "atan": (sp.atan, 1), "sin": (sp.sin, 1),
    "cos": (sp.cos, 1), "expm1": (lambda x: sp.exp(x) - 1, 1), "log1p": (lambda x: sp.log(1 + x), 1),
    # as Piecewise: their derivatives are then Piecewise too (Max's is a Heaviside, which no kernel prints)
    "max": (lambda *xs: functools.reduce(lambda p, q: sp.Piecewise((p, p >= q), (q, True)), xs), (2, None)),
    "min": (lambda *xs: functools.reduce(lambda p, q: sp.Piecewise((p, p <= q), (q, True)), xs), (2, None)),
}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
_BINARY = {ast.Add: sp.Add, ast.Sub: lambda p, q: p - q, ast.Mult: sp.Mul, ast.Div: lambda p, q: p / q}
_COMPARE = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan, ast.GtE: sp.GreaterThan}
_WHAT = {ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
         ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.SetComp: "comprehensions",
         ast.DictComp: "comprehensions", ast.IfExp: "conditional expressions (write where(cond, a, b))",
         ast.BoolOp: "and/or", ast.Starred: "starred arguments", ast.NamedExpr: "assignment expressions",
         ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets", ast.JoinedStr: "strings",
         ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield"}


def _allowed(names) -> str:
    return (f"allowed: numbers, the names {', '.join(names)}, + - * / **, unary minus, parentheses, "
            f"where(comparison, then, otherwise) with < <= > >=, and calls (positional arguments) of "
            f"{', '.join(sorted(FUNCTIONS))}; constants {', '.join(CONSTANTS)}")


class _Builder:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol]):
        self.text, self.symbols, self.nodes = text, symbols, 0

    def fail(self, node, what: str) -> FormulaError:
        return FormulaError(self.text, getattr(node, "col_offset", 0), what, _allowed(self.symbols))

    def build(self, node, depth=0, cond=False):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise self.fail(node, f"too deep or too long (at most {MAX_DEPTH} nested operations, {MAX_NODES} nodes)")
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return self.symbols[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise self.fail(node, f"unknown name {node.id!r}" + (" (a function: call it)" if node.id in FUNCTIONS
                                                                  else ""))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.build(node.operand, depth + 1)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            p, q = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            return self.bounded(node, _BINARY[type(node.op)](p, q))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.power(node, self.build(node.left, depth + 1), self.build(node.right, depth + 1))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Compare) and cond:
            if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
                raise self.fail(node, "a condition is one comparison: <, <=, > or >=")
            lhs, rhs = self.build(node.left, depth + 1), self.build(node.comparators[0], depth + 1)
            return _COMPARE[type(node.ops[0])](lhs, rhs)
        what = _WHAT.get(type(node)) or ("comparisons outside where()" if isinstance(node, ast.Compare)
                                         else f"the operation {type(getattr(node, 'op', node)).__name__}")
        raise self.fail(node, f"{what} not allowed")

    def number(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(node, f"the constant {v!r} is not a number" if not isinstance(v, str) else "strings not allowed")
        if isinstance(v, float) and not math.isfinite(v):
            raise self.fail(node, "numbers must be finite")
        f = Fraction(repr(v)) if isinstance(v, float) else Fraction(v)  # exact: 0.1 is 1/10
        return self.bounded(node, sp.Rational(f.numerator, f.denominator))

    def bounded(self, node, v):
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise self.fail(node, "a division by zero")
        if v.is_Rational and max(abs(v.p).bit_length(), v.q.bit_length()) > MAX_BITS:
            raise self.fail(node, f"a number beyond {MAX_BITS} bits")
        if any(p.exp.is_Rational and max(abs(p.exp.p), p.exp.q) > MAX_EXPONENT and not p.base.is_number
               for p in v.atoms(sp.Pow)):  # (z**64)**64 is z**4096: SymPy combines them
            raise self.fail(node, f"an exponent beyond {MAX_EXPONENT} in size")
        return v

    def power(self, node, base, e):
        if not e.is_number:
            return base**e
        if not e.is_Rational:
            raise self.fail(node.right, "a numeric exponent must be a rational number")
        if base.is_number:
            size = max(abs(base.p).bit_length(), base.q.bit_length()) if base.is_Rational else 1
            if e.q != 1 or size * abs(e.p) > MAX_BITS:
                raise self.fail(node, f"an exact power beyond {MAX_BITS} bits (or a root of a number: write sqrt)")
        return self.bounded(node, base**e)

    def call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only named functions can be called")
        name = node.func.id
        if node.keywords:
            raise self.fail(node.keywords[0].value, "keyword arguments not allowed")
        if name == "where":
            if len(node.args) != 3:
                raise self.fail(node, "where takes 3 arguments: where(comparison, then, otherwise)")
            c = self.build(node.args[0], depth + 1, cond=True)
            if not isinstance(c, sp.core.relational.Relational) and c not in (sp.true, sp.false):
                raise self.fail(node.args[0], "the first argument of where is a comparison")
            then, other = (self.build(x, depth + 1) for x in node.args[1:])
            return sp.Piecewise((then, c), (other, True))
        if name not in FUNCTIONS:
            raise self.fail(node, f"unknown function {name!r}")
        fn, arity = FUNCTIONS[name]
        least, most = (arity, arity) if isinstance(arity, int) else arity
        if len(node.args) < least or (most is not None and len(node.args) > most):
            raise self.fail(node, f"{name} takes {arity if isinstance(arity, int) else f'at least {least}'} "
                                  f"argument{'s' if arity != 1 else ''}, not {len(node.args)}")
        return fn(*(self.build(x, depth + 1) for x in node.args))


def parse(text: str, variables, params=()) -> sp.Expr:
    """The SymPy expression ``text`` spells, in real symbols named ``variables`` and ``params``;
    ``FormulaError`` for anything outside the whitelist."""
    if not isinstance(text, str):
        raise FormulaError(repr(text), 0, f"a formula is a string, not {type(text).__name__}", "")
    symbols = {v: sp.Symbol(v, real=True) for v in (*variables, *params)}
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise FormulaError(text[:60] + "...", 0, f"a formula of {len(text)} characters (at most {MAX_LENGTH})",
                           _allowed(symbols))
    if text.count("(") > MAX_NODES or not text:
        raise FormulaError(text, 0, "too many parentheses" if text else "an empty formula", _allowed(symbols))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = (e.offset or 1) - 1 if e.lineno in (None, 1) else len(text)
        raise FormulaError(text, col, f"not a formula: {e.msg}", _allowed(symbols)) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise FormulaError(text, 0, f"not a formula: {type(e).__name__}", _allowed(symbols)) from None
    return _Builder(text, symbols).build(tree.body)
