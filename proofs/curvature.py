"""Second order per pairing: convexity in z (proved or refuted) and the smoothness constant L, with parameters.

    convex:      h = d^2 C / dz_j^2 >= 0 for every admissible y (certificate), and delta never jumps down
    not convex:  z1, z2, y with C((z1 + z2)/2) > (C(z1) + C(z2))/2, certified to 60 digits; or delta jumps
                 down at a kink; or h -> -oo as y -> +-oo at a z away from every kink
    L = sup over z and admissible y of h: proved upper bound, attained (or approached); oo with a witness

For an elementwise f the Hessian is diagonal and C = sum_i l(f(z_i), y_i) is separable, so each
unit decides. Kinks: the jumps of delta at Piecewise boundaries (``proofs.kinks``); a DiracDelta(u)
in h (the jump of a sign function) is a point mass, nonnegative where its coefficient is. What is not
decided says so ("undecided", with the reason), never a guess.

Parameters (elu's alpha, huber's delta, ...): without values, each is a symbol over its domain and a
verdict found so holds for every value (``scope``: "for every alpha in (0, oo)"); where none is found,
the verdict is the one at the defaults, its scope saying so and why. With values
(``convexity("elu", "quadratic", alpha=Rational(1, 2))``) the verdict is at those values; they must
be exact (floats are refused: ``proofs.values``) and inside their domains.

>>> convexity("sigmoid", "bce").status, smoothness("sigmoid", "bce").value
('convex', 1/4)
>>> convexity("leaky_relu", "quadratic").scope
'for every slope in [0, 1)'
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from itertools import product

import sympy as sp
from sympy import Interval, S, oo

from derive.symbolic import catalogue
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import a, j, n, y, z
from proofs.certificate import Verdict, all_proved
from proofs.checker import check_eq, check_le
from proofs.curvature_setting import Setting, signed, targets_samples, z_samples
from proofs.given import by_fact
from proofs.kinks import jump_witness, jumps
from proofs.softmax_curvature import CurvatureVerdict, softmax_convexity, softmax_smoothness
from proofs.limits import limit_is
from proofs.limits import z as z_real
from proofs.ranges import continuity
from proofs.refutation import certified_value, refute
from proofs.sign import NEG, POS
from proofs.smoothness import decide as decide_smoothness
from proofs.smoothness_bound import tight_1d

__all__ = ["CurvatureVerdict", "convexity", "smoothness"]  # the table and theorem 12: proofs.second_order

A, Y, Z = a[j], y[j], z[j]
_u, _v, _t = sp.symbols("z_1 z_2 y", real=True)  # the points of a midpoint counterexample
_D = sp.Symbol("D", nonnegative=True)  # stands for DiracDelta(u): a point mass, nonnegative


def _scoped(decide, act, loss, values) -> CurvatureVerdict:
    """decide(setting) for the values given; with parameters left symbols and no verdict for every value,
    the verdict at the defaults, its scope saying so and why the symbolic one was not found."""
    s = Setting.of(act, loss, **values)
    got = decide(s)
    if got.status != "undecided" or not s.free:
        return got
    at = decide(s.at_defaults())
    return replace(at, scope=f"{at.scope}, the default{'s' if len(s.free) > 1 else ''} (not decided {s.scope})",
                   general=got)


def _range_samples(s: Setting):
    """Points inside the activation's range: eighths of a bounded one, else the z samples it holds."""
    rng = s.range
    if rng.start.is_finite and rng.end.is_finite:
        return [rng.start + (rng.end - rng.start) * sp.Rational(q, 8) for q in range(1, 8)]
    return [p for p in z_samples() if rng.contains(p) is sp.true]


def _domain(s: Setting, h):
    """(h, its domain): in a = a_j over the activation's range when h has no z_j, else in z_j over
    the reals (a_j written as f(z_j)); y_j over the loss's targets; the parameters left over theirs."""
    if h.has(Z):
        return s.in_z(h), s.dom({Z: S.Reals, Y: s.targets})
    return h, s.dom({A: s.range, Y: s.targets})


def _interior(iv: Interval):
    """A point inside the interval (finite)."""
    if iv.start.is_infinite and iv.end.is_infinite:
        return S.Zero
    if iv.start.is_infinite:
        return iv.end - 1
    if iv.end.is_infinite:
        return iv.start + 1
    return (iv.start + iv.end) / 2


def _admissible_targets(s: Setting):
    """Sample targets y, inside the loss's targets, that the activation's output can equal."""
    return [t for t in targets_samples(s.targets) if s.range.contains(t) is sp.true]


