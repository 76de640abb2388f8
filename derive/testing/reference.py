"""The mpmath oracle: the symbolic derivation evaluated at 50+ correct digits.

    truth(Q)(z, y) = lambdify(derive_pair(A, L).Q with n = len(row), a = f(z), modules="mpmath")

For one row of logits ``z`` (and targets ``y``) the SymPy expressions of
``derive_pair`` are instantiated for that row length (sums over units expanded,
every output ``a[i]`` replaced by ``f(z[i])`` through ``Derivation.in_z``) and
evaluated in mpmath. Nothing here is numerically clever: the definitions are
evaluated as written (``1 - sigma(z)``, ``log(1 + e^z)``), and the working
precision is raised by the number of digits those forms can cancel:

    digits = 60 + 0.87 max|z| + max(0, -log10 min_{z != 0} |z|)

(``e^{-2|z|}`` is the smallest term any catalogue formula subtracts from 1,
for example ``1 - tanh(z)^2``; ``e^z - 1`` near 0 loses ``-log10|z|`` digits).
A named function's class may give another form (its ``oracle``): Phi is evaluated
by ``mpmath.ncdf`` (accurate in both tails), since ``(1 + erf(x/sqrt 2))/2`` would
need ``x^2/4.6`` extra digits. Every value is computed twice, the second
time with 30 more digits; where they disagree more digits are tried, and an
``OracleError`` is raised if that does not settle it (see ``_certified``).

The tolerance rule (the one used by ``derive.testing`` and the property suite):

    |got - want| <= rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

where v runs over every logit and every target separately, ``rtol`` is
``1e-12`` in float64 and ``1e-5`` in float32, and ``tiny`` is the dtype's
smallest normal number. In words: the kernel must be as accurate as the exact
answer for inputs perturbed by rtol (a backward-stable kernel passes; this is
where a - y cancels when y is close to a, and where a step such as sign(a - y)
jumps), and a value below the smallest normal number has no relative precision
to demand. A kernel that loses the tiny 1 - sigma(z) at z = 40 fails: the
perturbations there change the value by as little as the value itself.

>>> t = truth("sigmoid", "bce")
>>> loss, delta = t.row([0.0], [1.0])
>>> mpmath.nstr(loss, 15), mpmath.nstr(delta[0], 15)
('0.693147180559945', '-0.5')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import mpmath
import numpy as np
import sympy as sp

from derive.symbolic.catalogue import activation as catalogue_activation
from derive.symbolic.catalogue import on_change
from derive.symbolic.functions import NamedFunction, expand_named
from derive.symbolic.pairing import derive_pair, outputs_as_logits
from derive.symbolic.softmax import jacobian_entry, softmax_entry
from derive.symbolic.symbols import i as i_sym
from derive.symbolic.symbols import j as j_sym
from derive.symbolic.symbols import n as n_sym
from derive.symbolic.symbols import y as y_base
from derive.symbolic.symbols import z as z_base

__all__ = [
    "DIGITS",
    "RTOL",
    "OracleError",
    "truth",
    "activation_truth",
    "working_digits",
    "rtol_for",
    "tolerance",
]

DIGITS = 50  # correct digits asked of every oracle value
_BASE_DPS = DIGITS + 10
_CHECK_EXTRA = 30

# rtol per dtype: float64 as the issue states; float32 ~84 ulps (eps32 = 1.19e-7): room for the
# float32 rounding of a ~20-operation kernel (gelu's erf, a softmax sum), 5 orders below a wrong
# constant factor.
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


class OracleError(RuntimeError):
    """The oracle could not certify its own value (two precisions disagree)."""


def rtol_for(dtype) -> float:
    dt = np.dtype(dtype)
    try:
        return RTOL[dt]
    except KeyError:
        raise ValueError(f"no tolerance for dtype {dt}; supported: float32, float64") from None


def working_digits(values: Sequence[float]) -> int:
    """Decimal digits that make the as-written formulas exact to DIGITS at these inputs."""
    mags = [abs(float(v)) for v in values]
    big = max(mags, default=0.0)
    small = min((m for m in mags if m > 0), default=1.0)
    return _BASE_DPS + math.ceil(0.87 * big) + max(0, math.ceil(-math.log10(small)))


def _oracle_form(expr):
    """Each named function by its class's ``oracle`` form (Phi -> ncdf, gelu -> x ncdf(x), the rest by definition)."""
    return expr.replace(lambda e: isinstance(e, NamedFunction), lambda e: _oracle_form(e.oracle(e.args[0])))


