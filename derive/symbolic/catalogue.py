"""The catalogue: activations and losses, one line of data each.

Everything else (the pairing matrix, the derivations, the kernels, the LaTeX,
the test parametrisation) is computed from these two tables. Adding an
activation is one line here plus its range proof in ``proofs``; or, without
touching a file, ``register`` (for good) or ``extended`` (for a ``with`` block):

>>> mish = Activation("mish", lambda z: z * sp.tanh(softplus(z)), None, Interval(-1, oo))
>>> with extended(activations=[mish]):
...     ("mish", "quadratic", None) in pairings()
True
>>> "mish" in ACTIVATIONS
False

An activation gives ``f(z)``, its derivative written through its output ``a``
where that form exists (autograd's "use the output where cheaper"; None: d/dz of
f), and its range as a SymPy set. A loss gives the per-unit term ``l(a, y)``, how units
are reduced (sum or mean), the set its ``a`` must lie in, and the set its
targets lie in.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sympy as sp
from sympy import Abs, Interval, Piecewise, Rational, S, log, oo

from derive.errors import PairingError, unknown
from derive.symbolic.functions import LEAKY_SLOPE, Phi, elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
from derive.symbolic.functions import SELU_ALPHA, SELU_SCALE, selu, xlogx

# min silu = silu(-1 - W(1/e)) = -W(1/e); min gelu has no closed form: a 30-digit
# value whose enclosure ``proofs`` certifies.
SILU_MIN = -sp.LambertW(sp.exp(-1))
GELU_MIN = sp.Float("-0.169971207479903661693868470983", 30)  # rounded down
# min mish (z tanh softplus z) has no closed form either: enclosed likewise (proofs.extrema.mish_minimum)
MISH_MIN = sp.Float("-0.308843413017250406628760229042", 30)  # rounded down


@dataclass(frozen=True)
class Activation:
    """a = f(z); ``prime(a, z)`` is f'(z), through the output a where it can be."""

    name: str
    f: Callable[[sp.Expr], sp.Expr] | None  # None: not elementwise (softmax)
    prime: Callable[[sp.Expr, sp.Expr], sp.Expr] | None  # None for an elementwise f: d/dz f(z)
    range: sp.Set
    unknown_range: str | None = None  # why the range is not known (then range is R): pairings needing it are refused

    def __post_init__(self):
        if self.f is not None and self.prime is None:
            object.__setattr__(self, "prime", lambda a, z: sp.diff(self.f(z), z))

    @property
    def elementwise(self) -> bool:
        return self.f is not None


@dataclass(frozen=True)
class Loss:
    """C = reduce_over_units l(a, y); ``domain`` holds a, ``targets`` holds y."""

    name: str
    term: Callable[[sp.Expr, sp.Expr], sp.Expr]
    reduce: str  # "sum" or "mean" over the last axis
    domain: sp.Set
    targets: sp.Set
    targets_sum_to_one: bool = False


def _step(a, positive, otherwise):
    return Piecewise((positive, a > 0), (otherwise, True))


_unit = Interval.open(0, 1)

