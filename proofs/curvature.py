"""Second order per pairing: convexity in z (proved or refuted) and the smoothness constant L.

    convex:      h = d^2 C / dz_j^2 >= 0 for every admissible y (certificate), and delta never jumps down
    not convex:  z1, z2, y with C((z1 + z2)/2) > (C(z1) + C(z2))/2, certified to 60 digits
    L = sup over z and admissible y of h: proved upper bound, attained (or approached); oo with a witness

For an elementwise f the Hessian is diagonal and C = sum_i l(f(z_i), y_i) is separable, so each
unit decides. Kinks: a jump of delta is checked at each Piecewise boundary; a DiracDelta(u) in h
(the jump of a sign function) is a point mass, nonnegative where its coefficient is. What is not
decided says so ("undecided", with the reason), never a guess.

>>> convexity("sigmoid", "bce").status, smoothness("sigmoid", "bce").value
('convex', 1/4)
"""

from __future__ import annotations

from functools import cache
from itertools import product

import sympy as sp
from sympy import Interval, Rational, S, oo

from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from derive.symbolic.pairing import derive_pair, outputs_as_logits
from derive.symbolic.symbols import a, j, n, y, z
from proofs.certificate import Proof, Verdict, all_proved
from proofs.checker import check_eq, check_le
from proofs.given import by_fact
from proofs.softmax_curvature import CurvatureVerdict, softmax_convexity, softmax_smoothness
from proofs.limits import z as z_real
from proofs.ranges import continuity
from proofs.refutation import certified_value, refute
from proofs.sign import sign
from proofs.values import InexactValue

__all__ = ["CurvatureVerdict", "convexity", "smoothness", "curvature_table", "second_order"]

A, Y, Z = a[j], y[j], z[j]
_u, _v, _t = sp.symbols("z_1 z_2 y", real=True)  # the points of a midpoint counterexample
_D = sp.Symbol("D", nonnegative=True)  # stands for DiracDelta(u): a point mass, nonnegative


def _targets_samples(targets: sp.Set):
    if targets == S.Reals:
        return [-3, -1, 0, Rational(1, 2), 1, 3]
    if isinstance(targets, sp.FiniteSet):  # hinge's {-1, 1}
        return sorted(targets)
    lo, hi = targets.start, targets.end
    if not hi.is_finite:  # poisson's [0, oo)
        return [lo, lo + Rational(1, 2), lo + 1, lo + 3]
    return sorted({lo, hi, (lo + hi) / 2, lo + (hi - lo) / 4, hi - (hi - lo) / 4})


def _z_samples():
    return [Rational(p, 2) for p in range(-8, 9)]


def _range_samples(act):
    """Points inside the activation's range: eighths of a bounded one, else the z samples it holds."""
    rng = catalogue.activation(act).range
    if rng.start.is_finite and rng.end.is_finite:
        return [rng.start + (rng.end - rng.start) * Rational(q, 8) for q in range(1, 8)]
    return [p for p in _z_samples() if rng.contains(p) is sp.true]


def _domain(act, loss, h):
    """(h, its domain): in a = a_j over the activation's range when h has no z_j, else in z_j over
    the reals (a_j written as f(z_j)); y_j over the loss's targets."""
    targets = catalogue.loss(loss).targets
    if h.has(Z):
        return outputs_as_logits(h, act), {Z: S.Reals, Y: targets}
    return h, {A: catalogue.activation(act).range, Y: targets}


def _jumps(act, delta):
    """[(a0, jump of delta from left to right in z at a0)] at each boundary of a Piecewise condition in
    a_j alone that the activation reaches; (None, None) when that is not computed here (a condition in
    other symbols too, or an activation not shown nondecreasing: then a in order is not z in order),
    so that no proof rests on the absence of a jump."""
    conds = [rel for pw in delta.atoms(sp.Piecewise) for _, c in pw.args for rel in c.atoms(sp.core.relational.Relational)]
    if not conds:
        return []
    if any(rel.atoms(sp.Indexed) != {A} or rel.free_symbols - A.free_symbols for rel in conds):
        return [(None, None)]
    entry = catalogue.activation(act)
    try:
        rises = sign(entry.prime(A, Z), {A: entry.range, Z: S.Reals}) in ("positive", "nonnegative", "zero")
    except InexactValue:  # a range with a float end (gelu's enclosed minimum): nothing is read from it
        rises = False
    if not rises:
        return [(None, None)]
    reach = entry.range.closure
    cuts = sorted({p for rel in conds for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), A, S.Reals)
                   if reach.contains(p) is sp.true}, key=float)
    eps = min([Rational(1)] + [(q - p) / 2 for p, q in zip(cuts, cuts[1:])])
    out = []
    for a0 in cuts:
        # beyond an end of the range, f stays at a0 (relu at 0 for z <= 0): that side is a0 itself
        sides = [at if reach.contains(at) is sp.true else a0 for at in (a0 + eps, a0 - eps)]
        right, left = [delta.replace(lambda e: isinstance(e, sp.Piecewise),
                                     lambda e, at=at: next(x for x, c in e.args if bool(c.subs(A, at))))
                       for at in sides]
        out.append((a0, sp.expand(right.subs(A, a0) - left.subs(A, a0))))
    return out