def _concrete(expr, units: int, zs, ys):
    """Instantiate an indexed expression for a row of ``units``: sums expanded, z[c], y[c] -> symbols."""
    expr = expr.subs(n_sym, units).doit()
    expr = expr.subs(n_sym, units).doit()  # sums inside the softmax entries
    expr = expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base in (z_base, y_base),
        lambda e: (zs if e.base == z_base else ys)[int(e.indices[0]) - 1],
    )
    return _oracle_form(expr)


def _lambdify(args, exprs):
    return sp.lambdify(args, exprs, modules=[{"ncdf": mpmath.ncdf}, "mpmath"], cse=True)


_NEGLIGIBLE = mpmath.mpf(10) ** -340  # below half the smallest float64 subnormal (4.9e-324)


def _certified(fn: Callable, args: list, dps: int):
    """fn(*args) at dps digits, checked against dps + 30 digits.

    Where the two disagree (an exact cancellation to 0, e.g. softmax of equal logits),
    300 more digits are tried, up to twice; a value is accepted once both evaluations
    agree to DIGITS digits or both are below 1e-340, which no float can tell from 0.
    """
    for extra in (0, 300, 600):
        with mpmath.workdps(dps + extra):
            first = fn(*[[mpmath.mpf(v) for v in arg] for arg in args])
        with mpmath.workdps(dps + extra + _CHECK_EXTRA):
            second = fn(*[[mpmath.mpf(v) for v in arg] for arg in args])
        if all(
            abs(u - v) <= mpmath.mpf(10) ** (-DIGITS) * max(abs(u), abs(v)) or max(abs(u), abs(v)) < _NEGLIGIBLE
            for u, v in zip(first, second)
        ):
            return list(second)
    raise OracleError(f"oracle lost precision at {args}: {first} vs {second}")


@dataclass(frozen=True)
class PairTruth:
    """loss and delta of one pairing for rows of ``units`` logits, in mpmath."""

    activation: str
    loss: str
    units: int
    _fn: Callable

    def row(self, z_row: Sequence[float], y_row: Sequence[float]):
        """(loss, [delta_1..delta_n]) at one row, each to DIGITS digits."""
        values = _pair_row(self.activation, self.loss, self.units, tuple(map(float, z_row)), tuple(map(float, y_row)))
        return values[0], list(values[1:])

    def raw(self, z_row, y_row):
        """[loss, delta_1..delta_n] at the current mpmath precision (no check)."""
        return self._fn([mpmath.mpf(v) for v in z_row], [mpmath.mpf(v) for v in y_row])


@cache
def _pair_truth(activation: str, loss: str, units: int) -> PairTruth:
    d = derive_pair(activation, loss)
    zs = sp.symbols(f"z1:{units + 1}", real=True)
    ys = sp.symbols(f"y1:{units + 1}", real=True)
    cost = _concrete(d.in_z(d.cost), units, zs, ys)
    deltas = [_concrete(d.in_z(d.delta.subs(j_sym, c)), units, zs, ys) for c in range(1, units + 1)]
    return PairTruth(activation, loss, units, _lambdify([list(zs), list(ys)], [cost, *deltas]))


