"""Continuity of an activation on R, the step every range proof takes before the intermediate value theorem."""

from __future__ import annotations

import sympy as sp
from sympy import Piecewise, S

from derive.symbolic.functions import expand_named
from proofs.certificate import Verdict, all_proved
from proofs.checker import check_eq
from proofs.limits import z

__all__ = ["continuity"]


def continuity(f) -> Verdict:
    """A Piecewise activation is continuous: at each boundary p, the branches in force just left and just right
    of p (found at p -+ eps, eps below half the gap to the next boundary) both take the value f(p) there."""
    g = sp.piecewise_fold(expand_named(f))
    if not g.has(Piecewise):
        return Verdict("continuous", "proved", "an elementary function with no singular point on R")
    checks = []
    for pw in g.atoms(Piecewise):
        points = sorted({p for _, cond in pw.args for rel in cond.atoms(sp.core.relational.Relational)
                         for p in sp.solveset(sp.Eq(rel.lhs, rel.rhs), z, S.Reals)}, key=float)
        gaps = [b - a for a, b in zip(points, points[1:])]
        eps = min([*gaps, S.One]) / 4
        for p in points:
            at = pw.subs(z, p)
            for side in (p - eps, p + eps):
                branch = next((e for e, cond in pw.args if cond.subs(z, side) == sp.true), None)
                if branch is None:
                    checks.append(Verdict(f"branch at z = {side}", "not proved", "no condition decides there"))
                else:
                    checks.append(check_eq(branch.subs(z, p), at, claim=f"the branch in force at {side} equals f({p})"))
    return all_proved("continuous", checks, "the branches on either side of each boundary agree there")