def _continuous(s: Setting) -> bool:
    """delta is shown continuous: every jump at a Piecewise boundary computed, and 0."""
    return all(jump is not None and jump == 0 for _, jump, _ in jumps(s))


# ---------------------------------------------------------------- convexity


def _convex_proof(s: Setting) -> Verdict:
    name = s.name
    if any(len(e.args) > 1 for e in s.h.atoms(sp.DiracDelta)):  # a derivative of a point mass
        return Verdict(f"{name} is convex in z", "not proved", "h holds a derivative of DiracDelta: not a measure of one sign")
    h = s.h.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: _D)
    expr, dom = _domain(s, h)
    certs = [check_le(0, expr, g, dom, claim=f"{name}: h = d2C/dz^2 >= 0") for g in (expr, sp.factor(expr))]
    h_ok = next((c for c in certs if c.proved), certs[-1])
    kinks = [check_le(0, jump, jump, s.dom({Y: s.targets}), claim=f"{name}: delta jumps up (or not at all) at a = {a0}")
             if jump is not None else Verdict(f"{name}: jumps of delta", "not proved",
                                               "a Piecewise boundary not resolved here: jumps not computed")
             for a0, jump, _ in jumps(s)]
    # C = l(f(z), y) is continuous: f is (checked here), each catalogue loss is on its domain
    return by_fact("convexity", f"{name} is convex in z", [continuity(s.f(z_real)), h_ok, *kinks])


def _midpoint_counterexample(s: Setting) -> Verdict | None:
    """The first certified z1, z2, y with C(mid) > mean of C(z1), C(z2), screened on a grid (values given)."""
    if s.free:
        return None
    mid, ends = s.term(s.f((_u + _v) / 2), _t), (s.term(s.f(_u), _t) + s.term(s.f(_v), _t)) / 2
    gap = sp.lambdify((_u, _v, _t), expand_named(mid - ends), modules="math")  # a float screen only
    best = None
    for z1, width, t in product(z_samples(), (1, 2, 4), targets_samples(s.targets)):
        try:
            g = gap(float(z1), float(z1 + width), float(t))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        if isinstance(g, float) and g > 1e-6 and (best is None or g > best[0]):
            best = (g, z1, z1 + width, t)
    if best is None:
        return None
    _, z1, z2, t = best
    return refute(mid, ends, {_u: z1, _v: z2, _t: t}, "<=", domain={_t: s.targets},
                  claim=f"{s.name}: C((z1 + z2)/2) <= (C(z1) + C(z2))/2 (midpoint convexity)")


def _y_tail(s: Setting, h, direction: int) -> Verdict | None:
    """h -> +oo (direction +1: L = oo) or -oo (-1: not convex) as y -> +-oo (targets: all reals) at a z0 away
    from every kink of z (so h is C's second derivative near z0): h is a polynomial in y there whose leading
    coefficient is nonzero, with the needed sign when the degree is even."""
    if s.targets != S.Reals or h.has(sp.DiracDelta):
        return None
    hz = s.in_z(h)
    if not hz.has(Y):
        return None
    want = POS if direction > 0 else NEG
    for z0 in filter(lambda p: _off(s, hz, {Z: p}, False), z_samples()):
        at = expand_named(hz.subs(Z, z0))
        try:
            poly = sp.Poly(sp.expand(at), Y)
        except sp.PolynomialError:
            continue
        degree, c = poly.degree(), poly.LC()
        got = signed(c, s.dom({})) if degree >= 1 and not c.has(Y) else None
        if got in (POS, NEG) and (degree % 2 == 1 or got == want):
            scope = f" ({s.scope})" if s.free else ""
            return Verdict(f"{s.name}: {'sup' if direction > 0 else 'inf'} h = {'' if direction > 0 else '-'}oo", "proved",
                           f"at z = {z0}, h is a polynomial of degree {degree} in y with leading coefficient "
                           f"{sp.sstr(c)} ({got}; n = 1: its sign is the same for every n): "
                           f"h -> {'' if direction > 0 else '-'}oo as y -> {'+-oo' if degree % 2 == 0 else 'oo' if got == want else '-oo'}{scope}")
    return None