@lru_cache(maxsize=4096)  # loss, delta, grad_b, grad_w of one example share the rows
def _pair_row(activation: str, loss: str, units: int, z_row: tuple, y_row: tuple) -> tuple:
    oracle = _pair_truth(activation, loss, units)
    return tuple(_certified(oracle._fn, [list(z_row), list(y_row)], working_digits(z_row)))


def truth(activation: str, loss: str, units: int = 1) -> PairTruth:
    """The oracle of ``derive_pair(activation, loss)`` for rows of ``units`` (raises PairingError)."""
    return _pair_truth(activation, loss, int(units))


@dataclass(frozen=True)
class ActivationTruth:
    """f(z) and f'(z) of an elementwise activation; softmax(z) and its Jacobian for a row."""

    name: str
    units: int
    _fn: Callable  # row -> [values..., derivative or Jacobian entries...]

    def row(self, z_row: Sequence[float]):
        """(values, derivatives) for elementwise; (softmax row, Jacobian rows) for softmax."""
        values = _activation_row(self.name, self.units, tuple(map(float, z_row)))
        u = self.units
        if catalogue_activation(self.name).elementwise:
            return values[:u], values[u:]
        return values[:u], [values[u + r * u : u + (r + 1) * u] for r in range(u)]

    def raw(self, z_row):
        return self._fn([mpmath.mpf(v) for v in z_row])


@cache
def _activation_truth(name: str, units: int) -> ActivationTruth:
    act = catalogue_activation(name)
    zs = sp.symbols(f"z1:{units + 1}", real=True)
    if act.elementwise:
        t = sp.Dummy("t", real=True)
        f = act.f(t)
        df = sp.diff(f, t)  # the derivative of the definition, not the catalogue's written form
        values = [f.subs(t, zc) for zc in zs]
        derivs = [df.subs(t, zc) for zc in zs]
        exprs = [_oracle_form(e) for e in values + derivs]
    else:
        values = [softmax_entry(r) for r in range(1, units + 1)]
        jac = [
            outputs_as_logits(jacobian_entry().subs({i_sym: r, j_sym: c}), name)
            for r in range(1, units + 1)
            for c in range(1, units + 1)
        ]
        exprs = [_concrete(e, units, zs, ()) for e in values + jac]
    return ActivationTruth(name, units, _lambdify([list(zs)], exprs))


@lru_cache(maxsize=4096)
def _activation_row(name: str, units: int, z_row: tuple) -> tuple:
    return tuple(_certified(_activation_truth(name, units)._fn, [list(z_row)], working_digits(z_row)))


def activation_truth(name: str, units: int = 1) -> ActivationTruth:
    """The oracle of activation ``name`` (and its derivative / Jacobian) for rows of ``units``."""
    return _activation_truth(name, int(units))


def tolerance(evaluate: Callable[[list, list], list], z_row, y_row, want: list, rtol: float, tiny: float) -> list:
    """Per entry: rtol |want| + sum over inputs of max_(+-) |want(v(1 +- rtol)) - want| + tiny.

    ``evaluate(z_row, y_row)`` returns the same list as ``want`` at the current precision.
    """
    spread = [mpmath.mpf(0)] * len(want)
    rows = [list(z_row), list(y_row)]
    with mpmath.workdps(working_digits(list(z_row))):
        for which, row in enumerate(rows):
            for c, v in enumerate(row):
                if v == 0:
                    continue
                worst = [mpmath.mpf(0)] * len(want)
                for sign in (1, -1):
                    moved = [list(r) for r in rows]
                    moved[which][c] = mpmath.mpf(v) * (1 + sign * mpmath.mpf(rtol))
                    got = evaluate(*moved)
                    worst = [max(w, abs(g - t)) for w, g, t in zip(worst, got, want)]
                spread = [s + w for s, w in zip(spread, worst)]
    return [rtol * abs(t) + s + tiny for t, s in zip(want, spread)]


