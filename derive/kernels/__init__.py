"""Numeric kernels generated from the derivations: stable for every finite input, no SymPy.

    k = get("sigmoid", "bce");  k.loss(z, y), k.delta(z, y), k.grad_b(z, y), k.grad_w(x, z, y)
    f = activation("tanh");     f(z), f.derivative(z)   (softmax: f.jacobian(z))
    get("leaky_relu", "huber", slope=0.1, delta=2.0), activation("elu", alpha=0.5): parameters by keyword

>>> import numpy as np
>>> get("sigmoid", "bce").delta(np.array([[-1000.0, 0.0]]), np.array([[0.0, 1.0]]))
array([[ 0. , -0.5]])

The same calls take PyTorch, JAX, CuPy, Dask and array-api-strict arrays and return that kind
of array, on its device, in its dtype (``k.loss(z, y, reduction="mean")`` reduces over the
batch axes). This folder runs at import of the kernels and never imports SymPy or the
symbolic and compile folders (nor any array library the arguments do not come from):
``_generated`` holds the NumPy functions and tables the generator wrote, ``_generated_xp`` the
same kernels printed functionally for any array namespace, ``objects`` the public objects,
``checks`` the argument checks, ``blocks`` the blocked, threaded executor, ``rows`` the softmax
row primitives and ``bits`` the sign-bit helpers (NumPy), ``xp_ops`` their functional forms,
``xp`` the namespaces and their special functions, ``chunked`` the Dask path.
"""

from __future__ import annotations

from derive.errors import pairing_error, swapped, unknown
from functools import partial

from derive.errors import UnknownNameError
from derive.kernels import _generated as _gen
from derive.kernels.blocks import get_num_threads, set_num_threads
from derive.kernels.objects import Kernel, KernelActivation

__all__ = ["get", "activation", "Kernel", "KernelActivation", "set_num_threads", "get_num_threads"]

_KERNELS: dict[tuple[str, str], Kernel] = {}


def _pairs_with(activation):
    return [lo for a, lo in _gen.PAIRS if a == activation]


_NO_LOSS = object()  # get("relu"): not None, which is a wrong loss name like any other


def get(activation: str, loss: str = _NO_LOSS, **params) -> Kernel:
    """The kernel of ``activation`` + ``loss``; ``PairingError`` says why an invalid pairing is one.

    ``params``: values of the pairing's parameters (``slope=0.1``, ``delta=2.0``; the others keep their
    defaults), each checked against its domain."""
    wrong_way = None if loss is _NO_LOSS else swapped(activation, loss, _gen.ACTIVATIONS, _gen.LOSSES)
    if wrong_way is not None:
        raise wrong_way
    if not (isinstance(activation, str) and activation in _gen.ACTIVATIONS):
        raise unknown("activation", activation, _gen.ACTIVATIONS)
    if loss is _NO_LOSS:
        pairs = _pairs_with(activation)
        raise TypeError(f"kernels.get({activation!r}) needs a loss as well: kernels.get(activation, loss), "
                        f"for example kernels.get({activation!r}, {pairs[0]!r}); {activation} pairs with: "
                        f"{', '.join(pairs)}; the activation alone is kernels.activation({activation!r})")
    if not (isinstance(loss, str) and loss in _gen.LOSSES):
        raise unknown("loss", loss, _gen.LOSSES)
    key = (activation, loss)
    if key in _gen.INVALID:
        reason = _gen.INVALID[key].removeprefix(f"invalid pairing {activation} + {loss}: ")
        raise pairing_error(activation, loss, reason, _pairs_with(activation))
    values = _checked(f"{activation} + {loss}", params, _table(_gen.ACTIVATION_PARAMS, activation)
                      + _table(_gen.LOSS_PARAMS, loss))
    if values:  # the kernels that take the parameters (the plain ones are those at the defaults)
        return _bound_kernel(activation, loss, values)
    if key not in _KERNELS:
        _KERNELS[key] = _kernel(Kernel, activation, loss, _gen.PAIRS[key])
    return _KERNELS[key]


def _kernel(cls, activation, loss, functions, elementwise=None):
    rowwise = _gen.ACTIVATIONS[activation][1] is None  # softmax: no elementwise derivative
    key = (activation, loss)
    return cls(activation, loss, *functions, targets_sum_to_one=key in _gen.TARGETS_SUM_TO_ONE,
               min_units=2 if rowwise else 1, elementwise=elementwise or _gen.ELEMENTWISE)