def _off(s: Setting, hz, at: dict, in_y: bool) -> bool:
    """``at`` is off every kink of hz with y (the loss's) or without (the activation's): each condition's two
    sides differ there, each argument of sign, Abs, Heaviside, DiracDelta is nonzero (y's: in the branch at z)."""
    e = expand_named(hz.subs(Z, at[Z]) if in_y else hz)
    found = [r.lhs - r.rhs for r in e.atoms(sp.core.relational.Relational)]
    found += [k.args[0] for k in e.atoms(sp.sign, sp.Abs, sp.Heaviside, sp.DiracDelta)]
    return all(any(signed(v, s.dom({})) in (POS, NEG) for v in (expand_named(k.subs(at)), sp.expand(expand_named(k.subs(at)))))
               for k in found if k.has(Y) == in_y)


def _far_target(s: Setting, h) -> Verdict | None:
    """h < 0 at a z0 off every kink and a target past every threshold of the loss, y = f(z0) -+ (1 + the loss's
    parameters), off its kinks too (huber: |a - y| > delta there, so h = delta sign(a - y) f''(z0); l1: h =
    sign(a - y) f''(z0)): negative curvature."""
    if s.targets != S.Reals or not h.has(Y):
        return None
    shift = 1 + sum(s._own(catalogue.loss(s.loss)).values())
    hz = s.in_z(h)
    for z0, c in product(filter(lambda p: _off(s, hz, {Z: p}, False), z_samples()), (1, -1)):
        at = {Y: s.f(z0) + c * shift, Z: z0}
        value = expand_named(hz.subs(Y, at[Y]).subs(Z, z0))
        if _off(s, hz, at, True) and not value.has(sp.Piecewise, sp.DiracDelta) and signed(value, s.dom({})) == NEG:
            scope = f" ({s.scope})" if s.free else ""
            return Verdict(f"{s.name}: h < 0 somewhere", "proved", f"at z = {z0}, y = f(z) {'+' if c > 0 else '-'} "
                           f"({sp.sstr(shift)}): h = {sp.sstr(value)} < 0{scope}")
    return None


@cache
def _convexity(s: Setting) -> CurvatureVerdict:
    name = s.name
    proof = _convex_proof(s)
    if proof.proved:
        return CurvatureVerdict(name, "convex", None, proof, s.scope)
    ref = _midpoint_counterexample(s)
    if ref is not None and ref.refuted:
        return CurvatureVerdict(name, "not convex", None, Verdict(f"{name} is not convex", "proved",
                                                                  f"the opposite is refuted: {ref.reason}", details=(ref,)), s.scope)
    for witness in (jump_witness(s, -1), _y_tail(s, s.h, -1), _far_target(s, s.h)):
        if witness is not None:
            return CurvatureVerdict(name, "not convex", None, Verdict(f"{name} is not convex", "proved", witness.reason,
                                                                      details=(witness,)), s.scope)
    return CurvatureVerdict(name, "undecided", None, Verdict(f"{name} convex?", "not proved",
                                                            f"no certificate ({proof.reason}) and no counterexample found"), s.scope)


def convexity(act: str, loss: str, **values) -> CurvatureVerdict:
    """Convex in z (a certificate that h >= 0 and no downward jump of delta), not convex (a 60-digit
    midpoint counterexample, a downward jump of delta or h -> -oo along y: negative curvature), or
    undecided (saying why); ``values``: exact parameter values (else: for every value, see the module)."""
    if not catalogue.activation(act).elementwise:
        Setting.of(act, loss, **values)  # the values are checked all the same
        return softmax_convexity(loss)
    return _scoped(_convexity, act, loss, values)


# ---------------------------------------------------------------- smoothness


def _dirac_witness(s: Setting) -> Verdict | None:
    """A point mass c DiracDelta(a - y) in h with c > 0 at a = y: infinite curvature."""
    h = s.h
    if not h.atoms(sp.DiracDelta):
        return None
    coeff = sp.diff(h.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: _D), _D).subs(A, Y)
    for t in _admissible_targets(s):  # the mass sits where a = y: y must be an output
        c = coeff.subs(Y, t)
        if c.has(Z) or c.has(A):
            return None
        if signed(c, s.dom({})) == POS:
            return Verdict(f"{s.name}: sup h = oo", "proved",
                           f"h holds the point mass {sp.sstr(c)} DiracDelta(a - y) > 0 at y = {t}: the gradient jumps")
    return None


