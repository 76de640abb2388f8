"""One pairing at its parameters, as the curvature proofs see it: each parameter a symbol over its whole
domain (a verdict then holds for every value in it), or an exact value (a verdict at that value).

    Setting.of("elu", "quadratic")                     alpha a symbol, alpha in (0, oo)
    Setting.of("elu", "quadratic", alpha=Rational(1, 2))   at alpha = 1/2
    Setting.of("elu", "quadratic", alpha=0.5)           InexactValue: floats are refused (proofs.values)

The values are checked as ``derive_pair`` checks them (unknown names list the known ones; a value
outside its domain is refused with the domain) and must be exact: the checker's float policy.

>>> Setting.of("leaky_relu", "quadratic").scope
'for every slope in [0, 1)'
>>> Setting.of("elu", "quadratic", alpha=2).h
((a[j] - y[j])*Piecewise((0, a[j] > 0), (1, True)) + Piecewise((1, a[j] > 0), (a[j] + 2, True)))*Piecewise((1, a[j] > 0), (a[j] + 2, True))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy import Rational, S

from derive.symbolic import catalogue
from derive.symbolic.catalogue import show_set
from derive.symbolic.pairing import derive_pair, outputs_as_logits, pairing_params
from derive.symbolic.symbols import a, j, n, y, z
from proofs.refutation import certified_value
from proofs.sign import NEG, POS, sign
from proofs.values import exact

__all__ = ["Setting", "signed", "z_samples", "targets_samples"]

A, Y, Z = a[j], y[j], z[j]


@dataclass(frozen=True)
class Setting:
    """``act`` + ``loss`` with ``values`` ((parameter name, exact value), ...); the others are symbols."""

    act: str
    loss: str
    values: tuple[tuple[str, sp.Expr], ...] = ()

    @classmethod
    def of(cls, act: str, loss: str, **values) -> Setting:
        exacts = {name: exact(v, f"value of the parameter {name}") for name, v in values.items()}
        derive_pair(act, loss, **exacts)  # unknown names, domains, the range at the values: refused with why
        return cls(act, loss, tuple(sorted(exacts.items())))

    @property
    def name(self) -> str:
        return f"{self.act}+{self.loss}"

    @cached_property
    def entry(self):
        return catalogue.activation(self.act)

    @cached_property
    def params(self):
        return pairing_params(self.entry, catalogue.loss(self.loss))

    @cached_property
    def subs(self) -> dict:
        """{parameter symbol: value} of the values given."""
        given = dict(self.values)
        return {p.symbol: given[p.name] for p in self.params if p.name in given}

    @cached_property
    def free(self) -> dict:
        """{parameter symbol: its domain} of the parameters left symbols: what the checker assumes of them."""
        return {p.symbol: p.domain for p in self.params if p.symbol not in self.subs}

    @property
    def scope(self) -> str:
        """For which parameter values a verdict on this setting holds: '' without parameters."""
        given = dict(self.values)
        parts = [f"at {p.name} = {given[p.name]}" if p.name in given else f"for every {p.name} in {show_set(p.domain)}"
                 for p in self.params]
        return "; ".join(parts)

    def at_defaults(self) -> Setting:
        return Setting(self.act, self.loss, tuple(sorted((p.name, p.default) for p in self.params)))

    def _own(self, entry) -> dict:
        """{name: value or symbol} of ``entry``'s parameters (an activation's or a loss's)."""
        given = dict(self.values)
        return {p.name: given.get(p.name, p.symbol) for p in entry.params}

    def f(self, at):
        return self.entry.f(at, **self._own(self.entry))

    def term(self, out, target):
        lo = catalogue.loss(self.loss)
        return lo.term(out, target, **self._own(lo))

    def prime(self):
        return self.entry.prime(A, Z, **self._own(self.entry))

    @cached_property
    def range(self) -> sp.Set:
        return self.entry.range_of(**self._own(self.entry))

    @property
    def targets(self) -> sp.Set:
        return catalogue.loss(self.loss).targets

    @cached_property
    def derivation(self):
        return derive_pair(self.act, self.loss)

    def at(self, expr):
        """``expr`` at the values given (the other parameters stay symbols)."""
        return expr.xreplace(self.subs) if self.subs else expr

    @cached_property
    def delta(self):
        return self.at(self.derivation.delta)

    @cached_property
    def h(self):
        """The Hessian's diagonal h = d^2 C / dz_j^2 at the values (elementwise f), point masses where they can act."""
        return _drop_inactive_diracs(self.at(self.derivation.hessian.diagonal))

    def in_z(self, expr):
        """``expr`` with a_j written as f(z_j), at the values."""
        return self.at(outputs_as_logits(expr, self.act))

    def dom(self, part: dict) -> dict:
        """The checker's domain: ``part`` and each parameter left a symbol over its domain."""
        return {**part, **self.free}


def _drop_inactive_diracs(h):
    """In a Piecewise branch whose condition excludes u = 0, DiracDelta(u) is 0 (huber: 2 delta DiracDelta(a - y)
    where |a - y| > delta > 0). A branch's condition is the branch's own and the negation of the earlier ones."""
    def fix(pw):
        out, before = [], sp.false
        for e, cond in pw.args:
            here = sp.And(cond, sp.Not(before))
            diracs = [d for d in e.atoms(sp.DiracDelta) if len(d.args) == 1]
            for d in diracs:
                point = sp.solve(d.args[0], A, dict=True) if d.args[0].has(A) else []
                if len(point) == 1 and here.subs(point[0]) is sp.false:
                    e = e.xreplace({d: S.Zero})
            out.append((e, cond))
            before = sp.Or(before, cond)
        return sp.Piecewise(*out)
    return h.replace(lambda e: isinstance(e, sp.Piecewise) and e.has(sp.DiracDelta), fix)


def signed(expr, dom: dict) -> str | None:
    """The sign of ``expr``: a 60-digit certified value when it is a number (n = 1 unit: the signs here are
    the same for every n), else the checker's structural sign over ``dom`` (parameters as symbols)."""
    expr = expr.subs(n, 1) if expr.has(n) else expr
    if not expr.free_symbols:
        value = certified_value(expr)
        return None if value is None else POS if value > 0 else NEG if value < 0 else None
    got = sign(expr, dom)
    pulled = sp.factor_terms(expr)  # delta (c1 - c2): the parameter's sign times a number's, certified
    if got is None and pulled.is_Mul:
        signs = [signed(f, dom) for f in pulled.args]
        if all(g in (POS, NEG) for g in signs):
            return NEG if signs.count(NEG) % 2 else POS
    return got


def z_samples():
    return [Rational(p, 2) for p in range(-8, 9)]


def targets_samples(targets: sp.Set):
    """Exact targets to try, each inside the set (an open end of a user's target set is never one), a typical
    one first (the value a witness gives the targets it does not move): the set's finite points, or a few
    inside an interval, ends included."""
    if isinstance(targets, sp.FiniteSet):  # hinge's {-1, 1}
        return sorted(targets)
    lo, hi = targets.start, targets.end
    if lo.is_infinite and hi.is_infinite:
        return [S(-1), S.Half, S.One, S(-3), S(3), S.Zero]
    if hi.is_infinite:  # poisson's [0, oo): lo + 1 first, away from the end
        points = [lo + 1, lo, lo + Rational(1, 2), lo + 3]
    else:
        points = [lo, hi, (lo + hi) / 2, lo + (hi - lo) / 4, hi - (hi - lo) / 4]
    return [t for t in points if targets.contains(t) is sp.true]
