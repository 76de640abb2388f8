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
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sympy as sp
from sympy import Abs, Interval, Piecewise, Rational, S, log, oo

from derive.errors import PairingError, unknown
from derive.symbolic.functions import LEAKY_SLOPE, Phi, elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
from derive.symbolic.functions import SELU_ALPHA, SELU_SCALE, selu, xlogx
from derive.symbolic.functions import NamedFunction

# min silu = silu(-1 - W(1/e)) = -W(1/e); min gelu has no closed form: a 30-digit
# value whose enclosure ``proofs`` certifies.
SILU_MIN = -sp.LambertW(sp.exp(-1))
GELU_MIN = sp.Float("-0.169971207479903661693868470983", 30)  # rounded down
# min mish (z tanh softplus z) has no closed form either: enclosed likewise (proofs.extrema.mish_minimum)
MISH_MIN = sp.Float("-0.308843413017250406628760229042", 30)  # rounded down


class ParamSymbol(sp.Symbol):
    """A call-time parameter as a SymPy symbol (assumptions from its domain), typeset as its ``Param.latex``."""

    LATEX: dict[str, str] = {}

    def _latex(self, printer):
        return self.LATEX.get(self.name) or printer._print_Symbol(self)


@dataclass(frozen=True)
class Param:
    """A call-time parameter of a catalogue entry: its name (the keyword), default, domain (a SymPy set) and LaTeX."""

    name: str
    default: sp.Expr
    domain: sp.Set = S.Reals
    latex: str = ""

    def __post_init__(self):
        if not self.name.isidentifier() or keyword.iskeyword(self.name) or self.name in _RESERVED:
            raise ValueError(f"parameter name {self.name!r} is not allowed: an identifier other than "
                             f"{', '.join(_RESERVED)}")
        if not isinstance(self.domain, Interval):  # the kernels check values against (lo, hi) without SymPy
            raise ValueError(f"parameter {self.name}'s domain is an interval, not {self.domain}")
        object.__setattr__(self, "default", sp.nsimplify(self.default) if isinstance(self.default, float)
                           else sp.sympify(self.default))
        if self.domain.contains(self.default) is not S.true:
            raise ValueError(f"parameter {self.name}'s default {self.default} is not in its domain {show_set(self.domain)}")
        if self.latex:
            ParamSymbol.LATEX[self.name] = self.latex

    @property
    def symbol(self) -> ParamSymbol:
        """The parameter as a symbol: positive on a domain in (0, oo), nonnegative in [0, oo), else real."""
        if self.domain.is_subset(Interval.open(0, oo)):
            return ParamSymbol(self.name, positive=True)
        if self.domain.is_subset(Interval(0, oo)):
            return ParamSymbol(self.name, nonnegative=True)
        return ParamSymbol(self.name, real=True)

    @property
    def row(self) -> tuple:
        """(name, default, lo, hi, lo_open, hi_open) as floats: what ``derive.kernels`` checks values against."""
        d = self.domain
        return self.name, float(self.default), float(d.start), float(d.end), bool(d.left_open), bool(d.right_open)

    def check(self, value, owner: str):
        """``value`` if it is a finite real number in the domain; else ``ValueError`` naming the domain."""
        if isinstance(value, bool) or not isinstance(value, (int, float, sp.Rational, sp.Float)):
            raise TypeError(f"{owner}'s parameter {self.name} is a real number, got {type(value).__name__} {value!r}")
        if not math.isfinite(float(value)) or self.domain.contains(sp.sympify(value)) is not S.true:
            raise ValueError(f"{owner}'s parameter {self.name} must be in {show_set(self.domain)}, got {value!r}")
        return value


# the generated kernels' own argument names: a parameter may not take one
_RESERVED = ("z", "y", "x", "n", "shape", "dtype", "empty", "out", "xp", "ops", "np", "bits", "rows")


def _with_defaults(fn, params: tuple[Param, ...]):
    """fn(*args, **params) callable as fn(*args) (the defaults) or with some parameters given (symbols or values)."""
    if fn is None or not params:
        return fn
    named = isinstance(fn, type) and issubclass(fn, NamedFunction)  # elu: its parameters are arguments, in order

    def call(*args, **given):
        extra = set(given) - {p.name for p in params}
        if extra:
            raise TypeError(f"unknown parameter {sorted(extra)[0]!r}; known: {', '.join(p.name for p in params)}")
        values = {p.name: given.get(p.name, p.default) for p in params}
        return fn(*args, *(values[name] for name in fn.params)) if named else fn(*args, **values)

    return call


@dataclass(frozen=True)
class Activation:
    """a = f(z); ``prime(a, z)`` is f'(z), through the output a where it can be.

    With ``params``, f, prime and range (then a callable) take them as keywords: ``f(z)`` is f at the
    defaults, ``f(z, **act.symbols)`` keeps them as symbols (what derivations and kernels use)."""

    name: str
    f: Callable[[sp.Expr], sp.Expr] | None  # None: not elementwise (softmax)
    prime: Callable[[sp.Expr, sp.Expr], sp.Expr] | None  # None for an elementwise f: d/dz f(z)
    range: sp.Set
    unknown_range: str | None = None  # why the range is not known (then range is R): pairings needing it are refused
    params: tuple[Param, ...] = ()
    range_of: Callable[..., sp.Set] | None = field(default=None, compare=False, repr=False)  # range at parameters

    def __post_init__(self):
        f = self.f
        if f is not None and self.prime is None:
            object.__setattr__(self, "prime", lambda a, z, **p: sp.diff(f(z, **p), z))
        rng = self.range
        range_of = rng if callable(rng) else (lambda **p: rng)
        object.__setattr__(self, "range_of", _with_defaults(range_of, self.params) or range_of)
        object.__setattr__(self, "range", self.range_of())
        for name in ("f", "prime"):
            object.__setattr__(self, name, _with_defaults(getattr(self, name), self.params))

    @property
    def elementwise(self) -> bool:
        return self.f is not None

    @property
    def symbols(self) -> dict[str, ParamSymbol]:
        return {p.name: p.symbol for p in self.params}