def _interior(iv: Interval):
    """A point inside the interval (finite)."""
    if iv.start.is_infinite and iv.end.is_infinite:
        return S.Zero
    if iv.start.is_infinite:
        return iv.end - 1
    if iv.end.is_infinite:
        return iv.start + 1
    return (iv.start + iv.end) / 2


def _admissible_targets(act, loss):
    """Sample targets y, inside the loss's targets, that the activation's output can equal."""
    rng = catalogue.activation(act).range
    return [t for t in _targets_samples(catalogue.loss(loss).targets) if rng.contains(t) is sp.true]


# ---------------------------------------------------------------- convexity


def _convex_proof(act, loss) -> Verdict:
    d = derive_pair(act, loss)
    name = f"{act}+{loss}"
    if any(len(e.args) > 1 for e in d.hessian.diagonal.atoms(sp.DiracDelta)):  # a derivative of a point mass
        return Verdict(f"{name} is convex in z", "not proved", "h holds a derivative of DiracDelta: not a measure of one sign")
    h = d.hessian.diagonal.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: _D)
    expr, dom = _domain(act, loss, h)
    certs = [check_le(0, expr, g, dom, claim=f"{name}: h = d2C/dz^2 >= 0") for g in (expr, sp.factor(expr))]
    h_ok = next((c for c in certs if c.proved), certs[-1])
    targets = {Y: catalogue.loss(loss).targets}
    jumps = [check_le(0, jump, jump, targets, claim=f"{name}: delta jumps up (or not at all) at a = {a0}")
             if jump is not None else Verdict(f"{name}: jumps of delta", "not proved",
                                               "a Piecewise condition in a and other symbols: jumps not computed")
             for a0, jump in _jumps(act, d.delta)]
    # C = l(f(z), y) is continuous: f is (checked here), each catalogue loss is on its domain
    return by_fact("convexity", f"{name} is convex in z", [continuity(catalogue.activation(act).f(z_real)), h_ok, *jumps])


def _cost_of(act, loss, at, target):
    return catalogue.loss(loss).term(catalogue.activation(act).f(at), target)


def _midpoint_counterexample(act, loss) -> Verdict | None:
    """The first certified z1, z2, y with C(mid) > mean of C(z1), C(z2), screened on a grid."""
    mid, ends = _cost_of(act, loss, (_u + _v) / 2, _t), (_cost_of(act, loss, _u, _t) + _cost_of(act, loss, _v, _t)) / 2
    gap = sp.lambdify((_u, _v, _t), expand_named(mid - ends), modules="math")  # a float screen only
    targets = catalogue.loss(loss).targets
    best = None
    for z1, width, t in product(_z_samples(), (1, 2, 4), _targets_samples(targets)):
        try:
            g = gap(float(z1), float(z1 + width), float(t))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        if isinstance(g, float) and g > 1e-6 and (best is None or g > best[0]):
            best = (g, z1, z1 + width, t)
    if best is None:
        return None
    _, z1, z2, t = best
    return refute(mid, ends, {_u: z1, _v: z2, _t: t}, "<=", domain={_t: targets},
                  claim=f"{act}+{loss}: C((z1 + z2)/2) <= (C(z1) + C(z2))/2 (midpoint convexity)")


@cache
def convexity(act: str, loss: str) -> CurvatureVerdict:
    """Convex in z (a certificate that h >= 0 and no downward jump of delta), not convex (a 60-digit
    midpoint counterexample: negative curvature along z2 - z1), or undecided (saying why)."""
    name = f"{act}+{loss}"
    if not catalogue.activation(act).elementwise:
        return softmax_convexity(loss)
    proof = _convex_proof(act, loss)
    if proof.proved:
        return CurvatureVerdict(name, "convex", None, proof)
    ref = _midpoint_counterexample(act, loss)
    if ref is not None and ref.refuted:
        return CurvatureVerdict(name, "not convex", None, Verdict(f"{name} is not convex", "proved",
                                                                  f"the opposite is refuted: {ref.reason}", details=(ref,)))
    return CurvatureVerdict(name, "undecided", None, Verdict(f"{name} convex?", "not proved",
                                                            f"no certificate ({proof.reason}) and no counterexample found"))


# ---------------------------------------------------------------- smoothness