def _table(table, name):
    return table.get(name, ()) if isinstance(name, str) else ()


def _show(lo, hi, lo_open, hi_open) -> str:
    def end(v):
        return "oo" if v == float("inf") else "-oo" if v == -float("inf") else f"{v:g}"
    return f"{'(['[not lo_open]}{end(lo)}, {end(hi)}{')]'[not hi_open]}"


def _checked(owner: str, given: dict, table) -> dict:
    """The values given for ``owner``'s parameters (rows name, default, lo, hi, lo_open, hi_open), each a
    real number inside its domain; unknown names list the known ones (no SymPy: the domains are floats).
    Empty when every value given is its default: the plain kernels are those at the defaults."""
    rows = {row[0]: row for row in table}
    for name, value in given.items():
        if name not in rows:
            known = ", ".join(rows) or "none"
            raise UnknownNameError(f"unknown parameter {name!r} of {owner}; its parameters: {known}")
        _, _, lo, hi, lo_open, hi_open = rows[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
            raise TypeError(f"{owner}'s parameter {name} is a real number, got {type(value).__name__} {value!r}")
        v = float(value)
        inside = (lo < v if lo_open else lo <= v) and (v < hi if hi_open else v <= hi)
        if not inside or v != v:
            raise ValueError(f"{owner}'s parameter {name} must be in {_show(lo, hi, lo_open, hi_open)}, got {value!r}")
    values = {name: float(value) for name, value in given.items()}
    return values if any(v != rows[name][1] for name, v in values.items()) else {}


class _BoundKernel(Kernel):
    """A kernel whose generated functions have parameter values bound (``functools.partial``): NumPy and
    Dask arrays run them; the array-API backends run the functional kernels with the same values."""

    def __init__(self, *args, values, **kwargs):
        super().__init__(*args, **kwargs)
        self.values = values

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<kernel {self.activation} + {self.loss_name} ({shown})>"

    def _foreign(self, lib, which, z, y):
        if lib == "dask":
            return super()._foreign(lib, which, z, y)
        from derive.kernels import xp
        from derive.kernels.checks import _units

        _units(z)
        shape = self._shape(z, y)
        fn = partial(_gen.PARAMETRIC_XP[(self.activation, self.loss_name)][which == "delta"], **self.values)
        check = f"{self.activation} + {self.loss_name}" if self._sum_to_one else None
        return xp.call(fn, (z, y), shape, library=lib, check_rows=check,
                       result_shape=shape[:-1] if which == "loss" else shape)


def _bound_kernel(activation, loss, values) -> Kernel:
    loss_fn, delta_fn = (partial(fn, **values) for fn in _gen.PARAMETRIC[(activation, loss)])
    elementwise = _gen.ELEMENTWISE | {p for p in (loss_fn, delta_fn) if p.func in _gen.ELEMENTWISE}
    return _kernel(partial(_BoundKernel, values=values), activation, loss, (loss_fn, delta_fn), elementwise)


def activation(name: str, **params) -> KernelActivation:
    """The activation ``name``: callable, with ``derivative`` (softmax: ``jacobian``); ``params``: values
    of its parameters (``alpha=0.5``), each checked against its domain."""
    try:
        f, df = _gen.ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise unknown("activation", name, _gen.ACTIVATIONS) from None
    values = _checked(name, params, _table(_gen.ACTIVATION_PARAMS, name))
    if not values:
        return KernelActivation(name, f, df, _gen.ELEMENTWISE)
    f, df = (partial(fn, **values) for fn in _gen.PARAMETRIC[name])
    elementwise = _gen.ELEMENTWISE | {p for p in (f, df) if p is not None and p.func in _gen.ELEMENTWISE}
    return _BoundActivation(name, f, df, elementwise, values=values)


class _BoundActivation(KernelActivation):
    """An activation with parameter values bound; the array-API backends get the same values."""

    def __init__(self, name, f, derivative, elementwise=(), *, values):
        super().__init__(name, f, derivative, elementwise)
        self.values = values

    def __repr__(self):
        return f"<activation {self.name} ({', '.join(f'{k}={v!r}' for k, v in self.values.items())})>"

    def _foreign(self, lib, method, z):
        if lib == "dask" or method == "jacobian":
            return super()._foreign(lib, method, z)
        from derive.kernels import xp

        fn = partial(_gen.PARAMETRIC_XP[self.name][method != "__call__"], **self.values)
        return xp.call(fn, (z,), tuple(z.shape), library=lib)
