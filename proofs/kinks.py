"""Jumps of a pairing's error delta at the boundaries of its Piecewise branches, read in z order.

    jump at a0 = delta(a0+) - delta(a0-)    (z increasing: the activation is shown nondecreasing first)
    down (< 0): C is not convex there;  up (> 0): its curvature is a positive point mass, L = oo;
    0: delta is continuous there (a boundary in a and y, huber's |a - y| = delta: its branches agree on it)

A jump's sign is certified at a target y = t (60 digits), or with the parameters as symbols by the
checker's structural sign over their domains: the verdict then holds for every value (``Setting.scope``).
A sign function inside a branch jumps too; that jump is the point mass DiracDelta in h, counted there.

>>> from proofs.curvature_setting import Setting
>>> jumps(Setting.of("leaky_relu", "quadratic"))
[(0, slope*y[j] - y[j], None)]
"""

from __future__ import annotations

import sympy as sp
from sympy import Rational, S

from proofs.certificate import Verdict
from proofs.checker import check_eq
from proofs.curvature_setting import Setting, signed, targets_samples
from proofs.sign import NEG, POS, sign
from proofs.values import InexactValue

__all__ = ["jumps", "jump_witness"]

_UNKNOWN = [(None, None, None)]  # jumps not computed here: no proof may rest on their absence


def _in_a_alone(s: Setting, pw, A) -> bool:
    rels = [rel for _, c in pw.args for rel in c.atoms(sp.core.relational.Relational)]
    return all(rel.atoms(sp.Indexed) == {A} and not (rel.free_symbols - A.free_symbols) for rel in rels)


def _boundary_continuous(pw, A):
    """[(a0, 0, None)] for each point a0 of the boundary of Piecewise((e1, lhs ~ rhs), (e2, True)) where e1 = e2 is
    proved (in the other symbols: huber's a = y +- delta); _UNKNOWN otherwise."""
    if len(pw.args) != 2 or pw.args[1].cond != S.true or not isinstance(pw.args[0].cond, sp.core.relational.Relational):
        return _UNKNOWN
    (e1, c), (e2, _) = pw.args
    roots = sp.solveset(sp.Eq(c.lhs, c.rhs), A, S.Reals)
    if not isinstance(roots, sp.FiniteSet):
        return _UNKNOWN
    out = []
    for r in roots:
        if not check_eq(e1.subs(A, r), e2.subs(A, r), claim=f"the branches agree at a = {r}").proved:
            return _UNKNOWN
        out.append((r, S.Zero, None))
    return out


def _side(reach, a0, eps, direction):
    """A point of the range on one side of a0, near it; a0 itself at an end of the range (relu stays at 0
    for z <= 0: that side is a0); None when neither is shown."""
    end = reach.end if direction > 0 else reach.start
    for at in (a0 + direction * eps, (a0 + end) / 2 if end.is_finite else None):
        if at is not None and reach.contains(at) is sp.true:
            return at
    return a0 if a0 == end else None


def _rises(s: Setting, A) -> bool:
    """f' >= 0 over the range, read through the output. A range starting at a parameter (elu's -alpha) is
    shifted, a = start + u with u >= 0: the sign rules see a + alpha as u, not as (-alpha, oo) + alpha."""
    rng, prime = s.range, s.prime()
    try:
        if rng.start.is_finite and not rng.start.is_number:
            u = sp.Dummy("u", real=True)
            part = {u: sp.Interval(0, rng.end - rng.start, rng.left_open, rng.right_open)}
            prime = prime.xreplace({A: rng.start + u})
        else:
            part = {A: rng}
        return sign(prime, s.dom(part)) in ("positive", "nonnegative", "zero")
    except InexactValue:  # a range with a float end (gelu's enclosed minimum): nothing is read from it
        return False


def jumps(s: Setting, delta=None) -> list:
    """[(a0, jump of delta from left to right in z at a0, the target it is for or None: any)] at each boundary
    the activation reaches; [(None, None, None)] when that is not computed here (a cut that is not a number, a condition not decided
    at a side, an activation not shown nondecreasing: then a in order is not z in order)."""
    from derive.symbolic.symbols import a, j, y

    A = a[j]
    delta = s.delta if delta is None else delta
    pieces = list(delta.atoms(sp.Piecewise))
    if isinstance(s.targets, sp.FiniteSet) and any(pw.has(y[j]) for pw in pieces):  # hinge's y in {-1, 1}: each
        return [(a0, jump, t) for t in sorted(s.targets) for a0, jump, _ in jumps(s, delta.subs(y[j], t))]
    alone = [pw for pw in pieces if _in_a_alone(s, pw, A)]
    out = []
    for pw in pieces:
        if pw not in alone:
            got = _boundary_continuous(pw, A)
            if got == _UNKNOWN:
                return _UNKNOWN
            out += got
    if not alone:
        return out
    if not _rises(s, A):
        return _UNKNOWN
    reach = s.range.closure
    conds = [rel for pw in alone for _, c in pw.args for rel in c.atoms(sp.core.relational.Relational)]
    cuts = {p for rel in conds for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), A, S.Reals)}
    if any(not p.is_number for p in cuts):
        return _UNKNOWN
    cuts = sorted((p for p in cuts if reach.contains(p) is sp.true), key=float)
    eps = min([Rational(1)] + [(q - p) / 2 for p, q in zip(cuts, cuts[1:])])
    for a0 in cuts:
        sides = [_side(reach, a0, eps, +1), _side(reach, a0, eps, -1)]
        if None in sides:
            return _UNKNOWN
        try:
            right, left = [delta.replace(lambda e: e in alone, lambda e, at=at: next(
                x for x, c in e.args if bool(c.subs(A, at)))) for at in sides]
        except TypeError:  # a condition not decided at a side
            return _UNKNOWN
        out.append((a0, sp.expand(right.subs(A, a0) - left.subs(A, a0)), None))
    return out


def jump_witness(s: Setting, direction: int) -> Verdict | None:
    """delta jumps up (direction +1: sup h = oo) or down (-1: not convex) at a kink, for a sample target y."""
    from derive.symbolic.symbols import y, j

    wanted, word = (POS, "up") if direction > 0 else (NEG, "down")
    for a0, jump, target in jumps(s):
        if jump is None:
            continue
        for t in targets_samples(s.targets) if target is None else [target]:
            at = jump.subs(y[j], t)
            if any(signed(form, s.dom({})) == wanted for form in (at, sp.factor(at))):
                scope = f" ({s.scope})" if s.free else ""
                return Verdict(f"{s.name}: delta jumps {word} at a = {a0}", "proved",
                               f"delta jumps {word} at a = {a0}: by {sp.sstr(at)} at y = {t}{scope}")
    return None
