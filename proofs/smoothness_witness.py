"""Witnesses of L = oo along a line of z, each exact and inside every assumption (z0 real, targets in their set).

    jump:     delta = dC/dz jumps up at z0 for a target t (one-sided values, proofs.smoothness_line):
              a positive point mass in h. The kink points come from each kink argument g made zero:
              solved for a target at sample z0 (l1: y = f(z0)) or for z0 at sample targets (relu's z = 0,
              hinge's f(z) = 1: solveset, then solve, which knows LambertW: silu(1 + W(1/e)) = 1)
    targets:  h polynomial in a target whose set is unbounded above (or all reals, odd degree), leading
              coefficient certified > 0 (nonzero) at a z0 where C is smooth: h -> oo along that target

>>> from proofs.smoothness_line import elementwise_line
>>> jump_witness(elementwise_line("softplus", "l1")).details[1:]
(0, {y: log(2)})
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy import Interval, S, oo

from proofs.certificate import Verdict
from proofs.refutation import certified_value, refute
from proofs.smoothness_line import W, Z_SAMPLES, Line, Undecided, at, beside, kink_args, one_sided, show, sign_of
from proofs.curvature_setting import targets_samples

__all__ = ["jump_witness", "unbounded_witness"]


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
    rest = {s: targets_samples(st)[0] for s, st in others}
    for g in kink_args(line.slope):
        g = g.subs(rest)
        if g.has(first) and not isinstance(first_set, sp.FiniteSet):
            for z0 in Z_SAMPLES:
                for t in _solutions(g.subs(W, z0), first, first_set):
                    yield z0, {first: t, **rest}
            continue
        for t in targets_samples(first_set):
            for z0 in _solutions(g.subs(first, t), W, S.Reals):
                yield z0, {first: t, **rest}


def _no_visible_jump(delta, z0) -> bool:
    """A float screen (30 digits, 10^-12 either side of z0): True when delta plainly does not jump up there, so
    the exact one-sided values are not worked out. It can only skip a witness, never make one."""
    try:
        fn = sp.lambdify(W, delta, modules="mpmath")
        with mpmath.workdps(30):
            at0, step = mpmath.mpf(str(sp.N(z0, 40))), mpmath.mpf(10) ** -12
            return not fn(at0 + step) - fn(at0 - step) > mpmath.mpf(10) ** -6
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, AttributeError):
        return False


def jump_witness(line: Line) -> Verdict | None:
    """delta jumps up at an exact z0 for an exact target: a positive point mass in h, sup h = oo."""
    for z0, point in _points(line):
        if sp.sympify(z0).is_real is not True or any(st.contains(point[s]) is not sp.true for s, st in line.targets):
            continue
        delta = line.slope.subs(point)
        if _no_visible_jump(delta, z0):
            continue
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
