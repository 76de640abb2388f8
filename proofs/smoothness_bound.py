"""L bounded along a line at fixed targets: no upward jump of delta, and on each gap between kinks a smooth
branch of h bounded by L (check_le), L attained (check_eq) or approached (a one-sided limit).

    sup_1d:   critical points (solveset: all of them, or nothing is claimed) and the ends of an interval
    bound_1d: L - h factored, over the field of L's radicals if it has any (the double root at the
              maximum then shows, and the checker reads the sign)
    bounded:  every target of a finite set (hinge's {-1, 1}), or y = 0 for a loss of a - y with a = z
              (C(z + c, y + c) = C(z, y), checked: y = 0 sees every value of h)

>>> from proofs.smoothness_line import elementwise_line
>>> bounded(elementwise_line("sigmoid", "hinge"))[0]
sqrt(3)/18
"""

from __future__ import annotations

import sympy as sp
from sympy import Interval, S, oo

from derive.symbolic.symbols import n
from proofs.certificate import Verdict
from proofs.checker import check_eq, check_le
from proofs.limits import limit_is
from proofs.refutation import certified_value
from proofs.smoothness_line import W, Line, Undecided, beside, kink_args, one_sided, show, sign_of

__all__ = ["sup_1d", "bound_1d", "tight_1d", "line_sup", "bounded"]


def _radicals(value) -> list:
    return sorted({p for p in value.atoms(sp.Pow) if p.exp.is_Rational and not p.exp.is_integer and p.base.is_Rational},
                  key=sp.default_sort_key)


def sup_1d(expr, var, iv: Interval, inside):
    """(sup, where) of a smooth expr over an interval from its critical points (solveset: all of them) and
    its ends; where is a point, or ("limit", end, "+"/"-") at an open or infinite end. None if not found.
    A constant is attained at ``inside``, a point of the interval."""
    if not expr.has(var):
        return expr, inside
    crit = sp.solveset(sp.diff(expr, var), var, Interval.open(iv.start, iv.end))
    if not isinstance(crit, (sp.FiniteSet, sp.sets.sets.EmptySet)):
        return None
    cands = [(sp.simplify(expr.subs(var, p)), p) for p in crit]
    for end, is_open, side in ((iv.start, iv.left_open, "+"), (iv.end, iv.right_open, "-")):
        value = sp.limit(expr, var, end, side) if end.is_infinite else _continuous_at(expr, var, end)
        if value is None:
            return None
        cands.append((value, ("limit", end, side) if end.is_infinite or is_open else end))
    best = None
    for value, where in cands:
        v = oo if value is oo else certified_value(value.subs(n, 1))
        if v is None:
            return None
        if best is None or v > best[0]:
            best = (v, value, where)
    return best[1:]


def _continuous_at(expr, var, end):
    """expr at a finite end when it is defined there (an elementary expression: continuous there, so this is
    also the one-sided limit from inside); None when it is not (0/0, a pole)."""
    value = sp.simplify(expr.subs(var, end))
    return None if value.has(sp.nan, sp.zoo, oo, -oo) else value


def bound_1d(expr, var, iv: Interval, L, claim: str) -> Verdict:
    """expr <= L on the interval by check_le, with L - expr factored (over the field of L's radicals if
    it has any: the double root at the maximum then shows) so that the checker reads its sign."""
    gap, ext = L - expr, _radicals(L)
    forms = [sp.factor(gap)] + ([sp.factor(gap, extension=ext)] if ext else []) + [gap]
    got = None
    for cert in forms:
        got = check_le(expr, L, cert, {var: iv}, claim=claim)
        if got.proved:
            break
    return got


def tight_1d(expr, var, L, where, claim: str) -> Verdict:
    """L attained at the point (check_eq), or approached: the one-sided limit at the end equals L."""
    if isinstance(where, tuple):  # a value at an end is not its limit unless continuity is shown: the fact 'limits'
        _, end, side = where
        return limit_is(expr, end, L, var=var, side=side, claim=f"{claim}: approached as {var} -> {end}{side}")
    return check_eq(expr.subs(var, where), L, claim=f"{claim}: attained at {var} = {sp.sstr(where)}")


def _kinks(expr) -> list | str:
    """Every real z where a kink argument of expr vanishes (sorted), or why not (a zero set solveset leaves open)."""
    args = kink_args(expr) + [e.args[0] for e in expr.atoms(sp.Abs, sp.DiracDelta) if e.args[0].has(W)]
    out = set()
    for g in args:
        got = sp.solveset(sp.Eq(g, 0), W, S.Reals)
        if not isinstance(got, (sp.FiniteSet, sp.sets.sets.EmptySet)):
            return f"the zeros of the kink argument {show(g)} have no closed form (solveset)"
        out |= set(got)
    return sorted(out, key=lambda p: float(p))


