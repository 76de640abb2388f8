"""Ranges of activations defined from a formula (``derive.define_activation``): proved, or unknown and why.

    prove_range(entry, declared=None) -> (range or None, Proof)

Two rules, tried in order; ``derive`` reaches this module through the ``derive.ranges`` entry point.

* declared: ``range=`` given, each end is proved: a finite end by the certificate f - lo
  (or hi - f) being structurally positive (open end, with the limit at the matching infinity)
  or nonnegative (closed end, with a point where it is attained among ``POINTS``); an
  infinite end by its limit; and continuity (the intermediate value theorem).
* increasing: f' > 0 on R certified by the checker (certificate f' as SymPy writes it, or
  simplified), lim f at -oo and oo by ``sympy.limit``, continuity: the range is (L-, L+).

>>> from derive.symbolic.catalogue import Activation
>>> s, proof = prove_range(Activation("soft", lambda t: t / (1 + abs(t)), None, sp.S.Reals))
>>> s, proof.verdict.proved
(Interval.open(-1, 1), True)
"""

from __future__ import annotations

import sympy as sp
from sympy import Interval, oo

from derive.symbolic.catalogue import Activation, show_set
from derive.symbolic.functions import expand_named
from proofs.certificate import Proof, Verdict
from proofs.checker import check_eq, check_le, check_lt
from proofs.given import by_fact
from proofs.limits import REALS, limit_at, limit_is, z
from proofs.ranges import continuity

__all__ = ["prove_range", "POINTS"]

POINTS = tuple(sp.Integer(p) for p in (0, 1, -1, 2, -2, 3, -3, 6, -6))  # where a closed end may be attained


def _certified(compare, lhs, rhs, claim) -> Verdict:
    """lhs < rhs (or <=) on R, the certificate rhs - lhs as written, simplified, or with named functions expanded."""
    verdict = None
    for form in (lambda g: g, sp.simplify, lambda g: sp.simplify(expand_named(g)), sp.factor,
                 lambda g: sp.piecewise_fold(g.rewrite(sp.Piecewise))):
        try:
            verdict = compare(lhs, rhs, form(rhs - lhs), REALS, claim=claim)
        except (TypeError, ValueError, NotImplementedError) as exc:  # a form the checker cannot read
            verdict = Verdict(claim, "not proved", f"{type(exc).__name__}: {exc}")
        if verdict.proved:
            break
    return verdict


def _end(f, value, closed: bool, side: str) -> list[Verdict]:
    at_infinity = -oo if side == "lower" else oo
    if value.is_infinite:
        return [limit_is(f, at_infinity, value)]
    lhs, rhs = (value, f) if side == "lower" else (f, value)
    bound = _certified(check_le if closed else check_lt, lhs, rhs, f"{sp.sstr(lhs)} {'<=' if closed else '<'} "
                                                                  f"{sp.sstr(rhs)} on R")
    if not closed:
        return [bound, limit_is(f, at_infinity, value)]
    point = next((p for p in POINTS if sp.simplify(expand_named(f).subs(z, p) - value) == 0), None)
    if point is None:
        return [bound, Verdict(f"{side} end {value} attained", "not proved", f"not attained at z in {list(POINTS)}")]
    return [bound, check_eq(f.subs(z, point), value, claim=f"attained: f({point}) = {value}")]


def _declared(f, declared: Interval) -> Verdict:
    steps = (_end(f, declared.start, not declared.left_open, "lower")
             + _end(f, declared.end, not declared.right_open, "upper") + [continuity(f)])
    return by_fact("continuity", f"range = {show_set(declared)} (declared)", steps)


def _increasing(f) -> tuple[sp.Set | None, Verdict]:
    claim = "f' > 0 on R"
    try:
        lo, hi = limit_at(f, -oo), limit_at(f, oo)
    except (NotImplementedError, ValueError, TypeError) as exc:
        return None, Verdict("limits of f", "not proved", f"sympy.limit failed: {exc}")
    if not all(v.is_infinite or (v.is_real and v.is_number and v.is_finite) for v in (lo, hi)):
        return None, Verdict("limits of f", "not proved", f"no exact limits: {lo}, {hi}")
    positive = _certified(check_lt, sp.S.Zero, sp.diff(f, z), claim)
    steps = [positive, limit_is(f, -oo, lo), limit_is(f, oo, hi), continuity(f)]
    rng = Interval.open(lo, hi)
    return rng, by_fact("monotonicity", f"f increasing: range = {show_set(rng)}", steps)


def prove_range(act: Activation, declared: sp.Set | None = None) -> tuple[sp.Set | None, Proof]:
    """The proved range of an elementwise activation entry (``declared`` first, if given), or None with
    the proof's verdict saying what was not proved."""
    f = act.f(z)
    name = act.name.replace("_", r"\_")
    tried = []
    if isinstance(declared, Interval):
        verdict = _declared(f, declared)
        if verdict.proved:
            return declared, Proof(rf"\operatorname{{range}}(\mathrm{{{name}}}) = {sp.latex(declared)}",
                                   "certificates f - lo, hi - f; limits; attained points", verdict)
        tried.append(verdict)
    rng, verdict = _increasing(f)
    if verdict.proved:
        return rng, Proof(rf"\operatorname{{range}}(\mathrm{{{name}}}) = {sp.latex(rng)}",
                          r"$f' > 0$ certified; limits at $\pm\infty$", verdict)
    tried.append(verdict)
    why = "; ".join(_first_failure(v) for v in tried)
    return None, Proof(rf"\operatorname{{range}}(\mathrm{{{name}}})", "none",
                       Verdict(f"range of {act.name}", "not proved", why))


def _first_failure(v: Verdict) -> str:
    """The claim and reason of the first step of v that is not proved."""
    for step in v.details:
        if not step.proved:
            return _first_failure(step)
    return f"{v.claim}: {v.reason}"
