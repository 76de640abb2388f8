"""proofs: certificates that SymPy checks, for every bound and identity of derive.

    f <= c on D  <=>  c - f == g exactly and g >= 0 on D by structure (squares, sums, products, domain atoms)

>>> from sympy import Interval, Rational, Symbol
>>> s = Symbol("s", real=True)
>>> check_le(s*(1 - s), Rational(1, 4), (s - Rational(1, 2))**2, {s: Interval(0, 1)}).proved
True

Values are exact: floats and infinities are refused (``proofs.values``). Modules: certificate
(Verdict, Proof), values (what is a value), identity, sign, checker, refutation, equality, enclosure,
given (the facts taken as given, cited where used); the theorems: limits, ranges, extrema, bounds,
identities, claims, curvature and softmax_curvature (second order); theorems (the list, 1-12);
translation (every generated kernel proved equal to its derivation). ``python -m proofs`` (or
``derive prove``) checks every theorem and seed claim; ``--curvature``, ``--translation`` add the slow tables.
"""

from proofs.certificate import Proof, Verdict
from proofs.checker import check_eq, check_le, check_lt
from proofs.refutation import refute
from proofs.values import InexactValue

__all__ = ["Proof", "Verdict", "check_eq", "check_le", "check_lt", "refute", "InexactValue"]
