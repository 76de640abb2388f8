"""Bounds: activation ranges and derivative bounds, L2 bounds, vanishing gradients.

    lo < f(z) <= hi  by certificates g = f - lo, hi - f;  open ends by limits, closed ends by a point

Each catalogue activation has one entry in ``RANGE_PROOFS`` (adding an activation
is one line in ``derive.symbolic.catalogue`` plus its entry here); ``range_theorem``
checks every entry against the range the catalogue declares, so the pairing
validity that ``derive`` computes from those ranges rests on proved facts.

>>> range_proof("sigmoid").verdict.proved
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import mpmath
import sympy as sp
from sympy import E, Interval, Piecewise, Rational, S, exp, latex, oo, pi, sqrt

from derive.symbolic.catalogue import ACTIVATIONS, GELU_MIN, LOSSES, SILU_MIN, pairings
from derive.symbolic.functions import Phi, expand_named, sigmoid, silu
from derive.symbolic.pairing import derive_pair
from derive.symbolic.softmax import softmax_entry
from derive.symbolic.symbols import a, i, j, k, m, n, y
from derive.symbolic.symbols import z as zi
from proofs.certificate import (
    Proof,
    Verdict,
    all_proved,
    check_eq,
    check_le,
    check_lt,
    certified_value,
    high_precision,
)
from proofs.enclosure import Enclosure, bracket_root, enclose, interval_function

z = sp.Symbol("z", real=True)
REALS = {z: S.Reals}
ENCLOSURE_TOL = Rational(1, 10**29)  # gelu's minimum is enclosed within this of the catalogue's GELU_MIN
HALF, QUARTER = Rational(1, 2), Rational(1, 4)


def derivative(name: str, order: int = 1):
    """f^(order)(z) of a catalogue activation, by SymPy's diff of derive's function."""
    return sp.diff(ACTIVATIONS[name].f(z), z, order)


# ---------------------------------------------------------------- limits


@cache
def limit_at(expr, point):
    """lim_{z -> point} expr for point = +-oo; a Piecewise in z takes the branch that holds
    beyond every finite boundary of its conditions (their truth is constant out there)."""
    expr = sp.piecewise_fold(expand_named(expr))
    if expr.has(Piecewise):
        bounds = [0]
        for pw in expr.atoms(Piecewise):
            for _, cond in pw.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    bounds += [p for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), z, S.Reals) if p.is_finite]
        far = (max(bounds) + 1) if point == oo else (min(bounds) - 1)
        expr = expr.replace(
            lambda e: isinstance(e, Piecewise),
            lambda e: next(x for x, c in e.args if bool(c.subs(z, far))),
        )
    return sp.limit(expr, z, point)


def limit_is(expr, point, value) -> Verdict:
    got = limit_at(expr, point)
    claim = f"lim z->{point} {sp.sstr(expr)} = {sp.sstr(value)}"
    if sp.simplify(got - value) == 0 or got == value:
        return Verdict(claim, "proved", "sympy.limit")
    return Verdict(claim, "not proved", f"sympy.limit gave {got}")


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


def _silu_min() -> Proof:
    return silu_minimum()


def _gelu_min() -> Proof:
    return gelu_minimum()


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
    "silu":       RangeProof(End(SILU_MIN, True, special=_silu_min), End(oo)),
    "gelu":       RangeProof(End(GELU_MIN, True, special=_gelu_min), End(oo)),
    "softmax":    RangeProof(End(S.Zero), End(S.One)),  # not elementwise: see softmax_range
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
            check_eq(sp.limit(e / (e + R), e, 0), 0, claim="S_i = e/(e + R) -> 0 as e = e^{z_i} -> 0"),
            check_eq(sp.limit(e / (e + R), e, oo), 1, claim="S_i = e/(e + R) -> 1 as e = e^{z_i} -> oo"),
        ],
    )


def _continuity(f) -> Verdict:
    """A Piecewise activation is continuous: its branches agree at every boundary."""
    g = sp.piecewise_fold(expand_named(f))
    if not g.has(Piecewise):
        return Verdict("continuous", "proved", "an elementary function with no singular point on R")
    checks = []
    for pw in g.atoms(Piecewise):
        branches = [x for x, _ in pw.args]
        for _, cond in pw.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), z, S.Reals):
                    checks += [check_eq(b1.subs(z, p), b2.subs(z, p)) for b1, b2 in zip(branches, branches[1:])]
    return all_proved("continuous", checks, "the branches agree at each boundary")


@cache
def range_proof(name: str) -> Proof:
    """The range of activation ``name`` equals the catalogue's: both ends and continuity (IVT)."""
    act = ACTIVATIONS[name]
    rp = RANGE_PROOFS[name]
    declared = act.range
    if not act.elementwise:
        verdict = softmax_range()
    else:
        f = act.f(z)
        steps = _end_verdicts(f, rp.lower, "lower") + _end_verdicts(f, rp.upper, "upper") + [_continuity(f)]
        verdict = all_proved(f"range of {name} = {proved_range(name)}", steps)
    same = proved_range(name) == declared
    tex_name = name.replace("_", r"\_")
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
        what = f"range of {name} is {proved_range(name)}, as the catalogue declares"
        statement = rf"\operatorname{{range}}(\mathrm{{{tex_name}}}) = {latex(proved_range(name))}"
        if not act.elementwise:
            statement += r"\qquad (n \ge 2 \text{ units; for } n = 1,\ S_1 = 1)"
    verdict = all_proved(what, [verdict, Verdict("catalogue agrees", "proved" if same else "not proved",
                                                  f"catalogue: {declared}")])
    return Proof(statement, _range_cert(name), verdict)