def _gaps(cuts) -> list:
    """[(open interval, a point of it)] between consecutive cuts, the outer two reaching -oo and oo."""
    ends = [-oo, *cuts, oo]
    inner = [(lo + hi) / 2 for lo, hi in zip(cuts, cuts[1:])]
    points = [S.Zero] if not cuts else [cuts[0] - 1, *inner, cuts[-1] + 1]
    return [(Interval.open(lo, hi), p) for lo, hi, p in zip(ends, ends[1:], points)]


def line_sup(line: Line, point: dict):
    """(L, steps) for the line at fixed targets: delta has no upward jump (each kink's one-sided values), and on
    each gap between kinks h is one smooth branch bounded by L (check_le), L attained or approached; why not if
    a step is out of reach here (why, in words), (oo, [witness]) if delta jumps up."""
    delta = line.slope.subs(point)
    h = sp.diff(delta, W)
    cuts = _kinks(h)
    if isinstance(cuts, str):
        return cuts
    steps = []
    try:
        for z0 in cuts:
            jump = one_sided(delta, z0, 1) - one_sided(delta, z0, -1)
            s = sign_of(jump)
            if s > 0:
                return oo, [Verdict(f"{line.name}: delta jumps up at z = {z0}", "proved", f"by {show(jump)}")]
            if s < 0:  # as proofs.curvature: a bounded L needs delta continuous (else 2/L is no stable step)
                return f"delta jumps down at z = {show(z0)} ({line.shown(point)}): the gradient is not Lipschitz there"
            steps.append(Verdict(f"{line.name}: delta is continuous at z = {show(z0)}, {line.shown(point)}",
                                 "proved", f"its one-sided values differ by {show(jump)} (0, certified)"))
        branches = [(beside(h, inside, 1).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: S.Zero), iv, inside)
                    for iv, inside in _gaps(cuts)]
    except Undecided as exc:
        return str(exc)
    best = None
    for expr, iv, inside in branches:
        got = sup_1d(expr, W, iv, inside)
        if got is None:
            return f"the critical points of h = {show(expr)} on {iv} have no closed form (solveset)"
        if got[0] is oo:
            return oo, [Verdict(f"{line.name}: h -> oo", "proved", f"as z -> {got[1][1]} ({line.shown(point)})")]
        try:
            if best is None or sign_of(got[0] - best[0]) > 0:
                best = (*got, expr)
        except Undecided as exc:
            return str(exc)
    L = sp.simplify(best[0])
    at = f"{line.where}, {line.shown(point)}"
    steps += [bound_1d(expr, W, iv, L, f"{line.name}: h <= {L} on z in {iv} ({at})") for expr, iv, _ in branches]
    steps.append(tight_1d(best[2], W, L, best[1], f"{line.name}: h = {L} ({at})"))
    return L, steps


def _shift_invariant(line: Line) -> Verdict:
    """C(z + c, y + c) = C(z, y) for every real c: h depends on z - y alone, so y = 0 sees every value of h."""
    (T, _), = line.targets
    c = sp.Symbol("c", real=True)
    return check_eq(line.cost.subs({W: W + c, T: T + c}, simultaneous=True), line.cost,
                    claim=f"{line.name}: C(z + c, y + c) = C(z, y) (a loss of a - y, a = z)")


def bounded(line: Line) -> tuple | str:
    """(L, steps) over every admissible target: each point of a finite target set, or y = 0 for a
    shift-invariant C over all reals; otherwise why not, in words."""
    (T, targets), = line.targets
    if isinstance(targets, sp.FiniteSet):
        got = [line_sup(line, {T: t}) for t in sorted(targets)]
        why = next((f"at y = {t}: {g}" for t, g in zip(sorted(targets), got) if isinstance(g, str)), None)
        if why is not None:
            return why
        if any(g[0] is oo for g in got):
            return oo, next(g[1] for g in got if g[0] is oo)
        top = max(got, key=lambda g: certified_value(g[0]))
        return top[0], [step for g in got for step in g[1]]
    if targets != S.Reals or not line.identity:
        return ("h varies with z through f and with y over an interval: its sup over (z, y) is two-dimensional; "
                "only a finite target set, or a = z (a loss of a - y), is reduced to one variable here")
    shift = _shift_invariant(line)
    if not shift.proved:
        return f"C(z + c, y + c) = C(z, y) not proved ({shift.reason})"
    got = line_sup(line, {T: S.Zero})
    return f"at y = 0: {got}" if isinstance(got, str) else (got[0], [shift, *got[1]])
