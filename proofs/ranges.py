"""Ranges: the range of each catalogue activation, proved, and the pairing validity it decides.

    lo < f(z) <= hi  by certificates g = f - lo, hi - f;  open ends by limits, closed ends by a point

``range_proof(entry)`` proves the range of ONE activation entry (a catalogue ``Activation``
or its name) against the range it declares, from its ``RangeProof`` (the entry in
``RANGE_PROOFS``, or one passed in): adding an activation is one catalogue line plus its
``RangeProof`` here. Theorem 2 is this, computed for every entry of the catalogue.

>>> range_proof("sigmoid").verdict.proved
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy import Interval, Piecewise, S, exp, oo

from derive.docs.printer import layer_latex
from derive.symbolic import catalogue
from derive.symbolic.catalogue import GELU_MIN, MISH_MIN, SILU_MIN, Activation
from derive.symbolic.functions import SELU_ALPHA, SELU_SCALE, expand_named
from derive.symbolic.named import NamedFunction
from derive.symbolic.softmax import softmax_entry
from derive.symbolic.symbols import i, k, m, n
from derive.symbolic.symbols import z as zi
from proofs.certificate import Proof, Verdict, all_proved
from proofs.checker import check_eq, check_le, check_lt
from proofs.extrema import gelu_minimum, mish_minimum, silu_minimum
from proofs.continuity import continuity
from proofs.given import by_fact
from proofs.limits import REALS, limit_is, z
from proofs.parametric import PARAMETRIC_PROOFS
from proofs.refutation import certified_value

__all__ = ["End", "RangeProof", "RANGE_PROOFS", "range_proof", "proved_range", "softmax_range", "continuity",
           "pairing_validity", "invalidity_witness", "WITNESS_POINTS"]


# ---------------------------------------------------------------- one end of a range


@dataclass(frozen=True)
class End:
    """One end of a range: its value, and how it is shown.

    ``certificate``: g with f - lo == g (lower) or hi - f == g (upper); strict for an open end.
    ``at``: a point where a closed end is attained. ``special``: a proof for ends with no
    one-line certificate (silu's and gelu's minima). Infinite ends need only the limit.
    """

    value: sp.Expr
    closed: bool = False
    certificate: sp.Expr | None = None
    at: sp.Expr | None = None
    special: Callable[[], Proof] | None = None


@dataclass(frozen=True)
class RangeProof:
    lower: End
    upper: End


def latex(expr) -> str:
    """The report's LaTeX of ``expr`` (plain indices; named constants by name: SELU's lambda alpha)."""
    return layer_latex(expr, layers=False)


def _end_verdicts(f, end: End, side: str) -> list[Verdict]:
    point = -oo if side == "lower" else oo
    if end.value.is_infinite:
        return [limit_is(f, point, end.value)]
    if end.special is not None:
        return [end.special().verdict]
    lhs, rhs = (end.value, f) if side == "lower" else (f, end.value)
    check = check_le if end.closed else check_lt
    out = [check(lhs, rhs, end.certificate, REALS)]
    if end.closed:
        out.append(check_eq(f.subs(z, end.at), end.value, claim=f"attained: f({end.at}) = {end.value}"))
    else:
        out.append(limit_is(f, point, end.value))
    return out


_sig_lo = End(S.Zero, certificate=1 / (1 + exp(-z)))
_sig_hi = End(S.One, certificate=exp(-z) / (1 + exp(-z)))


# fmt: off
RANGE_PROOFS: dict[str, RangeProof] = {
    "identity":   RangeProof(End(-oo), End(oo)),
    "sigmoid":    RangeProof(_sig_lo, _sig_hi),
    "tanh":       RangeProof(End(-S.One, certificate=2 / (1 + exp(-2 * z))),
                             End(S.One, certificate=2 * exp(-2 * z) / (1 + exp(-2 * z)))),
    "relu":       RangeProof(End(S.Zero, True, Piecewise((z, z > 0), (0, True)), at=S.Zero), End(oo)),
    "leaky_relu": RangeProof(End(-oo), End(oo)),
    "softplus":   RangeProof(End(S.Zero, certificate=sp.log(1 + exp(z))), End(oo)),
    "elu":        RangeProof(End(-S.One, certificate=Piecewise((z + 1, z > 0), (exp(z), True))), End(oo)),
    "silu":       RangeProof(End(SILU_MIN, True, special=silu_minimum), End(oo)),
    "gelu":       RangeProof(End(GELU_MIN, True, special=gelu_minimum), End(oo)),
    "softmax":    RangeProof(End(S.Zero), End(S.One)),  # not elementwise: see softmax_range
    "mish":       RangeProof(End(MISH_MIN, True, special=mish_minimum), End(oo)),
    "selu":       RangeProof(End(-SELU_SCALE * SELU_ALPHA, certificate=Piecewise(
                                 (SELU_SCALE * (z + SELU_ALPHA), z > 0), (SELU_SCALE * SELU_ALPHA * exp(z), True))),
                             End(oo)),
    "softsign":   RangeProof(End(-S.One, certificate=Piecewise(((1 + 2 * z) / (1 + z), z > 0), (1 / (1 - z), True))),
                             End(S.One, certificate=Piecewise((1 / (1 + z), z > 0), ((1 - 2 * z) / (1 - z), True)))),
    "hard_sigmoid": RangeProof(End(S.Zero, True, Piecewise((0, z <= -3), (1, z >= 3), (z / 6 + S.Half, True)), at=-3),
                               End(S.One, True, Piecewise((1, z <= -3), (0, z >= 3), (S.Half - z / 6, True)), at=3)),
}
# fmt: on


@cache
def softmax_range() -> Verdict:
    """0 < S_i < 1 for n >= 2 units: S_i = e / (e + R), e = e^{z_i} > 0, R = sum_{k != i} e^{z_k} > 0.

    n >= 2 is used as: some unit m != i exists; R = e^{z_m} + sum_{k != i, m} e^{z_k} > 0.
    (n = 1: S_1 = 1 identically, checked too.)
    """
    S_i = softmax_entry(i)
    e_i, e_m = exp(zi[i]), exp(zi[m])
    others = sp.Sum(exp(zi[k]) * (1 - sp.KroneckerDelta(k, i)) * (1 - sp.KroneckerDelta(k, m)), (k, 1, n))
    units, apart = {i: (1, n), m: (1, n)}, {sp.KroneckerDelta(i, m): 0}
    whole = e_i + e_m + others
    dom = {zi: S.Reals}
    e, R = sp.symbols("e R", positive=True)  # e = e^{z_i}, R = e^{z_m} + others > 0 (proved below)
    return all_proved(
        "0 < S_i < 1 (n >= 2)",
        [
            check_eq(S_i.subs({n: 1, i: 1}).doit(), 1, claim="n = 1: S_1 = 1 identically (so the range needs n >= 2)"),
            check_eq(sp.Sum(exp(zi[k]), (k, 1, n)), whole, given=apart, indices=units,
                     claim="n >= 2, m != i: sum_k e^{z_k} = e^{z_i} + e^{z_m} + sum_{k != i, m} e^{z_k}"),
            check_lt(0, e_m + others, e_m + others, dom, claim="R = e^{z_m} + sum_{k != i, m} e^{z_k} > 0"),
            check_lt(0, S_i, e_i / whole, dom, given=apart, indices=units, claim="0 < S_i"),
            check_lt(S_i, 1, (e_m + others) / whole, dom, given=apart, indices=units, claim="S_i < 1 (n >= 2)"),
            limit_is(e / (e + R), S.Zero, 0, var=e, side="+", claim="S_i = e/(e + R) -> 0 as e = e^{z_i} -> 0"),
            limit_is(e / (e + R), oo, 1, var=e, claim="S_i = e/(e + R) -> 1 as e = e^{z_i} -> oo"),
        ],
    )


def _entry(act) -> Activation:
    return catalogue.activation(act) if isinstance(act, str) else act


def _proof_of(act: Activation, rp: RangeProof | None) -> RangeProof | None:
    return rp if rp is not None else RANGE_PROOFS.get(act.name)


@cache
def range_proof(act: Activation | str, rp: RangeProof | None = None) -> Proof:
    """The range of ONE activation entry equals the range its catalogue line declares: both ends
    (certificate and limit, or attained point, or a special proof) and continuity (IVT).

    ``rp``: its RangeProof; by default ``RANGE_PROOFS[act.name]``. None there: "not proved", saying so."""
    act = _entry(act)
    if rp is None and act.name in PARAMETRIC_PROOFS:  # proved for every value of its parameters
        return PARAMETRIC_PROOFS[act.name]()
    name, declared = act.name, act.range
    rp = _proof_of(act, rp)
    tex_name = name.replace("_", r"\_")
    if rp is None:
        why = f"no RangeProof for {name}: add one to proofs.ranges.RANGE_PROOFS or pass it to range_proof"
        return Proof(rf"\operatorname{{range}}(\mathrm{{{tex_name}}})", "none", Verdict(f"range of {name}", "not proved", why))
    proved = proved_range(act, rp)
    if not act.elementwise:
        verdict = softmax_range()
    else:
        f = act.f(z)
        steps = _end_verdicts(f, rp.lower, "lower") + _end_verdicts(f, rp.upper, "upper") + [continuity(f)]
        verdict = by_fact("continuity", f"range of {name} = {proved}", steps)
    same = proved == declared
    if _enclosed(rp.lower):  # only an enclosure of the minimum m is proved: say exactly that
        lo = rp.lower.value
        what = (f"range of {name} = [m, oo) with m in [{sp.sstr(lo)}, {sp.sstr(lo)} + 1e-29]; "
                f"the catalogue's {declared} contains it")
        statement = (
            rf"\operatorname{{range}}(\mathrm{{{tex_name}}}) = [m, \infty),\quad m = \min \in "
            rf"\left[{latex(lo)},\ {latex(lo)} + 10^{{-29}}\right]\qquad \text{{catalogue: }} "
            rf"{latex(declared)} \supseteq \operatorname{{range}}"
        )
    else:
        what = f"range of {name} is {proved}, as the catalogue declares"
        statement = rf"\operatorname{{range}}(\mathrm{{{tex_name}}}) = {latex(proved)}"
        if not act.elementwise:
            statement += r"\qquad (n \ge 2 \text{ units; for } n = 1,\ S_1 = 1)"
    verdict = all_proved(what, [verdict, Verdict("catalogue agrees", "proved" if same else "not proved",
                                                  f"catalogue: {declared}")])
    return Proof(statement, _range_cert(rp, act.f(z) if act.elementwise else None, rf"\operatorname{{{tex_name}}}"), verdict)


def _enclosed(end: End) -> bool:
    """An end known only as a certified lower bound within ENCLOSURE_TOL of the true extremum (gelu's)."""
    return isinstance(end.value, sp.Float) and end.special is not None


def proved_range(act: Activation | str, rp: RangeProof | None = None) -> sp.Set | None:
    """An interval holding the range that ``range_proof(act)`` establishes: the range itself, except
    for an enclosed end (gelu: [GELU_MIN, oo) contains the range [m, oo), m - GELU_MIN < 1e-29).
    Softmax: for n >= 2 units. None when the entry has no RangeProof."""
    act = _entry(act)
    if not act.elementwise:
        return Interval.open(0, 1)
    if rp is None and act.name in PARAMETRIC_PROOFS:  # at the defaults, from the proof for every value
        return act.range if PARAMETRIC_PROOFS[act.name]().verdict.proved else None
    rp = _proof_of(act, rp)
    if rp is None:
        return None
    return Interval(rp.lower.value, rp.upper.value, not rp.lower.closed, not rp.upper.closed)


# Points tried, in order, for a witness that an activation leaves a loss's domain (not per pairing).
WITNESS_POINTS = (S.Zero, sp.Integer(2), -S.One, -sp.Integer(3))  # -3: hard_sigmoid's 0


def _outside(value, domain: Interval) -> bool:
    """value is certainly not in ``domain``: beyond an end (certified digits), or on an open end exactly."""
    for end, open_end, below in ((domain.start, domain.left_open, True), (domain.end, domain.right_open, False)):
        if end.is_infinite:
            continue
        gap = value - end
        if sp.simplify(gap) == 0:
            if open_end:
                return True
            continue
        g = certified_value(gap)
        if g is not None and ((g < 0) if below else (g > 0)):
            return True
    return False


def invalidity_witness(act: Activation | str, loss) -> Verdict:
    """act + loss is invalid: a point z with f(z) outside dom(loss) (the range itself, not a superset)."""
    act, loss = _entry(act), catalogue.loss(loss) if isinstance(loss, str) else loss
    claim = f"{act.name}+{loss.name}: invalid"
    domain = loss.domain
    if loss.per_unit and not act.elementwise:  # refused for what the loss is, not for a range
        return Verdict(claim, "proved", f"by declaration, not a range question: {catalogue.invalid_reason(act, loss)}")
    if not act.elementwise or not isinstance(domain, Interval):
        return Verdict(claim, "not proved", "no witness rule for a vector activation or a non-interval domain")
    f = act.f(z)
    for p in WITNESS_POINTS:
        value = expand_named(f).subs(z, p)
        if _outside(value, domain):
            return Verdict(claim, "proved", f"witness: {act.name}({p}) = {sp.sstr(value)} is not in {domain}")
    return Verdict(claim, "not proved", f"no witness among z = {[int(p) for p in WITNESS_POINTS]}")


def pairing_validity() -> Proof:
    """valid: the proved range (an interval holding the range) lies in the loss's domain;
    invalid: a witness point whose value lies outside the domain. Both as derive says, for the
    catalogue as it is now (entries added to it are included)."""
    return _pairing_validity(tuple(catalogue.ACTIVATIONS.values()), tuple(catalogue.LOSSES.values()))


@cache
def _pairing_validity(activations, losses) -> Proof:
    steps = [range_proof(act).verdict for act in activations]
    valid = 0
    for act in activations:
        for loss in losses:
            if catalogue.invalid_reason(act, loss) is None:
                got = proved_range(act)
                ok = got is not None and got.is_subset(loss.domain) is True
                valid += ok
                steps.append(Verdict(f"{act.name}+{loss.name}: valid", "proved" if ok else "not proved",
                                     "range inside the domain"))
            else:
                steps.append(invalidity_witness(act, loss))
    total = len(steps) - len(activations)
    statement = (
        r"(f, \ell) \text{ valid} \iff \operatorname{range}(f) \subseteq \operatorname{dom}(\ell):\ "
        + str(valid) + r" \text{ of } " + str(total) + r" \text{ valid, as derive computes; each invalid one has a point } "
        r"z \in \{" + ", ".join(map(str, WITNESS_POINTS)) + r"\} \text{ with } f(z) \notin \operatorname{dom}(\ell)"
    )
    return Proof(statement, "the proved ranges against each loss's domain; witness points for the invalid pairings",
                 all_proved("pairing validity", steps))


def _range_cert(rp: RangeProof, f=None, shown_as: str | None = None) -> str:
    """Each end's certificate, naming the function: lim_{z -> -oo} f(z) = ..., f(z) - value = g."""
    parts = []
    for side, end in (("lower", rp.lower), ("upper", rp.upper)):
        if end.value.is_infinite and f is not None:
            point = -oo if side == "lower" else oo
            parts.append(f"${latex(sp.Eq(sp.Limit(f, z, point), end.value, evaluate=False))}$")
        elif end.special is not None:
            parts.append("see the minimum theorem")
        elif end.certificate is not None and f is not None:
            gap = f - end.value if side == "lower" else end.value - f
            # f by its name where its definition is a formula (hard_sigmoid's three cases), not the formula twice
            shown = gap.xreplace({f: sp.Function(shown_as)(z)}) if shown_as and not isinstance(f, NamedFunction) else gap
            parts.append(f"${latex(shown)} = {latex(end.certificate)}$")
        else:
            parts.append(r"$S_i = e/(e+R)$, $e, R > 0$")
    return "; ".join(parts)