@dataclass(frozen=True)
class Loss:
    """C = reduce_over_units l(a, y); ``domain`` holds a, ``targets`` holds y; ``term(a, y, **params)`` as above."""

    name: str
    term: Callable[[sp.Expr, sp.Expr], sp.Expr]
    reduce: str  # "sum" or "mean" over the last axis
    domain: sp.Set
    targets: sp.Set
    targets_sum_to_one: bool = False
    params: tuple[Param, ...] = ()
    per_unit: str | None = None  # why the loss needs each output on its own (an elementwise activation), or None

    def __post_init__(self):
        object.__setattr__(self, "term", _with_defaults(self.term, self.params))

    @property
    def symbols(self) -> dict[str, ParamSymbol]:
        return {p.name: p.symbol for p in self.params}


def _step(a, positive, otherwise):
    return Piecewise((positive, a > 0), (otherwise, True))


_unit = Interval.open(0, 1)
_positive = Interval.open(0, oo)
SLOPE = Param("slope", LEAKY_SLOPE, Interval.Ropen(0, 1), "s")  # [0, 1): max(z, s z) is leaky_relu there
ALPHA = Param("alpha", 1, _positive, r"\alpha")
DELTA = Param("delta", 1, _positive, r"\delta_{\mathrm{H}}")  # huber's threshold (not the error delta)
BETA = Param("beta", 1, _positive, r"\beta")
GAMMA = Param("gamma", 2, Interval(0, oo), r"\gamma")

# fmt: off
ACTIVATIONS: dict[str, Activation] = {act.name: act for act in (
    Activation("identity",   lambda z: z,  lambda a, z: S.One,                          S.Reals),
    Activation("sigmoid",    sigmoid,      lambda a, z: a * (1 - a),                    _unit),
    Activation("tanh",       sp.tanh,      lambda a, z: 1 - a**2,                       Interval.open(-1, 1)),
    Activation("relu",       relu,         lambda a, z: _step(a, 1, 0),                 Interval(0, oo)),
    Activation("leaky_relu", leaky_relu,   lambda a, z, slope: _step(a, 1, slope),      S.Reals, params=(SLOPE,)),
    Activation("softplus",   softplus,     lambda a, z: sigmoid(z),                     Interval.open(0, oo)),
    Activation("elu",        elu,          lambda a, z, alpha: _step(a, 1, a + alpha),
               lambda alpha: Interval.open(-alpha, oo), params=(ALPHA,)),
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
    # swish_beta(z) = silu(beta z)/beta: its minimum is silu's, -W(1/e), over beta
    Activation("swish",      lambda z, beta: z * sigmoid(beta * z),
               lambda a, z, beta: sigmoid(beta * z) * (1 + beta * z * sigmoid(-beta * z)),
               lambda beta: Interval(SILU_MIN / beta, oo), params=(BETA,)),
)}

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("quadratic", lambda a, y: (a - y)**2 / 2,                      "sum",  S.Reals, S.Reals),
    Loss("sse",       lambda a, y: (a - y)**2,                          "sum",  S.Reals, S.Reals),
    Loss("mse",       lambda a, y: (a - y)**2,                          "mean", S.Reals, S.Reals),
    Loss("bce",       lambda a, y: -(y * log(a) + (1 - y) * log(1 - a)), "sum", _unit,   Interval(0, 1)),
    Loss("cce",       lambda a, y: -y * log(a),                         "sum",  _unit,   Interval(0, 1), True),
    Loss("l1",        lambda a, y: Abs(a - y),                          "sum",  S.Reals, S.Reals),
    Loss("huber",     lambda a, y, delta: Piecewise(((a - y)**2 / 2, Abs(a - y) <= delta),
                                                    (delta * (Abs(a - y) - delta / 2), True)), "sum", S.Reals, S.Reals,
         params=(DELTA,)),
    # kl: sum y ln(y/a) = sum xlogx(y) - y ln a, with 0 ln 0 = 0 (xlogx(0) = 0): targets are probability rows
    Loss("kl",        lambda a, y: xlogx(y) - y * log(a),               "sum",  _unit,   Interval(0, 1), True),
    Loss("poisson",   lambda a, y: a - y * log(a),                      "sum",  Interval.open(0, oo), Interval(0, oo)),
    Loss("log_cosh",  lambda a, y: log(sp.cosh(a - y)),                 "sum",  S.Reals, S.Reals),
    # hinge: relu(1 - y a) = max(0, 1 - y a), derivative 0 at the kink (relu's convention); y in {-1, 1}: the
    # kernels evaluate the formula for any real y, as bce's do for y outside [0, 1] (no target check)
    Loss("hinge",     lambda a, y: relu(1 - y * a),                     "sum",  S.Reals, sp.FiniteSet(-1, 1)),
    # binary focal loss (Lin et al. 2017), without its class weight; gamma = 0 is bce
    Loss("focal",     lambda a, y, gamma: -(y * (1 - a)**gamma * log(a) + (1 - y) * a**gamma * log(1 - a)), "sum",
         _unit, Interval(0, 1), params=(GAMMA,), per_unit="is the binary focal loss: one probability per unit, "
         "from an elementwise activation (sigmoid)"),
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
    if lo.per_unit and not act.elementwise:
        return f"{lo.name} {lo.per_unit}; {act.name}'s outputs are not independent"
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
