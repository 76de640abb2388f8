"""Bounds: derivative bounds of the activations, L2 bounds, vanishing gradients, the learning-rate factor.

    sigma' <= 1/4  =>  prod_{l=1}^{L} sigma'(z_l) <= 4^{-L}   (induction, a stated fact: proofs.given)

>>> l2_bounds().verdict.proved
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Interval, Piecewise, Rational, S, exp, latex, oo

from derive.symbolic.catalogue import ACTIVATIONS, LOSSES
from derive.symbolic.functions import expand_named, sigmoid
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, i, j, n, y
from proofs.certificate import Proof, Verdict, all_proved
from proofs.checker import check_eq, check_le, check_lt
from proofs.extrema import gelu_prime_maximum, silu_prime_maximum
from proofs.given import by_fact
from proofs.limits import REALS, derivative, limit_is, z
from proofs.ranges import range_proof

__all__ = ["derivative_bounds", "l2_bounds", "vanishing_gradients", "learning_rate"]

HALF, QUARTER = Rational(1, 2), Rational(1, 4)


# ---------------------------------------------------------------- derivative bounds


def _branch_values(expr):
    pw = sp.piecewise_fold(expand_named(expr))
    return sp.FiniteSet(*[x for x, _ in pw.args]) if isinstance(pw, Piecewise) else None


def _values_in(name: str, values: set, points) -> Verdict:
    d = derivative(name)
    got = _branch_values(d)
    attained = {d.subs(z, p) for p in points}
    ok = got == sp.FiniteSet(*values) and attained == set(values)
    return Verdict(f"{name}' in {sorted(values)}", "proved" if ok else "not proved", f"branches {got}, attained {attained}")


def derivative_bounds() -> list[Proof]:
    """relu' in {0, 1}; leaky_relu' in {1/100, 1}; softplus' = sigma in (0, 1); elu' in (0, 1]; silu', gelu' maxima."""
    d_elu = derivative("elu")
    out = [
        Proof(r"\operatorname{ReLU}'(z) \in \{0, 1\}\ (\operatorname{ReLU}'(0) = 0)", "the branches of the Piecewise derivative",
              _values_in("relu", {0, 1}, (1, -1))),
        Proof(r"\operatorname{LeakyReLU}'(z) \in \{\tfrac{1}{100}, 1\}", "the branches of the Piecewise derivative",
              _values_in("leaky_relu", {Rational(1, 100), 1}, (1, -1))),
        Proof(r"\operatorname{softplus}' = \sigma \in (0, 1)", "derivative identity; the range of sigma",
              all_proved("softplus' = sigma in (0, 1)", [check_eq(derivative("softplus"), sigmoid(z)), range_proof("sigmoid").verdict])),
        Proof(r"\operatorname{ELU}'(z) \in (0, 1]",
              r"$\operatorname{ELU}' = " + latex(d_elu) + r"$; $1 - \operatorname{ELU}' = " + latex(Piecewise((0, z > 0), (1 - exp(z), True))) + "$",
              all_proved("elu' in (0, 1]", [
                  check_lt(0, d_elu, Piecewise((1, z > 0), (exp(z), True)), REALS),
                  check_le(d_elu, 1, Piecewise((0, z > 0), (1 - exp(z), True)), REALS),
                  check_eq(d_elu.subs(z, 1), 1, claim="elu'(1) = 1"),
                  limit_is(d_elu, -oo, 0),
              ])),
        silu_prime_maximum(),
        gelu_prime_maximum(),
    ]
    return out


# ---------------------------------------------------------------- L2 (seed 000)


@cache
def l2_bounds() -> Proof:
    """(a - y)^2 <= 1 on [0, 1]^2; mse <= 1, sse <= n; sigmoid output, target 255: (a - y)^2 > 254^2."""
    s, t = sp.symbols("a y", real=True)
    unit = Interval(0, 1)
    cert = (1 - s) * (1 - t) + (1 - s) * s + t * (1 - t) + t * s
    term = LOSSES["sse"].term
    per = check_le(term(s, t), 1, cert, {s: unit, t: unit}, claim="(a - y)^2 <= 1 on [0, 1]^2")
    cert_i = cert.subs({s: a[i], t: y[i]})
    dom = {a: unit, y: unit}
    mse = derive_pair("sigmoid", "mse").cost
    sse = derive_pair("sigmoid", "sse").cost
    sig = ACTIVATIONS["sigmoid"].range
    target = check_lt(254**2, term(s, 255), (1 - s) * (509 - s), {s: sig}, claim="(a - 255)^2 > 254^2 for a in (0, 1)")
    steps = [
        per,
        check_le(mse, 1, sp.Sum(cert_i, (i, 1, n)) / n, dom, claim="mse <= 1"),
        check_le(sse, n, sp.Sum(cert_i, (i, 1, n)), dom, claim="sse <= n"),
        target,
    ]
    statement = (
        r"a, y \in [0,1]:\ (a - y)^2 \le 1,\quad " + latex(mse) + r" \le 1,\quad " + latex(sse) + r" \le n;\quad "
        r"a \in (0,1):\ (a - 255)^2 > 254^2 = 64516"
    )
    certificate = rf"$1 - (a-y)^2 = {latex(cert)}$; summed over $i$; $(a-255)^2 - 254^2 = (1-a)(509-a)$"
    return Proof(statement, certificate, all_proved("L2 bounds", steps))


# ---------------------------------------------------------------- vanishing gradients


@cache
def vanishing_gradients() -> Proof:
    """prod_{l=1}^{L} sigma'(z_l) <= 4^{-L}, by induction: the step's certificate below."""
    # P = the product of L factors, D = 4^{-L} - P >= 0 (induction hypothesis), u = 4^{-L} = P + D
    P, D, u = sp.symbols("P D u", real=True)
    s = sigmoid(z)
    ds = derivative("sigmoid")
    cert = D / 4 + P * (s - HALF) ** 2
    dom = {P: Interval(0, oo), D: Interval(0, oo), z: S.Reals}
    steps = [
        by_fact("induction", "prod_{l=1}^{L} sigma'(z_l) <= 4^-L for every L >= 1", [
            check_le(ds, QUARTER, (s - HALF) ** 2, REALS, claim="L = 1: sigma' <= 1/4"),
            check_lt(0, ds, s * (1 - s), {s: ACTIVATIONS["sigmoid"].range},
                     claim="each factor is positive, so the product P of L factors is >= 0"),
            check_le(P * ds, u / 4, cert, dom, given={u: P + D}, claim="P <= 4^-L  =>  P sigma' <= 4^-(L+1)"),
        ]),
    ]
    L, l = sp.symbols("L l", integer=True, positive=True)
    zl = sp.IndexedBase("z")
    statement = latex(sp.Product(sp.Function(r"\sigma'")(zl[l]), (l, 1, L))) + r" \le 4^{-L}"
    certificate = rf"induction: $\frac{{4^{{-L}}}}{{4}} - P\,\sigma' = {latex(cert)}$ with $P \ge 0$, $D = 4^{{-L}} - P \ge 0$"
    return Proof(statement, certificate, all_proved("vanishing gradients", steps))


# ---------------------------------------------------------------- learning rate (seed 000)


@cache
def learning_rate() -> Proof:
    """sigmoid + quadratic: |dC/db| <= |a - y| / 4; identity + quadratic: |dC/db| = |a - y|."""
    d = derive_pair("sigmoid", "quadratic")
    lin = derive_pair("identity", "quadratic")
    aj, yj = a[j], y[j]
    cert = (aj - yj) ** 2 * (aj - HALF) ** 2 * (QUARTER + aj * (1 - aj))
    dom = {aj: ACTIVATIONS["sigmoid"].range, yj: S.Reals}
    steps = [
        check_le(d.grad_b**2, (aj - yj) ** 2 / 16, cert, dom, claim="(dC/db)^2 <= (a - y)^2 / 16"),
        check_eq(lin.grad_b, aj - yj, claim="linear output: dC/db = a - y"),
    ]
    statement = (
        r"\text{sigmoid+quadratic: } \left|" + latex(d.grad_b) + r"\right| \le \tfrac14 |a_j - y_j|;"
        r"\quad \text{identity+quadratic: } \frac{\partial C}{\partial b_j} = " + latex(lin.grad_b)
    )
    certificate = rf"$\frac{{(a-y)^2}}{{16}} - \left(\frac{{\partial C}}{{\partial b}}\right)^2 = {latex(cert)}$"
    return Proof(statement, certificate, all_proved("learning-rate factor", steps))
