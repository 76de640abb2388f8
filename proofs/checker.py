"""The checker: f <= c on D is proved by a certificate g with c - f == g and g >= 0 on D.

    check_le(lhs, rhs, g, domain):  rhs - lhs - g == 0 exactly,  g >= 0 on the domain
    check_lt(lhs, rhs, g, domain):  rhs - lhs - g == 0 exactly,  g > 0 on the domain
    check_eq(lhs, rhs):             lhs - rhs == 0 exactly (proved or unknown, never refuted here)

The identity is three-valued (``proofs.identity``); the sign of g is read off its *given
form* (``proofs.sign``): nothing is expanded or factored to find a sign, so a certificate
that merely restates rhs - lhs proves nothing unless that form already shows its sign.
A bound is proved only where lhs and rhs are defined: every denominator is shown nonzero and
every log argument positive on the domain (0/0 at one point of it is no bound there).
Values are exact (``proofs.values``): floats and infinities are refused with an InexactValue.

Sums: an index ranges over its limits (not its declared assumptions); a KroneckerDelta collapses
only onto a target shown to lie in the limits (``indices={i: (lo, hi)}`` states such a range as
a hypothesis). ``given`` equalities are hypotheses named in the verdict; a given symbol's domain
entry must follow from its value.

>>> from sympy import Interval, Rational, Symbol
>>> s = Symbol("s", real=True)
>>> check_le(s*(1 - s), Rational(1, 4), (s - Rational(1, 2))**2, {s: Interval(0, 1)}).proved
True
>>> check_le(s*(1 - s), Rational(1, 4), Rational(1, 4) - s*(1 - s), {s: Interval(0, 1)}).proved
False
"""

from __future__ import annotations

from functools import partial

import sympy as sp

from proofs.certificate import Verdict, namer
from proofs.identity import identity_holds
from proofs.sign import NEG, NONNEG, NONPOS, POS, ZERO, lookup, sign
from proofs.values import InexactValue, domain_of, exact, undefined_where

__all__ = ["check_le", "check_lt", "check_eq", "defined_on"]

_WANTED = {"nonzero": (POS, NEG), "positive": (POS,), "nonnegative": (POS, NONNEG, ZERO)}


def defined_on(expr, dom, show=sp.sstr) -> str | None:
    """Why ``expr`` is not shown defined on the domain (a denominator that may vanish, a log of a
    number that may be <= 0, a fractional power of a number that may be negative), or None."""
    for need, part in undefined_where(expr):
        got = sign(part, dom)
        if got not in _WANTED[need]:
            return f"{show(expr)} is not shown defined on the domain: {show(part)} must be {need} (sign: {got or 'unknown'})"
    return None


def _given_against_domain(key, value, dom):
    """A symbol with both a given value and a domain entry: its interval must follow from the value
    (else the interval is an unchecked hypothesis). None when consistent; else the reason."""
    iv = lookup(key, dom)
    if iv is None:
        # a symbol outside the domain is signed by its declared assumptions: they must follow too
        declared = (POS if key.is_positive else NONNEG if key.is_nonnegative else NEG if key.is_negative
                    else NONPOS if key.is_nonpositive else None) if key.is_Symbol else None
        ok = {POS: (POS,), NONNEG: (POS, NONNEG, ZERO), NEG: (NEG,), NONPOS: (NEG, NONPOS, ZERO), None: None}[declared]
        if ok is not None and sign(value, dom) not in ok:
            return f"{sp.sstr(key)} = {sp.sstr(value)} is not shown to be {declared}, as {sp.sstr(key)} is declared"
        return None
    base = key.base if isinstance(key, sp.Indexed) and key not in dom else key
    rest = {k: v for k, v in dom.items() if k != base}
    if value.has(key) or not isinstance(iv, sp.Interval):
        return f"{sp.sstr(key)} has a given value and a domain: its interval is not shown to follow"
    ends = []
    if not iv.start.is_infinite:
        ends.append((value - iv.start, iv.left_open))
    if not iv.end.is_infinite:
        ends.append((iv.end - value, iv.right_open))
    for gap, strict in ends:
        sg = sign(gap, rest)
        if sg not in ((POS,) if strict else (POS, NONNEG, ZERO)):
            return (f"{sp.sstr(key)} = {sp.sstr(value)} is not shown to lie in its domain {iv} "
                    f"(sign of {sp.sstr(gap)}: {sg or 'unknown'})")
    return None


def _hypotheses(given, indices, show) -> str:
    facts = [f"{show(k)} = {show(v)}" for k, v in given.items()]
    facts += [f"{show(k)} in [{show(lo)}, {show(hi)}]" for k, (lo, hi) in indices.items()]
    return f" given {', '.join(facts)}" if facts else ""


