"""Smoothness constants that ``proofs.curvature.smoothness`` leaves undecided, read off the definition C(z).

    jump:        delta = dC/dz jumps up at z0 for a target t  =>  h holds a positive point mass: L = oo
    targets:     h polynomial in y, the targets unbounded above (or all reals, odd degree), its
                 leading coefficient > 0 (nonzero) at z0  =>  sup over y of h = oo
    bounded:     L = max over the targets of sup over z of h (proofs.smoothness_bound): hinge's {-1, 1},
                 or y = 0 for a loss of a - y with a = z

Every witness is exact: z0 and t are closed forms inside the assumptions (z0 real, t a target), the
jump is the difference of the one-sided values of delta (each branch chosen by the sign of its
condition just beside z0, read from a Taylor coefficient certified to 60 digits), and its sign is
certified by ``refute``. A bound is a ``check_le`` certificate; tightness is a ``check_eq`` at the
attaining point or a limit. Parameters sit at their defaults (the verdict says so).

>>> decide("softplus", "l1").status, decide("identity", "huber").value
('unbounded', 1)
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Interval, S, oo

from derive.symbolic import catalogue
from proofs.certificate import Verdict, all_proved
from proofs.refutation import certified_value, refute
from proofs.smoothness_bound import bounded
from proofs.smoothness_line import W, Z_SAMPLES, Line, Undecided, at, beside, elementwise_line, kink_args, one_sided
from proofs.smoothness_line import show, sign_of, target_samples
from proofs.softmax_curvature import CurvatureVerdict

__all__ = ["decide", "jump_witness", "unbounded_witness"]


# ---------------------------------------------------------------- witnesses of L = oo


def _solutions(g, var, where) -> list:
    try:
        got = sp.solveset(sp.Eq(g, 0), var, where)
        if not isinstance(got, sp.FiniteSet):  # solve knows LambertW (silu(z) = 1 at z = 1 + W(1/e))
            got = [r for r in sp.solve(g, var) if r.is_real and where.contains(r) is sp.true]
    except (NotImplementedError, TypeError, ValueError):
        return []
    return sorted(got, key=sp.default_sort_key)


def _points(line: Line):
    """Candidate (z0, {target: t}) where a kink of delta sits: each kink argument g made zero, by solving for
    a target at sample z0 (l1: y = f(z0)) or for z0 at sample targets (relu's z = 0, hinge's f(z) = 1)."""
    (first, first_set), *others = line.targets
    rest = {s: target_samples(st)[0] for s, st in others}
    for g in kink_args(line.slope):
        g = g.subs(rest)
        if g.has(first) and not isinstance(first_set, sp.FiniteSet):
            for z0 in Z_SAMPLES:
                for t in _solutions(g.subs(W, z0), first, first_set):
                    yield z0, {first: t, **rest}
            continue
        for t in target_samples(first_set):
            for z0 in _solutions(g.subs(first, t), W, S.Reals):
                yield z0, {first: t, **rest}


def jump_witness(line: Line) -> Verdict | None:
    """delta jumps up at an exact z0 for an exact target: a positive point mass in h, sup h = oo."""
    for z0, point in _points(line):
        if sp.sympify(z0).is_real is not True or any(st.contains(point[s]) is not sp.true for s, st in line.targets):
            continue
        delta = line.slope.subs(point)
        try:
            left, right = one_sided(delta, z0, -1), one_sided(delta, z0, 1)
        except Undecided:
            continue
        if not sp.N(right - left, 15) > 1e-12:  # a float screen: only a visible jump is certified
            continue
        up = refute(right - left, 0, {}, "<=", claim=f"{line.name}: delta does not jump up at z = {z0}")
        if up.refuted:
            return Verdict(f"{line.name}: sup h = oo", "proved",
                           f"at {line.where}, z = {show(z0)}, {line.shown(point)} (inside the targets, z real): "
                           f"delta = dC/dz jumps from {show(left)} to {show(right)}"
                           f"{' (times ' + sp.sstr(line.scale) + ' > 0)' if line.scale != 1 else ''}, "
                           f"up by {sp.N(right - left, 20)} > 0 (refute: {up.reason.split('certified ')[-1]}): a positive point mass in h",
                           details=(up, z0, point))
    return None


def _smooth_near(h, z0, targets):
    """h on a neighbourhood of z0 where no kink argument of h vanishes (and none holds a target), else None."""
    args = kink_args(h) + [e.args[0] for e in h.atoms(sp.Abs, sp.DiracDelta) if e.args[0].has(W)]
    if any(g.has(s) for g in args for s in targets):
        return None
    try:
        if any(sign_of(at(g, z0)) == 0 for g in args):
            return None
        near = beside(h, z0, 1)
    except Undecided:
        return None
    return near.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: S.Zero)


def unbounded_witness(line: Line) -> Verdict | None:
    """h = d2C/dz2 polynomial in a target whose set is unbounded above (or all reals with odd degree), with a
    leading coefficient c(z0) > 0 (or nonzero) at an exact z0 where C is smooth: h -> oo along that target."""
    h = sp.diff(line.slope, W)
    symbols = [s for s, _ in line.targets]
    for s, st in line.targets:
        if not (isinstance(st, Interval) and st.end is oo) or not h.has(s):
            continue
        for z0 in Z_SAMPLES:
            near = _smooth_near(h, z0, symbols)
            if near is None:
                continue
            try:
                poly = sp.Poly(sp.expand(near.subs(W, z0)), s)
            except sp.PolynomialError:
                continue
            degree, lead = poly.degree(), poly.LC()
            if degree < 1 or lead.free_symbols or abs(sp.N(lead, 15)) < 1e-12:  # a float screen: 0 is no witness
                continue
            value = certified_value(lead)
            both = st.start is -oo and degree % 2 == 1
            if value is not None and value != 0 and (value > 0 or both):
                toward = "-oo" if value < 0 else "oo"
                return Verdict(f"{line.name}: sup h = oo", "proved",
                               f"at {line.where}, z = {sp.sstr(z0)} (C is smooth near it): h is a polynomial of degree "
                               f"{degree} in {s} with leading coefficient {show(lead)} = {sp.N(value, 20)} "
                               f"(certified): h -> oo as {s} -> {toward} (inside the targets)",
                               details=(z0, s, -1 if value < 0 else 1))
    return None


# ---------------------------------------------------------------- the verdict


@cache
def decide(act: str, loss: str, **values) -> CurvatureVerdict | None:
    """L = sup h (point masses included) for an elementwise pairing at its parameters: oo with an exact witness
    (a jump of delta, or h unbounded along the targets), or a bound proved and attained or approached;
    None where none of these rules applies (the caller keeps its own reason). Softmax: proofs.smoothness_softmax."""
    if not catalogue.activation(act).elementwise:
        from proofs.smoothness_softmax import decide_softmax  # the softmax rules read lines made here

        return decide_softmax(loss, **values)
    line = elementwise_line(act, loss, **values)
    for witness in (jump_witness, unbounded_witness):
        got = witness(line)
        if got is not None:
            return CurvatureVerdict(line.name, "unbounded", oo, got)
    got = bounded(line)
    if got is None:
        return None
    L, steps = got
    if L is oo:
        return CurvatureVerdict(line.name, "unbounded", oo, all_proved(f"{line.name}: sup h = oo", steps))
    L = L * line.scale
    verdict = all_proved(f"{line.name}: L = {L}", steps)
    return CurvatureVerdict(line.name, "bounded", L, verdict) if verdict.proved else None
