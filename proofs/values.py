"""What the checker accepts as a value: exact, finite SymPy objects, read here and nowhere else.

    exact(v)          a SymPy expression with no Float and no oo, -oo, zoo, nan in it
    exact_interval(s) a real Interval (or Reals) with exact ends; +-oo only as an end

Policy: a SymPy ``Float`` (or a Python float) anywhere in a statement, certificate,
domain end, given value, index range or point is refused, never rounded: floats that
differ in the 17th digit compare equal, and an end 0.1 is not the number 1/10. Write
``Rational(1, 10)``, or ``Rational(0.1)`` for the float's exact binary value. Infinite
and undefined values (``oo``, ``zoo``, ``nan``, hence ``x**oo``, ``exp(oo*x)``) are not
real numbers: they are refused inside expressions. Strings are refused, never parsed.

>>> from sympy import Rational
>>> exact(Rational(1, 10))
1/10
>>> exact(0.1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
proofs.values.InexactValue: ... floats are refused; write it exactly, e.g. Rational(1, 10), or Rational(0.1) for ...
"""

from __future__ import annotations

import sympy as sp
from sympy import S

__all__ = ["InexactValue", "exact", "exact_interval", "domain_of", "undefined_where"]

_NOT_NUMBERS = (S.Infinity, S.NegativeInfinity, S.ComplexInfinity, S.NaN)


class InexactValue(ValueError):
    """A float, an infinity or an undefined value where the checker needs an exact finite value."""


def exact(value, what: str = "value") -> sp.Basic:
    """``value`` as a SymPy object, refused (InexactValue) when it holds a Float or a non-finite atom."""
    v = sp.sympify(value, strict=True)  # strict: a string is refused, never parsed
    floats = v.atoms(sp.Float)
    if floats:
        f = min(floats, key=sp.default_sort_key)
        near = sp.nsimplify(f, rational=True)
        raise InexactValue(
            f"the {what} {sp.sstr(v)} contains the float {f}: floats are refused; write it exactly, "
            f"e.g. Rational({near.p}, {near.q}), or Rational({float(f)!r}) for the float's binary value"
        )
    bad = [x for x in _NOT_NUMBERS if v.has(x)]
    if bad:
        raise InexactValue(
            f"the {what} {sp.sstr(v)} contains {sp.sstr(bad[0])}: infinite and undefined values are not "
            "real numbers (state the limit instead, or a bound on a finite domain)"
        )
    return v


def exact_interval(iv, what: str = "domain") -> sp.Set:
    """A real Interval (or Reals) whose finite ends are exact; infinite ends allowed as ends only."""
    iv = sp.sympify(iv, strict=True)
    if not isinstance(iv, sp.Set) or not iv.is_subset(S.Reals):
        raise ValueError(f"the {what} must be a real SymPy Interval, got {iv!r}")
    if isinstance(iv, sp.Interval):
        for end in (iv.start, iv.end):
            if not end.is_infinite:
                exact(end, f"end of the {what} {iv}")
    elif iv != S.Reals and iv.atoms(sp.Float):
        raise InexactValue(f"the {what} {iv} contains a float: floats are refused")
    return iv


def domain_of(domain) -> dict:
    """{atom: real Interval} with exact ends (an IndexedBase key covers all its entries)."""
    return {
        (key if isinstance(key, sp.IndexedBase) else exact(key, "domain key")): exact_interval(iv, f"domain of {key}")
        for key, iv in (domain or {}).items()
    }


def undefined_where(expr) -> list[tuple[str, sp.Expr]]:
    """What ``expr`` needs to be a real number: ("nonzero", b) for b**e with e < 0, ("positive", b)
    for a fractional e < 0, ("nonnegative", b) for a fractional e > 0, ("positive", u) for log(u)."""
    out = []
    for p in sp.preorder_traversal(expr):
        if isinstance(p, sp.Pow) and not p.exp.is_integer and p.base.is_positive is not True:
            out.append(("positive" if p.exp.is_negative else "nonnegative", p.base))
        elif isinstance(p, sp.Pow) and p.exp.is_negative:
            out.append(("nonzero", p.base))
        elif isinstance(p, sp.log):
            out.append(("positive", p.args[0]))
    return out