def _exact_hypotheses(given, indices):
    given = {exact(k, "given"): exact(v, "given value") for k, v in (given or {}).items()}
    indices = {exact(k, "index"): (exact(lo, "index range end"), exact(hi, "index range end"))
               for k, (lo, hi) in (indices or {}).items()}
    return given, indices


def _check(lhs, rhs, certificate, domain, strict: bool, given=None, claim=None, indices=None) -> Verdict:
    lhs, rhs, g = exact(lhs, "lhs"), exact(rhs, "rhs"), exact(certificate, "certificate")
    given, indices = _exact_hypotheses(given, indices)
    try:
        dom = domain_of(domain)
    except InexactValue:
        raise
    except ValueError as exc:  # not a real interval: no proof over it
        return Verdict(claim or f"{sp.sstr(lhs)} <= {sp.sstr(rhs)}", "not proved", str(exc), g)
    show = namer(lhs, rhs, g, dom, given, indices)
    relation = _relation(sp.Lt if strict else sp.Le, lhs, rhs, claim, show)
    claim = show.claim(claim or f"{show(lhs)} {'<' if strict else '<='} {show(rhs)}")
    verdict = partial(Verdict, relation=relation)
    for key, value in given.items():
        why = _given_against_domain(key, value, dom)
        if why is not None:
            return verdict(claim, "not proved", why, g)
    for side in (lhs, rhs):
        why = defined_on(side, dom, show)
        if why is not None:
            return verdict(claim, "not proved", why, g)
    if identity_holds(rhs - lhs - g, given, indices) is not True:
        return verdict(claim, "not proved", f"identity rhs - lhs == g not proved (difference {show(rhs - lhs - g)})", g)
    sg = sign(g, dom)
    wanted = (POS,) if strict else (POS, NONNEG, ZERO)
    if sg not in wanted:
        what = "positive" if strict else "nonnegative"
        return verdict(claim, "not proved", f"certificate not structurally {what} on the domain (sign: {sg or 'unknown'})", g)
    return verdict(claim, "proved", f"rhs - lhs == g{_hypotheses(given, indices, show)}; g is {sg}", g)


def check_le(lhs, rhs, certificate, domain, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs <= rhs on the domain: rhs - lhs == g exactly and g >= 0 structurally.

    ``given`` ({expr: value}) and ``indices`` ({i: (lo, hi)}: lo <= i <= hi) are hypotheses, named in the verdict.
    """
    return _check(lhs, rhs, certificate, domain, False, given, claim, indices)


def check_lt(lhs, rhs, certificate, domain, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs < rhs on the domain: rhs - lhs == g exactly and g > 0 structurally."""
    return _check(lhs, rhs, certificate, domain, True, given, claim, indices)


def check_eq(lhs, rhs, *, given=None, claim=None, indices=None) -> Verdict:
    """lhs == rhs identically, where both sides are defined (three-valued: proved or not proved).

    The reason names every denominator and log argument the identity holds away from."""
    lhs, rhs = exact(lhs, "lhs"), exact(rhs, "rhs")
    given, indices = _exact_hypotheses(given, indices)
    show = namer(lhs, rhs, given, indices)
    relation = _relation(sp.Eq, lhs, rhs, claim, show)
    claim = show.claim(claim or f"{show(lhs)} = {show(rhs)}")
    verdict = partial(Verdict, relation=relation)
    if identity_holds(lhs - rhs, given, indices) is True:
        return verdict(claim, "proved", "difference simplifies to 0" + _hypotheses(given, indices, show) + _where(lhs, rhs, show))
    return verdict(claim, "not proved", "difference not shown to be 0 (unknown, not false)")


def _relation(kind, lhs, rhs, claim, show):
    """The relation checked, unevaluated, for SymPy's printers; None where the claim is the caller's own
    words or two symbols share a name (the text then says which is which)."""
    return None if claim is not None or show.clash else kind(lhs, rhs, evaluate=False)


def _where(lhs, rhs, show) -> str:
    """', where x - 1 != 0': the conditions not already shown by the symbols' declared assumptions."""
    conds = []
    for need, part in undefined_where(lhs) + undefined_where(rhs):
        if sign(part, {}) not in _WANTED[need]:
            cond = f"{show(part)} {'!= 0' if need == 'nonzero' else '> 0' if need == 'positive' else '>= 0'}"
            if cond not in conds:
                conds.append(cond)
    return f", where {', '.join(conds)}" if conds else ""