def _bounded_by_branches(s: Setting, h) -> CurvatureVerdict | None:
    """h a Piecewise whose branches hold a alone (conditions in y and the parameters too: huber's |a - y| <=
    delta): L = the largest sup of a branch over the range, attained where its condition holds at y = a."""
    if not isinstance(h, sp.Piecewise) or any(e.has(Y) or e.has(Z) for e, _ in h.args) or not _continuous(s):
        return None
    sups = [_sup(e, s.range) for e, _ in h.args]
    if None in sups or any(isinstance(w, tuple) for _, _, w in sups):
        return None
    (_, L, where), k = max((got, k) for k, got in enumerate(sups))
    point = {A: where, Y: where}
    if s.targets.contains(where) is not sp.true or not (h.args[k].cond.subs(point) is sp.true
                                                        and all(c.subs(point) is sp.false for _, c in h.args[:k])):
        return None
    bound = check_le(h, L, sp.Piecewise(*[(L - e, c) for e, c in h.args]), s.dom({A: s.range, Y: s.targets}),
                     claim=f"{s.name}: h <= {L}")
    tight = check_eq(h.subs(point), L, claim=f"{s.name}: h = {L} at a = y = {where}")
    return CurvatureVerdict(s.name, "bounded", L, all_proved(f"{s.name}: L = {L}", [bound, tight]), s.scope)


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


def _bounded(s: Setting, h) -> CurvatureVerdict | None:
    """sup h over the range and the targets: h in a alone, or linear in y; delta shown continuous."""
    name, targets = s.name, s.targets
    if h.has(Z) or h.has(sp.DiracDelta) or s.free or not _continuous(s):
        return None
    ends = [targets.start, targets.end] if h.has(Y) and isinstance(targets, Interval) and targets.is_finite_set is not True else [None]
    if h.has(Y) and ends == [None]:
        return None
    if h.has(Y) and not (sp.expand(h).is_polynomial(Y) and sp.degree(sp.expand(h), Y) == 1):
        return None  # only linear in y is handled: its sup over an interval of y is at an end
    rng = s.range
    best = None
    for t in ends:
        got = _sup(h if t is None else h.subs(Y, t), rng)
        if got is None:
            return None
        if best is None or got[0] > best[0]:
            best = (*got, t)
    _, L, where, t = best
    if L is oo:  # where = ("limit", end): h -> oo there, by the stated fact 'limits'
        end = where[1]
        grows = limit_is(h if t is None else h.subs(Y, t), end, oo, var=A, side="+" if end == rng.start else "-",
                         claim=f"{name}: sup h = oo, h -> oo as a -> {end}" + (f", y = {t}" if t is not None else ""))
        return CurvatureVerdict(name, "unbounded", oo, grows, s.scope) if grows.proved else None
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
    if isinstance(where, tuple):  # approached at an end: its value there if defined, else the fact 'limits' at +-oo
        side = "+" if where[1] == rng.start else "-"
        tight = tight_1d(at, A, L, ("limit", where[1], side), f"{name}: sup h = {L}" + (f", y = {t}" if t is not None else ""))
    else:
        tight = check_eq(at.subs(A, where), L, claim=f"{name}: h = {L} at a = {where}" + (f", y = {t}" if t is not None else ""))
    return CurvatureVerdict(name, "bounded", L, all_proved(f"{name}: L = {L}", [bound, tight]), s.scope)


@cache
def _smoothness(s: Setting) -> CurvatureVerdict:
    name, h = s.name, s.h
    for witness in (jump_witness(s, +1), _dirac_witness(s), _y_tail(s, h, +1)):
        if witness is not None:
            return CurvatureVerdict(name, "unbounded", oo, witness, s.scope)
    got = _bounded(s, h) or _bounded_by_branches(s, h)
    if got is not None and got.verdict.proved:
        return got
    if not s.free and (read := decide_smoothness(s.act, s.loss, **dict(s.values))).status != "undecided":
        return replace(read, scope=s.scope)  # read off C's definition: jumps, growth along y, a line's sup
    why = (got.verdict.reason if got is not None else
           "a kink whose curvature is not resolved here" if h.has(sp.DiracDelta, sp.Piecewise) else
           "h depends on z beyond a = f(z), or its sup has no closed form here")
    return CurvatureVerdict(name, "undecided", None, Verdict(f"{name}: L?", "not proved", why), s.scope)


def smoothness(act: str, loss: str, **values) -> CurvatureVerdict:
    """L = sup over z, admissible y of the Hessian's largest eigenvalue: proved bound, attained or
    approached; unbounded (oo) with a witness; or undecided. The stable step is 2/L. ``values``: as convexity's."""
    if not catalogue.activation(act).elementwise:
        Setting.of(act, loss, **values)
        got = softmax_smoothness(loss)
        return got if got.status != "undecided" else decide_smoothness(act, loss, **values)
    return _scoped(_smoothness, act, loss, values)