def _unbounded_witness(act, loss, h) -> Verdict | None:
    """h a polynomial in y (targets: all reals) whose leading coefficient c is certified nonzero at some
    z, and positive when the degree is even: sup over y is oo."""
    targets = catalogue.loss(loss).targets
    expr, dom = _domain(act, loss, h)
    if targets != S.Reals or not expr.has(Y):
        return None
    try:
        poly = sp.Poly(sp.expand(expr), Y)
    except sp.PolynomialError:
        return None
    degree, c = poly.degree(), poly.LC()
    if degree < 1 or c.has(Y):
        return None
    atom = Z if Z in dom else A
    for p in (_z_samples() if atom is Z else _range_samples(act)):
        at = c.subs(atom, p)
        value = certified_value(expand_named(at).subs(n, 1)) if at.free_symbols <= {n} else None
        if value is not None and value != 0 and (degree % 2 == 1 or value > 0):
            return Verdict(f"{act}+{loss}: sup h = oo", "proved",
                           f"at {atom} = {p}, h is a polynomial of degree {degree} in y with leading coefficient "
                           f"{sp.N(value, 20)} (n = 1; its sign is the same for every n): unbounded over y")
    return None


def _dirac_witness(act, loss) -> Verdict | None:
    """A point mass c DiracDelta(a - y) in h with c > 0 at a = y: infinite curvature."""
    h = derive_pair(act, loss).hessian.diagonal
    diracs = h.atoms(sp.DiracDelta)
    if not diracs:
        return None
    coeff = sp.diff(h.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: _D), _D).subs(A, Y)
    for t in _admissible_targets(act, loss):  # the mass sits where a = y: y must be an output
        c = coeff.subs(Y, t)
        if c.has(Z) or c.has(A):
            return None
        value = certified_value(expand_named(c).subs(n, 1))
        if value is not None and value > 0:
            return Verdict(f"{act}+{loss}: sup h = oo", "proved",
                           f"h holds the point mass {sp.sstr(c)} DiracDelta(a - y) > 0 at y = {t}: the gradient jumps")
    return None


def _jump_witness(act, loss) -> Verdict | None:
    for a0, jump in _jumps(act, derive_pair(act, loss).delta):
        if jump is None:
            continue
        for t in _targets_samples(catalogue.loss(loss).targets):
            point = {Y: t, n: 1} if jump.has(n) else {Y: t}  # n = 1 unit: the sign of the jump is n's for every n
            r = refute(jump, 0, point, "<=", claim=f"delta does not jump up at a = {a0}")
            if r.refuted:
                return Verdict(f"{act}+{loss}: sup h = oo", "proved", f"delta jumps up at a = {a0}: {r.reason}")
    return None


def _pieces(expr, rng: Interval):
    """[(branch, interval)] of a Piecewise in a_j over the range (a plain expression: one piece)."""
    if not isinstance(expr, sp.Piecewise):
        return [(expr, rng)]
    out, rest = [], rng
    for e, cond in expr.args:
        part = rest if cond == sp.true else sp.solveset(cond, A, S.Reals).intersect(rest)
        if isinstance(part, (Interval,)) and part.measure > 0:
            out.append((e, part))
        rest = rest - part
    return out


def _sup(expr, rng):
    """(sup, where) of expr over the interval by critical points and ends: where = point or ('limit', end)."""
    best = None
    for e, iv in _pieces(sp.piecewise_fold(expr), rng):
        cands = []
        if not e.has(A):
            cands.append((e, _interior(iv)))
        else:
            crit = sp.solveset(sp.diff(e, A), A, iv)
            if not isinstance(crit, sp.FiniteSet):
                return None
            cands += [(e.subs(A, p), p) for p in crit]
            for end, open_end in ((iv.start, iv.left_open), (iv.end, iv.right_open)):
                if end.is_infinite or open_end:
                    cands.append((sp.limit(e, A, end, "+" if end == iv.start else "-"), ("limit", end)))
                else:
                    cands.append((e.subs(A, end), end))
        for value, where in cands:
            v = oo if value is oo else certified_value(value.subs(n, 1))
            if v is None:
                return None
            if best is None or v > best[0]:
                best = (v, sp.simplify(value), where)
    return best


def _factored(gap):
    gap = sp.piecewise_fold(gap)
    return sp.Piecewise(*[(sp.factor(e), c) for e, c in gap.args]) if isinstance(gap, sp.Piecewise) else sp.factor(gap)