@cache
def _loss_part(activation: str, loss: str, units: int, c: int) -> Callable:
    """The terms of the cost C(z, y) that depend on z_c (all of them for softmax), lambdified."""
    d = derive_pair(activation, loss)
    zs = sp.symbols(f"z1:{units + 1}", real=True)
    ys = sp.symbols(f"y1:{units + 1}", real=True)
    cost = _concrete(d.in_z(d.cost), units, zs, ys)
    part = sp.Add(*[t for t in sp.Add.make_args(sp.expand_mul(cost)) if zs[c] in t.free_symbols])
    return _lambdify([list(zs), list(ys)], part)


def _diff_along(fn, zs, ys, c, direction):
    return mpmath.diff(lambda t: fn([*zs[:c], t, *zs[c + 1 :]], ys), zs[c], direction=direction)


def loss_gradient_raw(activation: str, loss: str, z_row, y_row, direction: int = 0) -> list:
    """[dC/dz_j] by ``mpmath.diff`` of the symbolic loss C(z, y), from the current precision up.

    ``direction`` +1 / -1 takes one-sided derivatives (to find kinks), 0 central ones.
    mpmath.diff resolves a derivative to about |C_j| 10^-dps (C_j the terms holding
    z_j); a derivative smaller than |C_j| 10^(60 - dps) is taken again with enough
    digits to resolve 10^-350, below every float.
    """
    units = len(z_row)
    zs, ys = [mpmath.mpf(v) for v in z_row], [mpmath.mpf(v) for v in y_row]
    out = []
    for c in range(units):
        fn = _loss_part(activation, loss, units, c)
        dps = mpmath.mp.dps
        got = _diff_along(fn, zs, ys, c, direction)
        resolution = abs(fn(zs, ys)) * mpmath.mpf(10) ** (-dps)
        if mpmath.mpf(10) ** -350 < resolution and abs(got) < resolution * mpmath.mpf(10) ** 60:
            with mpmath.workdps(dps + 360 + int(mpmath.log10(resolution))):
                got = _diff_along(fn, zs, ys, c, direction)
        out.append(got)
    return out
_DIFF_DIGITS = 200


@cache
def _smooth(activation: str, loss: str) -> bool:
    """True when the cost has no Piecewise, Abs or sign: it cannot have a kink."""
    d = derive_pair(activation, loss)
    named = expand_named(d.in_z(d.cost))
    return not named.has(sp.Piecewise, sp.Abs, sp.sign)


def loss_gradient(activation: str, loss: str, z_row: Sequence[float], y_row: Sequence[float]) -> list:
    """dC/dz_j of the symbolic loss by ``mpmath.diff`` at one row; None where C has a kink in z_j.

    Independent of ``derive_pair(...).delta``: only the cost expression is used. Costs
    with Piecewise, Abs or sign are differentiated from both sides; an entry whose
    one-sided derivatives differ is a kink (None).
    """
    z_row, y_row = [float(v) for v in z_row], [float(v) for v in y_row]
    # mpmath.diff's step is about 10^-(dps + 3): its central-difference error, ~10^-(2 dps + 6)
    # times the third derivative, must stay below every float even where dC/dz_j is 0
    with mpmath.workdps(max(working_digits(z_row), _DIFF_DIGITS)):
        if _smooth(activation, loss):
            return loss_gradient_raw(activation, loss, z_row, y_row, 0)
        right = loss_gradient_raw(activation, loss, z_row, y_row, 1)
        left = loss_gradient_raw(activation, loss, z_row, y_row, -1)
    out = []
    for lft, rgt in zip(left, right):
        kink = abs(lft - rgt) > mpmath.mpf(10) ** (-DIGITS) * max(abs(lft), abs(rgt))
        out.append(None if kink else (lft + rgt) / 2)
    return out


for _cached in (_pair_truth, _pair_row, _activation_truth, _activation_row, _loss_part, _smooth):
    on_change(_cached.cache_clear)  # keyed on catalogue names