# fmt: off
ACTIVATIONS: dict[str, Activation] = {act.name: act for act in (
    Activation("identity",   lambda z: z,  lambda a, z: S.One,                          S.Reals),
    Activation("sigmoid",    sigmoid,      lambda a, z: a * (1 - a),                    _unit),
    Activation("tanh",       sp.tanh,      lambda a, z: 1 - a**2,                       Interval.open(-1, 1)),
    Activation("relu",       relu,         lambda a, z: _step(a, 1, 0),                 Interval(0, oo)),
    Activation("leaky_relu", leaky_relu,   lambda a, z: _step(a, 1, LEAKY_SLOPE),       S.Reals),
    Activation("softplus",   softplus,     lambda a, z: sigmoid(z),                     Interval.open(0, oo)),
    Activation("elu",        elu,          lambda a, z: _step(a, 1, a + 1),             Interval.open(-1, oo)),
    Activation("silu",       silu,         lambda a, z: a + sigmoid(z) * (1 - a),       Interval(SILU_MIN, oo)),
    Activation("gelu",       gelu,         lambda a, z: Phi(z) + z * Phi.derivative(z), Interval(GELU_MIN, oo)),
    Activation("softmax",    None,         None,                                        _unit),
    Activation("mish",       lambda z: z * sp.tanh(softplus(z)), None,                  Interval(MISH_MIN, oo)),
    Activation("selu",       selu,         lambda a, z: _step(a, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA),
               Interval.open(-SELU_SCALE * SELU_ALPHA, oo)),
    # softsign' = (1 - |a|)^2 loses the digits of 1 - |a| once |a| rounds near 1: through z instead
    Activation("softsign",   lambda z: z / (1 + Abs(z)), lambda a, z: 1 / (1 + Abs(z))**2, Interval.open(-1, 1)),
    # PyTorch's hardsigmoid: relu6(z + 3)/6, derivative 1/6 inside (-3, 3), 0 outside and at +-3
    Activation("hard_sigmoid", lambda z: Piecewise((0, z <= -3), (1, z >= 3), (z / 6 + S.Half, True)),
               lambda a, z: Piecewise((Rational(1, 6), Abs(z) < 3), (0, True)), Interval(0, 1)),
)}

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("quadratic", lambda a, y: (a - y)**2 / 2,                      "sum",  S.Reals, S.Reals),
    Loss("sse",       lambda a, y: (a - y)**2,                          "sum",  S.Reals, S.Reals),
    Loss("mse",       lambda a, y: (a - y)**2,                          "mean", S.Reals, S.Reals),
    Loss("bce",       lambda a, y: -(y * log(a) + (1 - y) * log(1 - a)), "sum", _unit,   Interval(0, 1)),
    Loss("cce",       lambda a, y: -y * log(a),                         "sum",  _unit,   Interval(0, 1), True),
    Loss("l1",        lambda a, y: Abs(a - y),                          "sum",  S.Reals, S.Reals),
    Loss("huber",     lambda a, y: Piecewise(((a - y)**2 / 2, Abs(a - y) <= 1),
                                             (Abs(a - y) - Rational(1, 2), True)), "sum", S.Reals, S.Reals),
    # kl: sum y ln(y/a) = sum xlogx(y) - y ln a, with 0 ln 0 = 0 (xlogx(0) = 0): targets are probability rows
    Loss("kl",        lambda a, y: xlogx(y) - y * log(a),               "sum",  _unit,   Interval(0, 1), True),
    Loss("poisson",   lambda a, y: a - y * log(a),                      "sum",  Interval.open(0, oo), Interval(0, oo)),
    Loss("log_cosh",  lambda a, y: log(sp.cosh(a - y)),                 "sum",  S.Reals, S.Reals),
    # hinge: relu(1 - y a) = max(0, 1 - y a), derivative 0 at the kink (relu's convention); y in {-1, 1}: the
    # kernels evaluate the formula for any real y, as bce's do for y outside [0, 1] (no target check)
    Loss("hinge",     lambda a, y: relu(1 - y * a),                     "sum",  S.Reals, sp.FiniteSet(-1, 1)),
)}
# fmt: on


# --- registration ------------------------------------------------------------------------------

_listeners: list[Callable[[], None]] = []


def on_change(clear: Callable[[], None]) -> Callable[[], None]:
    """Call ``clear`` whenever the catalogue changes: every cache keyed on names registers its ``cache_clear``."""
    _listeners.append(clear)
    return clear


def _changed() -> None:
    for clear in _listeners:
        clear()


def _check_name(kind: str, name, table: dict) -> None:
    # a name becomes part of generated function names: an identifier, never code
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{kind} name {name!r} is not allowed: a name is a Python identifier (letters, digits, _)")
    if name in table:
        raise ValueError(f"{kind} {name!r} is already in the catalogue; the {kind}s are: {', '.join(table)}")


def register(*, activations: Iterable[Activation] = (), losses: Iterable[Loss] = ()) -> None:
    """Add entries to the catalogue for good (names must be new); every name-keyed cache is cleared."""
    activations, losses = tuple(activations), tuple(losses)
    for kind, entries, cls, table in (("activation", activations, Activation, ACTIVATIONS),
                                      ("loss", losses, Loss, LOSSES)):
        seen = dict(table)
        for entry in entries:
            if not isinstance(entry, cls):
                raise TypeError(f"a catalogue {kind} is a {cls.__name__}, not {type(entry).__name__}")
            _check_name(kind, entry.name, seen)
            seen[entry.name] = entry
    ACTIVATIONS.update((e.name, e) for e in activations)
    LOSSES.update((e.name, e) for e in losses)
    _changed()


