"""Curvature of the softmax pairings: softmax + cce is convex with L = 1/2; the others are undecided here.

    v^T (diag(a) - a a^T) v = sum_i a_i (v_i - sum_k a_k v_k)^2  (given sum_i a_i = 1)
    Gershgorin: each disc of diag(a) - a a^T lies below 2 a_i (1 - a_i) <= 1/2, attained at n = 2, z = 0

>>> softmax_smoothness("cce").value
1/2
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Interval, Rational, S

from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, i, j, n
from proofs.certificate import Verdict
from proofs.checker import check_eq, check_le
from proofs.given import by_fact

__all__ = ["CurvatureVerdict", "softmax_convexity", "softmax_smoothness"]


@dataclass(frozen=True)
class CurvatureVerdict:
    """``status``: convex / not convex / undecided (convexity); bounded / unbounded / undecided (smoothness).

    ``value``: L (smoothness), oo when unbounded, None otherwise; ``verdict``: the checked steps;
    ``scope``: for which parameter values it holds ('' without parameters; "for every alpha in (0, oo)";
    "at alpha = 1/2"; "at alpha = 1, the default (not decided for every alpha in (0, oo))", and then
    ``general`` is the undecided verdict for every value, its reason saying why)."""

    pairing: str
    status: str
    value: sp.Expr | None
    verdict: Verdict
    scope: str = ""
    general: CurvatureVerdict | None = None

    @property
    def step(self):
        """The largest stable gradient step 2/L (None when L is unknown or oo)."""
        return None if self.value is None or self.value is sp.oo or self.value == 0 else 2 / self.value


def _softmax_psd() -> Verdict:
    """v^T (diag(a) - a a^T) v = sum_i a_i (v_i - s)^2 with s = sum_k a_k v_k, given sum_i a_i = 1."""
    v = sp.IndexedBase("v", real=True)
    k = sp.Symbol("k", integer=True)
    s = sp.Sum(a[k] * v[k], (k, 1, n))
    quad = sp.Sum(a[i] * v[i] ** 2, (i, 1, n)) - s**2
    cert = sp.Sum(a[i] * (v[i] - s) ** 2, (i, 1, n))
    return check_le(0, quad, cert, {a: Interval.open(0, 1), v: S.Reals}, given={sp.Sum(a[i], (i, 1, n)): 1},
                    claim="v^T (diag(a) - a a^T) v >= 0 (softmax+cce: PSD)")


def softmax_convexity(loss) -> CurvatureVerdict:
    """softmax + cce: convex (H = diag(a) - a a^T is PSD); any other loss: undecided."""
    name = f"softmax+{loss}"
    if loss != "cce":
        return CurvatureVerdict(name, "undecided", None, Verdict(f"{name} convex?", "not proved",
                                                                "no rule for this softmax Hessian"))
    entry = derive_pair("softmax", "cce").hessian.entry
    k = sp.Symbol("k", integer=True, positive=True)
    steps = [check_eq(entry, a[j] * (sp.KroneckerDelta(j, k) - a[k]), claim="H = diag(a) - a a^T")]
    steps.append(_softmax_psd())
    return CurvatureVerdict(name, "convex", None, by_fact("convexity", f"{name} is convex in z", steps))


def softmax_smoothness(loss) -> CurvatureVerdict:
    """softmax + cce: L = 1/2 (Gershgorin, attained at n = 2, z = 0); any other loss: undecided."""
    name = f"softmax+{loss}"
    if loss != "cce":
        return CurvatureVerdict(name, "undecided", None, Verdict(f"{name}: L?", "not proved", "no rule for this softmax Hessian"))
    q = sp.Symbol("q", real=True)
    half = Rational(1, 2)
    steps = [
        # Gershgorin: row i has centre a_i (1 - a_i) and radius sum_{k != i} a_i a_k = a_i (1 - a_i)
        check_le(2 * q * (1 - q), half, 2 * (q - half) ** 2, {q: Interval.open(0, 1)},
                 claim="every Gershgorin disc of diag(a) - a a^T lies below 2 a_i (1 - a_i) <= 1/2"),
        check_eq(2 * half * (1 - half), half, claim="n = 2, z = (0, 0): a = (1/2, 1/2), eigenvalue 2 a_1 a_2 = 1/2 (attained)"),
    ]
    return CurvatureVerdict(name, "bounded", half, by_fact("gershgorin", f"{name}: L = 1/2", steps))