def _enclosed(end: End) -> bool:
    """An end known only as a certified lower bound within ENCLOSURE_TOL of the true extremum (gelu's)."""
    return isinstance(end.value, sp.Float) and end.special is not None


def proved_range(name: str) -> sp.Set:
    """An interval holding the range that ``range_proof(name)`` establishes: the range itself, except
    for an enclosed end (gelu: [GELU_MIN, oo) contains the range [m, oo), m - GELU_MIN < 1e-29).
    Softmax: for n >= 2 units."""
    if not ACTIVATIONS[name].elementwise:
        return Interval.open(0, 1)
    rp = RANGE_PROOFS[name]
    return Interval(rp.lower.value, rp.upper.value, not rp.lower.closed, not rp.upper.closed)


# Points tried, in order, for a witness that an activation leaves a loss's domain (not per pairing).
WITNESS_POINTS = (S.Zero, sp.Integer(2), -S.One)


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


def invalidity_witness(act: str, loss: str) -> Verdict:
    """act + loss is invalid: a point z with f(z) outside dom(loss) (the range itself, not a superset)."""
    claim = f"{act}+{loss}: invalid"
    domain = LOSSES[loss].domain
    if not ACTIVATIONS[act].elementwise or not isinstance(domain, Interval):
        return Verdict(claim, "not proved", "no witness rule for a vector activation or a non-interval domain")
    f = ACTIVATIONS[act].f(z)
    for p in WITNESS_POINTS:
        value = expand_named(f).subs(z, p)
        if _outside(value, domain):
            return Verdict(claim, "proved", f"witness: {act}({p}) = {sp.sstr(value)} is not in {domain}")
    return Verdict(claim, "not proved", f"no witness among z = {[int(p) for p in WITNESS_POINTS]}")


@cache
def pairing_validity() -> Proof:
    """valid: the proved range (an interval holding the range) lies in the loss's domain;
    invalid: a witness point whose value lies outside the domain. Both as derive says."""
    steps = [range_proof(name).verdict for name in ACTIVATIONS]
    valid = 0
    for act, lo, why in pairings():
        if why is None:
            ok = proved_range(act).is_subset(LOSSES[lo].domain) is True
            valid += ok
            steps.append(Verdict(f"{act}+{lo}: valid", "proved" if ok else "not proved", "range inside the domain"))
        else:
            steps.append(invalidity_witness(act, lo))
    total = len(steps) - len(ACTIVATIONS)
    statement = (
        r"(f, \ell) \text{ valid} \iff \operatorname{range}(f) \subseteq \operatorname{dom}(\ell):\ "
        + str(valid) + r" \text{ of } " + str(total) + r" \text{ valid, as derive computes; each invalid one has a point } "
        r"z \in \{" + ", ".join(map(str, WITNESS_POINTS)) + r"\} \text{ with } f(z) \notin \operatorname{dom}(\ell)"
    )
    return Proof(statement, "the proved ranges against each loss's domain; witness points for the invalid pairings",
                 all_proved("pairing validity", steps))


def _range_cert(name: str) -> str:
    rp = RANGE_PROOFS[name]
    parts = []
    for side, end in (("lower", rp.lower), ("upper", rp.upper)):
        if end.value.is_infinite:
            parts.append(rf"$\lim_{{z\to{latex(-oo if side == 'lower' else oo)}}} = {latex(end.value)}$")
        elif end.special is not None:
            parts.append("see the minimum theorem")
        elif end.certificate is not None:
            g = latex(end.certificate)
            what = f"f - ({latex(end.value)})" if side == "lower" else f"{latex(end.value)} - f"
            parts.append(rf"${what} = {g}$")
        else:
            parts.append(r"$S_i = e/(e+R)$, $e, R > 0$")
    return "; ".join(parts)