def unregister(*names: str) -> None:
    """Take entries out of the catalogue (a definition whose kernels could not be made); caches are cleared."""
    for name in names:
        ACTIVATIONS.pop(name, None)
        LOSSES.pop(name, None)
    _changed()


@contextmanager
def extended(*, activations: Iterable[Activation] = (), losses: Iterable[Loss] = ()) -> Iterator[None]:
    """Within the block the catalogue also holds these entries; after it, exactly what it held before."""
    saved = dict(ACTIVATIONS), dict(LOSSES)
    register(activations=activations, losses=losses)
    try:
        yield
    finally:
        for table, before in zip((ACTIVATIONS, LOSSES), saved):
            table.clear()
            table.update(before)
        _changed()


# --- look-up ------------------------------------------------------------------------------------


def activation(name: str) -> Activation:
    """The catalogue entry ``name``; unknown names list the known ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise unknown("activation", name, ACTIVATIONS) from None


def loss(name: str) -> Loss:
    """The catalogue entry ``name``; unknown names list the known ones."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise unknown("loss", name, LOSSES) from None


def _end(v: sp.Expr) -> str:
    short = v.is_Rational and len(sp.sstr(v)) <= 12  # selu's exact end -lambda alpha: 6 digits, as a float's
    return sp.sstr(v) if short or v.is_infinite else f"{sp.N(v, 6)}"


def show_set(s: sp.Set) -> str:
    """An interval as a reader writes it: (0, 1), [0, oo), [-0.278465, oo)."""
    if s == S.Reals:
        return "(-oo, oo)"
    if isinstance(s, Interval):
        lo, hi = "([" [not s.left_open], ")]" [not s.right_open]
        return f"{lo}{_end(s.start)}, {_end(s.end)}{hi}"
    return sp.sstr(s)


def invalid_reason(act: Activation, lo: Loss) -> str | None:
    """Why ``act`` cannot feed ``lo`` (its range is not inside the loss's domain), or None."""
    if act.range.is_subset(lo.domain):
        return None
    if act.unknown_range:
        return f"{act.name}'s range is unknown ({act.unknown_range}) and {lo.name} needs a in {show_set(lo.domain)}"
    why = f"{act.name}'s range {show_set(act.range)} is not inside {show_set(lo.domain)}, which {lo.name} needs"
    ends = _ends_outside(act.range, lo.domain)
    return why + (f": {' and '.join(ends)} {'is' if len(ends) == 1 else 'are'} in the range" if ends else "")


def _ends_outside(rng: sp.Set, domain: sp.Set) -> list[str]:
    """The closed finite ends of ``rng`` that ``domain`` leaves out (relu's 0 for bce; hard_sigmoid's 0 and 1)."""
    if not isinstance(rng, Interval):
        return []
    ends = [(rng.start, rng.left_open), (rng.end, rng.right_open)]
    return [_end(v) for v, open_end in ends if not open_end and v.is_finite and domain.contains(v) == S.false]


def check_pairing(act_name: str, loss_name: str) -> tuple[Activation, Loss]:
    """The two entries, or ``PairingError`` saying why they do not pair."""
    act, lo = activation(act_name), loss(loss_name)
    reason = invalid_reason(act, lo)
    if reason is not None:
        raise PairingError(f"invalid pairing {act.name} + {lo.name}: {reason}")
    return act, lo


def pairings() -> list[tuple[str, str, str | None]]:
    """Every (activation, loss, reason-or-None) of the catalogue, in catalogue order."""
    return [
        (act.name, lo.name, invalid_reason(act, lo))
        for act in ACTIVATIONS.values()
        for lo in LOSSES.values()
    ]


def valid_pairings() -> list[tuple[str, str]]:
    return [(a, lo) for a, lo, why in pairings() if why is None]
