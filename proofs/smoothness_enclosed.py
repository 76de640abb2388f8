"""A jump of delta at a kink whose z has no closed form (gelu(z) = 1 for hinge): the root enclosed, the jump's
sign by interval arithmetic.

    g(lo), g(hi) of opposite certified signs and g' != 0 on [lo, hi] (interval arithmetic): exactly one z0 in
    [lo, hi] with g(z0) = 0 (existence: the fact 'continuity'; uniqueness: g strictly monotone there)
    every other kink argument != 0 on [lo, hi]: the branch of delta on each side of z0 is the one beside the
    midpoint with sign(g) = sign(g') * side, and the jump R(z0) - L(z0) lies in R - L enclosed over [lo, hi]

A lower end > 0 is a positive point mass in h: L = oo. The bracket is dyadic, so the enclosure reads it exactly.

>>> from proofs.smoothness_line import elementwise_line
>>> enclosed_jump_witness(elementwise_line("gelu", "hinge")).status
'proved'
"""

from __future__ import annotations

import mpmath
import sympy as sp
from mpmath import iv
from sympy import Rational

from proofs.certificate import Verdict
from proofs.enclosure import DIGITS, Enclosure, interval_function
from proofs.given import by_fact
from proofs.smoothness_line import W, Line, Undecided, beside, kink_args, sign_of

__all__ = ["enclosed_jump_witness"]

_GRID = [Rational(k, 4) for k in range(-32, 33)]
_HALVINGS = 40


def _brackets(g):
    """Dyadic [lo, hi] of width 2^-42 around each sign change of g on the grid (signs certified at each end)."""
    try:
        screen = sp.lambdify(W, g, modules="mpmath")
        signs = [mpmath.sign(screen(mpmath.mpf(p))) for p in _GRID]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
        return
    for p, q, sp_, sq in zip(_GRID, _GRID[1:], signs, signs[1:]):
        if sp_ * sq >= 0:
            continue
        try:
            lo, hi, s_lo = p, q, sign_of(g.subs(W, p))
            if s_lo * sign_of(g.subs(W, q)) >= 0:
                continue
            for _ in range(_HALVINGS):
                mid = (lo + hi) / 2
                s_mid = sign_of(g.subs(W, mid))
                if s_mid == 0:
                    break
                lo, hi, s_lo = (mid, hi, s_mid) if s_mid == s_lo else (lo, mid, s_lo)
            else:
                yield lo, hi, s_lo
        except Undecided:
            continue


def _enclose(expr, box):
    try:
        got = interval_function(expr, W)(box)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError, NameError):
        return None
    return got if isinstance(got, iv.mpf) else iv.mpf(got)


def _nonzero(box) -> bool:
    return box is not None and (box.a > 0 or box.b < 0)


def _jump_at_root(line: Line, t, delta, g, lo, hi, s_lo) -> Verdict | None:
    iv.dps = DIGITS  # as proofs.enclosure sets it: dyadic ends of 46 bits are exact at this precision
    with mpmath.workdps(DIGITS):
        box = iv.mpf([mpmath.mpf(lo.p) / lo.q, mpmath.mpf(hi.p) / hi.q])
        slope = _enclose(sp.diff(g, W), box)
        if not _nonzero(slope) or not all(_nonzero(_enclose(k, box)) for k in kink_args(delta) if k != g):
            return None
        rising = 1 if slope.a > 0 else -1
        mid = (lo + hi) / 2
        try:
            right, left = (beside(delta, mid, s, fixed={g: rising * s}) for s in (1, -1))
        except Undecided:
            return None
        jump = _enclose(right - left, box)
        if jump is None or not jump.a > 0:
            return None
        shown = Enclosure(jump.a.a, jump.b.b).show(20)
        root = Verdict(f"exactly one z0 in [{lo}, {hi}] with {g} = 0 (y = {t})", "proved",
                       f"g(lo), g(hi) have the certified signs {s_lo}, {-s_lo}; g' lies in "
                       f"{Enclosure(slope.a.a, slope.b.b).show(10)} there: strictly monotone")
        up = Verdict(f"delta jumps up at that z0 (y = {t})", "proved",
                     f"every other kink argument is nonzero on the bracket; R - L = {sp.sstr(sp.simplify(right - left))} "
                     f"lies in {shown} over it (interval arithmetic, outward rounding)")
    return by_fact("continuity", f"{line.name}: sup h = oo (delta jumps up by {shown} at the kink near "
                                 f"z = {sp.N((lo + hi) / 2, 15)}, y = {t}: a positive point mass in h)",
                   [root, by_fact("interval arithmetic", up.claim, [up])])


def enclosed_jump_witness(line: Line) -> Verdict | None:
    """An upward jump of delta at a root of a kink argument enclosed in a dyadic bracket (see the module). Only for
    a finite target set: over an interval of targets the witnesses solve for y instead (a closed-form z0)."""
    (T, targets), = line.targets
    if not isinstance(targets, sp.FiniteSet):
        return None
    for t in sorted(targets):
        delta = line.slope.subs(T, t)
        for g in kink_args(delta):
            for lo, hi, s_lo in _brackets(g):
                got = _jump_at_root(line, t, delta, g, lo, hi, s_lo)
                if got is not None:
                    return got
    return None