# ---------------------------------------------------------------- silu / gelu minima


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

    steps = [
        check_lt(0, sp.diff(h, z), 1 + exp(z), REALS, claim="h' > 0: h = 1 + z + e^z increases"),
        check_eq(derivative("silu"), sigmoid(z) * h / (1 + exp(z)), claim="silu' = sigma h / (1 + e^z)"),
        check_eq(at_star(h), 0, given=lambert, claim="h(z*) = 0"),
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
    phi = Phi.derivative(z)
    r2 = sqrt(2)
    # interval arithmetic on derive's own gelu and gelu' (compiled, not retyped)
    lo, hi = bracket_root(interval_function(q, z), -0.75)
    box = enclose(interval_function(ACTIVATIONS["gelu"].f(z), z), lo, hi)
    steps = [
        check_eq(sp.diff(q, z), phi * (2 - z**2), claim="gelu'' = phi (2 - z^2)"),
        check_lt(sp.diff(q, z), 0, phi * (r2 - z) * (-r2 - z), {z: Interval.open(-oo, -r2)}, claim="gelu'' < 0 on z < -sqrt 2"),
        check_lt(0, sp.diff(q, z), phi * (r2 - z) * (r2 + z), {z: Interval.open(-r2, r2)}, claim="gelu'' > 0 on |z| < sqrt 2"),
        check_lt(sp.diff(q, z), 0, phi * (z - r2) * (z + r2), {z: Interval.open(r2, oo)}, claim="gelu'' < 0 on z > sqrt 2"),
        limit_is(q, -oo, 0),
        limit_is(q, oo, 1),
        Verdict("root bracket in (-sqrt 2, 0)", "proved" if -1.4142 < lo < hi < 0 else "not proved", f"[{lo}, {hi}]"),
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
    steps = [
        check_eq(d2, sigmoid(z) * (1 - sigmoid(z)) * kz, claim="silu'' = sigma (1 - sigma) k"),
        check_eq(kz.subs(z, -z), kz, claim="k is even"),
        check_lt(sp.diff(kz, z), 0, t + z * (1 - t) * (1 + t) / 2, {z: Interval.open(0, oo)}, claim="k' < 0 on z > 0"),
        check_eq(kz.subs(z, 0), 2, claim="k(0) = 2"),
        limit_is(derivative("silu"), -oo, 0),
        Verdict("root bracket", "proved" if 0 < lo < hi else "not proved", f"[{lo}, {hi}]"),
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
    phi = Phi.derivative(z)
    r2 = sqrt(2)
    exact = (1 + sp.erf(1)) / 2 + exp(-1) / sqrt(pi)
    steps = [
        check_eq(sp.diff(q, z), phi * (2 - z**2), claim="gelu'' = phi (2 - z^2)"),
        check_lt(sp.diff(q, z), 0, phi * (z - r2) * (z + r2), {z: Interval.open(r2, oo)}, claim="gelu'' < 0 on z > sqrt 2"),
        check_lt(0, sp.diff(q, z), phi * (r2 - z) * (r2 + z), {z: Interval.open(-r2, r2)}, claim="gelu'' > 0 on |z| < sqrt 2"),
        check_lt(sp.diff(q, z), 0, phi * (r2 - z) * (-r2 - z), {z: Interval.open(-oo, -r2)}, claim="gelu'' < 0 on z < -sqrt 2"),
        limit_is(q, -oo, 0),
        check_eq(q.subs(z, r2), exact, claim="gelu'(sqrt 2) = (1 + erf 1)/2 + 1/(e sqrt pi)"),
    ]
    value = high_precision(exact)
    statement = (
        r"\max_{z\in\mathbb{R}} \operatorname{GELU}'(z) = \operatorname{GELU}'(\sqrt2) = " + latex(exact) +
        rf" \approx {mpmath.nstr(value, 20)}"
    )
    cert = r"exact: $\operatorname{GELU}'' = \varphi(z)(2 - z^2)$ with sign certificates on the three pieces"
    return Proof(statement, cert, all_proved("max gelu' exact", steps))


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
        check_le(ds, QUARTER, (s - HALF) ** 2, REALS, claim="L = 1: sigma' <= 1/4"),
        check_lt(0, ds, s * (1 - s), {s: ACTIVATIONS["sigmoid"].range}, claim="each factor is positive"),
        check_le(P * ds, u / 4, cert, dom, given={u: P + D}, claim="P <= 4^-L  =>  P sigma' <= 4^-(L+1)"),
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
