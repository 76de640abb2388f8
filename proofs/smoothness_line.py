"""One line through z-space and the values of a pairing's delta just beside a point of it.

    Line: C along one coordinate z of the logits, with its targets (an elementwise unit: C = l(f(z), y))
    beside(expr, z0, +-1): expr on (z0, z0 + e) or (z0 - e, z0): each condition, sign(g), Heaviside(g) and
        |g| resolved by the sign of g there, the sign of its first nonzero Taylor coefficient at z0
        (certified to 60 digits) times side^k
    one_sided(expr, z0, side): that branch at z0, i.e. the one-sided limit (the branch is continuous)

Everything is exact: a sign that is not certified raises Undecided, and nothing is read from it.

>>> line = elementwise_line("relu", "quadratic")
>>> T = line.targets[0][0]
>>> one_sided(line.slope.subs(T, -1), 0, -1), one_sided(line.slope.subs(T, -1), 0, 1)
(0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy import Rational, S, oo

from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import n
from proofs.refutation import certified_value
from proofs.values import exact

__all__ = ["W", "Line", "Undecided", "elementwise_line", "beside", "one_sided", "orient", "sign_of", "kink_args",
           "show", "at", "Z_SAMPLES"]

W = sp.Symbol("z", real=True)  # the coordinate of z that moves
Z_SAMPLES = (0, 1, -1, 2, -2, Rational(1, 2), 3, -3)


class Undecided(Exception):
    """A sign or a side that is not certified: nothing is read from it."""


def split_values(act: str, loss: str, values: dict) -> tuple[dict, dict, str]:
    """(activation's parameters, loss's parameters, the scope in words): defaults where not given, exact values."""
    entries = catalogue.activation(act), catalogue.loss(loss)
    known = {p.name for e in entries for p in e.params}
    extra = set(values) - known
    if extra:
        raise TypeError(f"unknown parameter {sorted(extra)[0]!r} of {act}+{loss}; known: {', '.join(sorted(known)) or 'none'}")
    parts = [{p.name: exact(p.check(values.get(p.name, p.default), e.name)) for p in e.params} for e in entries]
    scope = ", ".join(f"{k} = {v}" for part in parts for k, v in part.items())
    return parts[0], parts[1], f" (at {scope})" if scope else ""


@dataclass(frozen=True)
class Line:
    """C along one coordinate z of the logits: ``scale * cost(z, targets)``; ``targets``: ((symbol, set), ...).

    ``scale`` is a positive factor (1, or 1/n for a mean) kept apart so signs are read at any n."""

    name: str
    cost: sp.Expr
    targets: tuple
    where: str = "z_j = z"
    scale: sp.Expr = S.One
    identity: bool = False  # a = z: a loss of a - y is then shift-invariant in (z, y)

    @cached_property
    def slope(self) -> sp.Expr:
        """delta along the line (branch by branch: the jumps are read separately)."""
        return sp.diff(self.cost, W)

    def shown(self, point: dict) -> str:
        return ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in point.items())


def elementwise_line(act: str, loss: str, **values) -> Line:
    """C(z, y) = l(f(z), y) of one unit from the catalogue's definitions (not the derivation); parameters at
    ``values`` (exact) or their defaults."""
    pa, pl, scope = split_values(act, loss, values)
    f, term = catalogue.activation(act).f, catalogue.loss(loss)
    T = sp.Symbol("y", real=True)
    cost = expand_named(term.term(f(W, **pa), T, **pl))
    scale = 1 / n if term.reduce == "mean" else S.One
    return Line(f"{act}+{loss}{scope}", cost, ((T, term.targets),), scale=scale, identity=f(W, **pa) == W)


# ---------------------------------------------------------------- one-sided values


def _lambert(expr):
    """exp(c + k W(x)) = e^c (x / W(x))^k (W e^W = x): lets silu(1 + W(1/e)) = 1 simplify."""
    def split(e):
        c, k, x = S.Zero, S.Zero, None
        for term in sp.Add.make_args(e.args[0]):
            coeff, rest = term.as_coeff_Mul()
            if isinstance(rest, sp.LambertW) and len(rest.args) == 1 and x in (None, rest.args[0]) and coeff.is_integer:
                k, x = k + coeff, rest.args[0]
            else:
                c += term
        return sp.exp(c) * (x / sp.LambertW(x)) ** k
    return expr.replace(lambda e: isinstance(e, sp.exp) and e.args[0].has(sp.LambertW), split)


def sign_of(value) -> int:
    value = sp.sympify(value)
    if value == 0 or value.is_zero:
        return 0
    if abs(sp.N(value, 15)) < 1e-12 and sp.simplify(_lambert(value)) == 0:  # a float screen picks the test
        return 0
    got = certified_value(value)
    if got is None:
        raise Undecided(f"the sign of {sp.sstr(value)} is not certified")
    return 1 if got > 0 else -1


def at(expr, z0):
    value = expr.subs(W, z0)
    if value.has(sp.nan, sp.zoo, oo, -oo):
        raise Undecided(f"{sp.sstr(expr)} has no value at z = {z0}")
    return value


def orient(g, z0, side: int, fixed=None) -> int:
    """The sign of g on (z0, z0 + e) (side 1) or (z0 - e, z0) (side -1) for small e: the sign of its first
    nonzero Taylor coefficient g^(k)(z0) times side^k (g smooth beside z0 once its own branches are chosen).
    ``fixed``: {g: sign} known by other means (an enclosed root's side), read first."""
    if fixed and g in fixed:
        return fixed[g]
    if fixed and -g in fixed:  # the same root written the other way round (y a - 1 against 1 - y a)
        return -fixed[-g]
    first = sign_of(at(g, z0))
    if first:
        return first
    g = beside(g, z0, side)
    for k in (1, 2, 3):
        s = sign_of(at(sp.diff(g, W, k), z0))
        if s:
            return s * side**k
    raise Undecided(f"{sp.sstr(g)} vanishes to third order at z = {z0}")


_TRUTH = {sp.StrictGreaterThan: lambda s: s > 0, sp.GreaterThan: lambda s: s > 0,
          sp.StrictLessThan: lambda s: s < 0, sp.LessThan: lambda s: s < 0,
          sp.Equality: lambda s: False, sp.Unequality: lambda s: True}


def beside(expr, z0, side: int, fixed=None):
    """expr on one side of z0: each condition, sign and Heaviside replaced by its value there, |g| by +-g."""
    if not expr.has(sp.Piecewise, sp.sign, sp.Heaviside, sp.Abs):
        return expr

    def rel(r):
        if type(r) not in _TRUTH:
            raise Undecided(f"the condition {r} is not a comparison of two reals")
        return sp.true if _TRUTH[type(r)](orient(r.lhs - r.rhs, z0, side, fixed)) else sp.false

    def piece(pw):
        args = [(beside(e, z0, side, fixed), c.replace(lambda x: isinstance(x, sp.core.relational.Relational), rel)
                 if isinstance(c, sp.Basic) and not isinstance(c, sp.logic.boolalg.BooleanAtom) else c)
                for e, c in pw.args]
        return sp.Piecewise(*args)

    out = expr.replace(lambda e: isinstance(e, sp.Piecewise), piece)
    out = out.replace(lambda e: isinstance(e, sp.sign) and e.args[0].has(W),
                      lambda e: S(orient(e.args[0], z0, side, fixed)))
    out = out.replace(lambda e: isinstance(e, sp.Abs) and e.args[0].has(W),
                      lambda e: orient(e.args[0], z0, side, fixed) * e.args[0])
    return out.replace(lambda e: isinstance(e, sp.Heaviside) and e.args[0].has(W),
                       lambda e: S.One if orient(e.args[0], z0, side, fixed) > 0 else S.Zero)


def one_sided(expr, z0, side: int):
    """lim expr as z -> z0 from the side: the branch in force there, at z0 (its expression is continuous)."""
    return at(beside(expr, z0, side), z0)


def show(value) -> str:
    """The exact value as text, or its 20 digits when the exact form is long (selu's 60-digit constants)."""
    text = sp.sstr(sp.simplify(value))
    return text if len(text) < 60 else f"{sp.N(value, 20)}..."


def kink_args(expr) -> list:
    rels = [r for pw in expr.atoms(sp.Piecewise) for _, c in pw.args
            for r in (c.atoms(sp.core.relational.Relational) if isinstance(c, sp.Basic) else ())]
    args = [r.lhs - r.rhs for r in rels] + [s.args[0] for s in expr.atoms(sp.sign, sp.Heaviside)]
    return list(dict.fromkeys(g for g in args if g.has(W)))
