"""Ranges of the activations with call-time parameters, proved with each parameter a symbol: for every
value in its domain (the checker reads the symbol's sign from its assumptions, positive or nonnegative).

    elu_alpha:        range (-alpha, oo) for every alpha > 0
    leaky_relu_s:     range R for every s in (0, 1); s = 0 is relu, range [0, oo): the catalogue's R
                      holds both (a superset decides validity soundly: it only refuses more)
    swish_beta:       swish_beta(z) = silu(beta z)/beta, so min swish_beta = -W(1/e)/beta, attained at
                      z = (-1 - W(1/e))/beta, for every beta > 0

``PARAMETRIC_PROOFS`` maps each name to the function giving its ``Proof``.

>>> elu_range().verdict.proved
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Interval, Piecewise, S, exp, oo

from derive.symbolic.catalogue import ACTIVATIONS, SILU_MIN
from derive.symbolic.functions import expand_named, silu
from proofs.certificate import Proof, Verdict
from proofs.checker import check_eq, check_le, check_lt
from proofs.extrema import silu_minimum
from proofs.continuity import continuity
from proofs.given import by_fact
from proofs.limits import limit_is, z

__all__ = ["PARAMETRIC_PROOFS", "elu_range", "leaky_relu_range", "swish_range"]


def _f(name: str):
    """f(z) of the catalogue entry, its parameters symbols, and the domain dict for the checker."""
    act = ACTIVATIONS[name]
    symbols = act.symbols
    return act, act.f(z, **symbols), symbols


def _same(declared: sp.Set, proved: sp.Set, claim: str) -> Verdict:
    """The catalogue's set is the proved one, structurally (its ends the same expressions)."""
    return Verdict(claim, "proved" if declared == proved else "not proved",
                   "the same interval" if declared == proved else f"the catalogue declares {declared}")


@cache
def elu_range() -> Proof:
    """-alpha < elu_alpha(z): elu + alpha = z + alpha (z > 0) or alpha e^z (z <= 0), both > 0; limits -alpha, oo."""
    act, f, s = _f("elu")
    alpha = s["alpha"]
    dom = {z: S.Reals, alpha: Interval.open(0, oo)}
    steps = [
        check_lt(-alpha, f, Piecewise((z + alpha, z > 0), (alpha * exp(z), True)), dom,
                 claim="elu_alpha(z) > -alpha for every alpha > 0"),
        limit_is(f, -oo, -alpha),
        limit_is(f, oo, oo),
        continuity(f),
        _same(act.range_of(**s), Interval.open(-alpha, oo), "the catalogue's range at alpha is (-alpha, oo)"),
    ]
    verdict = by_fact("continuity", "range elu_alpha = (-alpha, oo) for every alpha > 0", steps)
    return Proof(r"\operatorname{range}(\operatorname{ELU}_{\alpha}) = (-\alpha, \infty)\ \ \forall \alpha > 0",
                 r"$\operatorname{ELU}_\alpha + \alpha$ is $z + \alpha$ or $\alpha e^z$, both $> 0$; limits $-\alpha$, $\infty$",
                 verdict)


@cache
def leaky_relu_range() -> Proof:
    """slope s > 0: limits -oo, oo (s z -> -oo), continuous: range R; s = 0: f = relu >= 0, the catalogue's R holds it."""
    act, f, s = _f("leaky_relu")
    slope = s["slope"]
    positive = sp.Symbol("s", positive=True)  # the case s > 0 (s < 1 is not needed for the range)
    g = f.subs(slope, positive)
    relu_case = expand_named(f.subs(slope, 0))
    steps = [
        limit_is(g, -oo, -oo),
        limit_is(g, oo, oo),
        continuity(g),
        check_le(0, relu_case, Piecewise((z, z > 0), (0, True)), {z: S.Reals}, claim="s = 0: f = relu(z) >= 0"),
        _same(act.range_of(**s), S.Reals, "the catalogue's range is R for every slope"),
    ]
    verdict = by_fact("continuity", "range leaky_relu_s = R for s in (0, 1); [0, oo) (inside R) at s = 0", steps)
    return Proof(r"\operatorname{range}(\operatorname{LeakyReLU}_{s}) = \mathbb{R}\ \ \forall s \in (0, 1);\ "
                 r"[0, \infty) \subset \mathbb{R} \text{ at } s = 0",
                 r"limits $\mp\infty$ for $s > 0$ and continuity; $s = 0$: ReLU $\ge 0$", verdict)


@cache
def swish_range() -> Proof:
    """swish_beta(z) = silu(beta z)/beta (identity), silu's minimum -W(1/e) at z* (proved), beta > 0 keeps order."""
    act, f, s = _f("swish")
    beta = s["beta"]
    W = sp.LambertW(exp(-1))
    zs = (-1 - W) / beta
    steps = [
        check_eq(expand_named(f), expand_named(silu(beta * z) / beta), claim="swish_beta(z) = silu(beta z)/beta"),
        silu_minimum().verdict,
        check_lt(0, 1 / beta, 1 / beta, {beta: Interval.open(0, oo)}, claim="1/beta > 0: dividing by beta keeps order"),
        check_eq(expand_named(f.subs(z, zs)), expand_named(silu(-1 - W) / beta),
                 claim="attained: swish_beta((-1 - W(1/e))/beta) = silu(-1 - W(1/e))/beta"),
        limit_is(f, oo, oo),
        _same(act.range_of(**s), Interval(SILU_MIN / beta, oo), "the catalogue's range at beta is [-W(1/e)/beta, oo)"),
    ]
    verdict = by_fact("monotonicity", "range swish_beta = [-W(1/e)/beta, oo) for every beta > 0", steps)
    return Proof(r"\operatorname{range}(\operatorname{swish}_{\beta}) = [-W(e^{-1})/\beta, \infty)\ \ \forall \beta > 0",
                 r"$\operatorname{swish}_\beta(z) = \operatorname{SiLU}(\beta z)/\beta$; "
                 r"$\min \operatorname{SiLU} = -W(e^{-1})$ (exact); $1/\beta > 0$", verdict)


PARAMETRIC_PROOFS = {"elu": elu_range, "leaky_relu": leaky_relu_range, "swish": swish_range}