def _bounded(act, loss, h) -> CurvatureVerdict | None:
    name = f"{act}+{loss}"
    if h.has(Z) or h.has(sp.DiracDelta):
        return None
    targets = catalogue.loss(loss).targets
    ends = [targets.start, targets.end] if h.has(Y) and isinstance(targets, Interval) and targets.is_finite_set is not True else [None]
    if h.has(Y) and ends == [None]:
        return None
    if h.has(Y) and not (sp.expand(h).is_polynomial(Y) and sp.degree(sp.expand(h), Y) == 1):
        return None  # only linear in y is handled: its sup over an interval of y is at an end
    rng = catalogue.activation(act).range
    best = None
    for t in ends:
        got = _sup(h if t is None else h.subs(Y, t), rng)
        if got is None:
            return None
        if best is None or got[0] > best[0]:
            best = (*got, t)
    _, L, where, t = best
    if L is oo:
        return CurvatureVerdict(name, "unbounded", oo, Verdict(f"{name}: sup h = oo", "proved", f"h -> oo as a -> {where}"))
    if ends == [None]:
        cert = _factored(L - h)
    else:  # h linear in y: L - h = (hi - y)/(hi - lo) (L - h(lo)) + (y - lo)/(hi - lo) (L - h(hi))
        lo, hi = ends
        cert = (hi - Y) / (hi - lo) * _factored(L - h.subs(Y, lo)) + (Y - lo) / (hi - lo) * _factored(L - h.subs(Y, hi))
    dom = {A: rng, Y: targets}
    bound = check_le(h, L, cert, dom, claim=f"{name}: h <= {L}")
    at = h.subs(Y, t) if t is not None else h
    if t is not None and targets.contains(t) is not sp.true:
        return None  # the sup over y sits on an open end of the targets: not attained, not handled here
    if isinstance(where, tuple):
        tight = Verdict(f"{name}: sup h = {L}, approached", "proved" if sp.limit(at, A, where[1]) == L else "not proved",
                        f"as a -> {where[1]}" + (f", y = {t}" if t is not None else ""))
    else:
        tight = check_eq(at.subs(A, where), L, claim=f"{name}: h = {L} at a = {where}" + (f", y = {t}" if t is not None else ""))
    return CurvatureVerdict(name, "bounded", L, all_proved(f"{name}: L = {L}", [bound, tight]))


@cache
def smoothness(act: str, loss: str) -> CurvatureVerdict:
    """L = sup over z, admissible y of the Hessian's largest eigenvalue: proved bound, attained or
    approached; unbounded (oo) with a witness; or undecided. The stable step is 2/L."""
    name = f"{act}+{loss}"
    if not catalogue.activation(act).elementwise:
        return softmax_smoothness(loss)
    h = derive_pair(act, loss).hessian.diagonal
    for witness in (_jump_witness(act, loss), _dirac_witness(act, loss), _unbounded_witness(act, loss, h)):
        if witness is not None:
            return CurvatureVerdict(name, "unbounded", oo, witness)
    got = _bounded(act, loss, h)
    if got is not None and got.verdict.proved:
        return got
    why = (got.verdict.reason if got is not None else
           "a kink whose curvature is not resolved here" if h.has(sp.DiracDelta, sp.Piecewise) else
           "h depends on z beyond a = f(z), or its sup has no closed form here")
    return CurvatureVerdict(name, "undecided", None, Verdict(f"{name}: L?", "not proved", why))


def curvature_table():
    """[(pairing, convexity, smoothness)] for every valid pairing of the catalogue."""
    return [(f"{act}+{loss}", convexity(act, loss), smoothness(act, loss)) for act, loss in catalogue.valid_pairings()]


# the pairings the seeds compare (000: sigmoid + L2 against a linear output; 002/003: cross-entropy)
SEED_PAIRINGS = (("sigmoid", "quadratic"), ("sigmoid", "bce"), ("identity", "quadratic"), ("softmax", "cce"))


def _tex(value) -> str:
    return r"\infty" if value is oo else sp.latex(value)


@cache
def second_order() -> Proof:
    """Theorem 12: the seeds' pairings, second order: sigmoid + quadratic is not convex in z (and its
    curvature is unbounded over real targets), sigmoid + bce is convex with L = 1/4, identity + quadratic
    convex with L = 1, softmax + cce convex with L = 1/2."""
    rows = [(act, loss, convexity(act, loss), smoothness(act, loss)) for act, loss in SEED_PAIRINGS]
    steps = [v.verdict for _, _, c, s in rows for v in (c, s)]
    parts = [rf"\text{{{act}+{loss}: {c.status}}},\ L = {_tex(s.value)}" for act, loss, c, s in rows]
    statement = r";\quad ".join(parts)
    cert = ("convex: h = d2C/dz2 >= 0 by certificate (softmax+cce: v^T H v = sum_i a_i (v_i - a.v)^2); "
            "not convex: a 60-digit midpoint counterexample; L: a proved bound attained, or a witness of unboundedness")
    return Proof(statement, cert, all_proved("second order of the seeds' pairings", steps))
