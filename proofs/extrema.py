"""Extrema of activations: min silu (exact), min gelu and min mish (enclosed), max silu' (enclosed), max gelu' (exact).

    f' < 0 on (-oo, z*), f' > 0 on (z*, oo)  =>  min f = f(z*)   (monotonicity, a stated fact: proofs.given)

Each sign of a derivative is a checked certificate; the step from the sign of f' to where f
decreases or increases cites the stated fact ``monotonicity``. Roots without closed form are
bracketed and the value enclosed by interval arithmetic on derive's own expressions.

>>> silu_minimum().verdict.proved
True
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp
from sympy import E, Interval, Rational, exp, latex, oo, pi, sqrt

from derive.symbolic.catalogue import ACTIVATIONS, GELU_MIN, MISH_MIN, SILU_MIN
from derive.symbolic.functions import Phi, expand_named, sigmoid, silu
from proofs.certificate import Proof, Verdict, all_proved
from proofs.checker import check_eq, check_lt
from proofs.enclosure import Enclosure, bracket_root, enclose, interval_function
from proofs.given import by_fact
from proofs.limits import REALS, derivative, limit_is, z
from proofs.refutation import high_precision

__all__ = ["silu_minimum", "gelu_minimum", "mish_minimum", "silu_prime_maximum", "gelu_prime_maximum", "ENCLOSURE_TOL"]

ENCLOSURE_TOL = Rational(1, 10**29)  # gelu's minimum is enclosed within this of the catalogue's GELU_MIN


@cache
def silu_minimum() -> Proof:
    """min silu = silu(z*) = -W(1/e), z* = -1 - W(1/e): exact certificate.

    silu'(z) = sigma(z) h(z) / (1 + e^z) with h = 1 + z + e^z, h' = 1 + e^z > 0, h(z*) = 0
    (using W e^W = 1/e): silu decreases before z*, increases after.
    """
    W = sp.LambertW(exp(-1))
    zs = -1 - W
    h = 1 + z + exp(z)
    lambert = {exp(-W): W * E, exp(W): 1 / (E * W)}  # W e^W = 1/e, the definition of W

    def at_star(expr):
        return sp.expand(expand_named(expr).subs(z, zs), power_exp=True)

    factor = sigmoid(z) / (1 + exp(z))
    h_sign = by_fact("monotonicity", "h < 0 on z < z*, h > 0 on z > z*: h increases through its root z*", [
        check_lt(0, sp.diff(h, z), 1 + exp(z), REALS, claim="h' > 0 on R, h = 1 + z + e^z"),
        check_eq(at_star(h), 0, given=lambert, claim="h(z*) = 0"),
    ])
    steps = [
        by_fact("monotonicity", "silu decreases on (-oo, z*], increases on [z*, oo): min silu = silu(z*)", [
            check_eq(derivative("silu"), factor * h, claim="silu' = sigma h / (1 + e^z)"),
            check_lt(0, factor, factor, REALS, claim="sigma / (1 + e^z) > 0: silu' has the sign of h"),
            h_sign,
        ]),
        check_eq(at_star(silu(z)), -W, given=lambert, claim="silu(z*) = -W(1/e)"),
        check_eq(SILU_MIN, -W, claim="catalogue SILU_MIN = -W(1/e)"),
    ]
    value = high_precision(-W)
    statement = (
        rf"\min_{{z\in\mathbb{{R}}}} \operatorname{{SiLU}}(z) = \operatorname{{SiLU}}(-1 - W(e^{{-1}})) = -W(e^{{-1}})"
        rf" \approx {mpmath.nstr(value, 20)}"
    )
    cert = (
        r"exact: $\operatorname{SiLU}'(z) = \sigma(z)\,h(z)/(1+e^z)$, $h = 1 + z + e^z$, "
        r"$h' = 1 + e^z > 0$, $h(z^*) = 0$ by $W e^W = e^{-1}$"
    )
    return Proof(statement, cert, all_proved("min silu = -W(1/e)", steps))


@cache
def _gelu_curvature_signs() -> tuple:
    """gelu'' = phi (2 - z^2), and its sign on (-oo, -sqrt 2), (-sqrt 2, sqrt 2), (sqrt 2, oo)."""
    q, phi, r2 = derivative("gelu"), Phi.derivative(z), sqrt(2)
    d2 = sp.diff(q, z)
    return (
        check_eq(d2, phi * (2 - z**2), claim="gelu'' = phi (2 - z^2)"),
        check_lt(d2, 0, phi * (r2 - z) * (-r2 - z), {z: Interval.open(-oo, -r2)}, claim="gelu'' < 0 on z < -sqrt 2"),
        check_lt(0, d2, phi * (r2 - z) * (r2 + z), {z: Interval.open(-r2, r2)}, claim="gelu'' > 0 on |z| < sqrt 2"),
        check_lt(d2, 0, phi * (z - r2) * (z + r2), {z: Interval.open(r2, oo)}, claim="gelu'' < 0 on z > sqrt 2"),
    )


def _below_within(value, box: Enclosure, tol) -> bool:
    """value <= every point of the box, and box.hi - value < tol (compared exactly at high precision)."""
    with mpmath.workprec(400):
        v = mpmath.mpf(sp.Float(value, 40)._mpf_) if isinstance(value, sp.Float) else mpmath.mpf(value)
        return v <= box.lo and box.hi - v < tol


@cache
def gelu_minimum() -> Proof:
    """min gelu = gelu(z*), z* the root of gelu' = Phi + z phi in (-sqrt 2, 0): interval enclosure.

    gelu'' = phi (2 - z^2): gelu' decreases on (-oo, -sqrt 2] from its limit 0 (so < 0 there),
    increases on [-sqrt 2, sqrt 2], decreases to 1 on [sqrt 2, oo) (so > 0 there).
    """
    q = derivative("gelu")
    # interval arithmetic on derive's own gelu and gelu' (compiled, not retyped)
    lo, hi = bracket_root(interval_function(q, z), -0.75)
    box = enclose(interval_function(ACTIVATIONS["gelu"].f(z), z), lo, hi)
    bracket = Verdict("root bracket in (-sqrt 2, 0)", "proved" if -1.4142 < lo < hi < 0 else "not proved",
                      f"gelu' changes sign on [{lo}, {hi}] (certified interval signs at both ends)")
    q_sign = by_fact("monotonicity", "gelu' < 0 on (-oo, -sqrt 2] (decreasing from 0), > 0 on [sqrt 2, oo) "
                     "(decreasing to 1), increasing on [-sqrt 2, sqrt 2]: one root z*, in the bracket",
                     [*_gelu_curvature_signs(), limit_is(q, -oo, 0), limit_is(q, oo, 1),
                      by_fact("continuity", "gelu' has a root in the bracket", [bracket])])
    steps = [
        by_fact("monotonicity", "gelu decreases on (-oo, z*], increases on [z*, oo): min gelu = gelu(z*)", [q_sign]),
        Verdict(
            "catalogue GELU_MIN is a lower bound of the minimum, within 1e-29",
            "proved" if _below_within(GELU_MIN, box, mpmath.mpf(ENCLOSURE_TOL.p) / ENCLOSURE_TOL.q) else "not proved",
            f"{sp.sstr(GELU_MIN)} <= {box.show(32)}",
        ),
    ]
    statement = (
        r"\min_{z\in\mathbb{R}} \operatorname{GELU}(z) \in " + box.latex(25) +
        r"\qquad \text{(interval arithmetic, mpmath.iv), attained at the root}\qquad z^* \in " +
        Enclosure(lo, hi).latex(25) + r" \text{ of } \operatorname{GELU}'"
    )
    cert = (
        r"$\operatorname{GELU}'' = \varphi(z)(2 - z^2)$ (exact); sign certificates of $\operatorname{GELU}''$ on "
        r"$(-\infty,-\sqrt2)$, $(-\sqrt2,\sqrt2)$, $(\sqrt2,\infty)$; root bracketed and value enclosed by mpmath.iv"
    )
    return Proof(statement, cert, all_proved("min gelu enclosed", steps), notes=(box.show(30),))


@cache
def mish_minimum(claimed=MISH_MIN) -> Proof:
    """min mish in [claimed, claimed + 1e-29], attained at the one root z* of k: interval enclosure.

    With w = e^z, mish'(z) = w (1 + w) k(z) / ((1 + w)^2 + 1)^2, k = 4z + w^2 + 3w + 3 + 1/(1 + w),
    k' = (4 + 7w + 4w^2)/(1 + w)^2 + 2w^2 + 3w > 0, k runs from -oo to oo: mish' changes sign once, at
    z* (in [-1.2, -1.19]); mish decreases before z* and increases after.
    """
    w = exp(z)
    k = 4 * z + w**2 + 3 * w + 3 + 1 / (1 + w)
    factor = w * (1 + w) / ((1 + w) ** 2 + 1) ** 2
    lo, hi = bracket_root(interval_function(k, z), -1.19)
    box = enclose(interval_function(ACTIVATIONS["mish"].f(z), z), lo, hi)
    bracket = Verdict("root bracket", "proved" if lo < hi else "not proved",
                      f"k changes sign on [{lo}, {hi}] (certified interval signs at both ends)")
    k_sign = by_fact("monotonicity", "k < 0 before its one root z*, k > 0 after", [
        check_lt(0, sp.diff(k, z), (4 + 7 * w + 4 * w**2) / (1 + w) ** 2 + 2 * w**2 + 3 * w, REALS,
                 claim="k' > 0 on R"),
        limit_is(k, -oo, -oo),
        limit_is(k, oo, oo),
        by_fact("continuity", "k has its root in the bracket", [bracket]),
    ])
    steps = [
        by_fact("monotonicity", "mish decreases on (-oo, z*], increases on [z*, oo): min mish = mish(z*)", [
            check_eq(derivative("mish"), factor * k, claim="mish' = w (1 + w) k / ((1 + w)^2 + 1)^2, w = e^z"),
            check_lt(0, factor, factor, REALS, claim="w (1 + w) / ((1 + w)^2 + 1)^2 > 0: mish' has the sign of k"),
            k_sign,
        ]),
        Verdict("the catalogue's MISH_MIN is a lower bound of the minimum, within 1e-29",
                "proved" if _below_within(claimed, box, mpmath.mpf(ENCLOSURE_TOL.p) / ENCLOSURE_TOL.q) else "not proved",
                f"{sp.sstr(claimed)} <= {box.show(32)}"),
    ]
    statement = (
        r"\min_{z\in\mathbb{R}} \operatorname{mish}(z) \in " + box.latex(25) +
        r"\qquad \text{(interval arithmetic, mpmath.iv), attained at the root}\qquad z^* \in " +
        Enclosure(lo, hi).latex(25) + r" \text{ of } k"
    )
    cert = (r"$\operatorname{mish}' = w(1+w)k/((1+w)^2+1)^2$, $w = e^z$, $k = 4z + w^2 + 3w + 3 + 1/(1+w)$ (exact); "
            r"$k' = (4 + 7w + 4w^2)/(1+w)^2 + 2w^2 + 3w > 0$; root bracketed and value enclosed by mpmath.iv")
    return Proof(statement, cert, all_proved("min mish enclosed", steps), notes=(box.show(30),))


@cache
def silu_prime_maximum() -> Proof:
    """max silu' = silu'(r), r > 0 the root of k(z) = 2 - z tanh(z/2): interval enclosure (about 1.0998).

    silu'' = sigma (1 - sigma) k, k even, k' < 0 on (0, oo), k(0) = 2: silu'' > 0 on (-r, r),
    < 0 for |z| > r; silu' -> 0 at -oo, so its maximum is silu'(r).
    """
    d2 = derivative("silu", 2)
    kz = 2 - z * sp.tanh(z / 2)
    t = sp.tanh(z / 2)
    # k is tied to derive by the first step (silu'' = sigma (1 - sigma) k); silu' is derive's own
    lo, hi = bracket_root(interval_function(kz, z), 2.4)
    box = enclose(interval_function(derivative("silu"), z), lo, hi)
    bracket = Verdict("root bracket", "proved" if 0 < lo < hi else "not proved",
                      f"k changes sign on [{lo}, {hi}] (certified interval signs at both ends)")
    k_sign = by_fact("monotonicity", "k > 0 on [0, r), k < 0 on (r, oo); k even: the same on the negative side", [
        check_lt(sp.diff(kz, z), 0, t + z * (1 - t) * (1 + t) / 2, {z: Interval.open(0, oo)}, claim="k' < 0 on z > 0"),
        check_eq(kz.subs(z, 0), 2, claim="k(0) = 2"),
        check_eq(kz.subs(z, -z), kz, claim="k is even"),
        by_fact("continuity", "k has a root r in the bracket", [bracket]),
    ])
    s_factor = sigmoid(z) * (1 - sigmoid(z))
    steps = [
        by_fact("monotonicity", "silu' increases on [-r, r], decreases on [r, oo) and on (-oo, -r] (from its "
                "limit 0 at -oo, below silu'(r) > 0): max silu' = silu'(r)", [
            check_eq(d2, s_factor * kz, claim="silu'' = sigma (1 - sigma) k"),
            check_lt(0, s_factor, s_factor, {sigmoid(z): Interval.open(0, 1)}, claim="sigma (1 - sigma) > 0: silu'' has the sign of k"),
            k_sign,
            limit_is(derivative("silu"), -oo, 0),
        ]),
    ]
    statement = (
        r"\max_{z\in\mathbb{R}} \operatorname{SiLU}'(z) \in " + box.latex(25) +
        r"\qquad \text{(interval arithmetic, mpmath.iv), at the root}\qquad r \in " + Enclosure(lo, hi).latex(25) +
        r" \text{ of } 2 - z\tanh(z/2)"
    )
    cert = (
        r"$\operatorname{SiLU}'' = \sigma(1-\sigma)(2 - z\tanh\frac z2)$ (exact); "
        r"$-k' = \tanh\frac z2 + \frac z2 (1-\tanh\frac z2)(1+\tanh\frac z2) > 0$ on $z>0$; "
        r"root bracketed and value enclosed by mpmath.iv"
    )
    return Proof(statement, cert, all_proved("max silu' enclosed", steps), notes=(box.show(30),))


@cache
def gelu_prime_maximum() -> Proof:
    """max gelu' = gelu'(sqrt 2) = (1 + erf 1)/2 + e^{-1}/sqrt(pi) (about 1.1289): exact."""
    q = derivative("gelu")
    r2 = sqrt(2)
    exact = (1 + sp.erf(1)) / 2 + exp(-1) / sqrt(pi)
    steps = [
        by_fact("monotonicity", "gelu' decreases on (-oo, -sqrt 2] (from its limit 0), increases on [-sqrt 2, sqrt 2], "
                "decreases on [sqrt 2, oo): max gelu' = max(0, gelu'(sqrt 2)) = gelu'(sqrt 2)",
                [*_gelu_curvature_signs(), limit_is(q, -oo, 0),
                 check_lt(0, exact, exact, {}, claim="gelu'(sqrt 2) > 0")]),
        check_eq(q.subs(z, r2), exact, claim="gelu'(sqrt 2) = (1 + erf 1)/2 + 1/(e sqrt pi)"),
    ]
    value = high_precision(exact)
    statement = (
        r"\max_{z\in\mathbb{R}} \operatorname{GELU}'(z) = \operatorname{GELU}'(\sqrt2) = " + latex(exact) +
        rf" \approx {mpmath.nstr(value, 20)}"
    )
    cert = r"exact: $\operatorname{GELU}'' = \varphi(z)(2 - z^2)$ with sign certificates on the three pieces"
    return Proof(statement, cert, all_proved("max gelu' exact", steps))
