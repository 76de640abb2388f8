"""Numeric kernels generated from the derivations: stable for every finite input, no SymPy.

    k = get("sigmoid", "bce");  k.loss(z, y), k.delta(z, y), k.grad_b(z, y), k.grad_w(x, z, y)
    f = activation("tanh");     f(z), f.derivative(z)   (softmax: f.jacobian(z))

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
from derive.kernels import _generated as _gen
from derive.kernels.blocks import get_num_threads, set_num_threads
from derive.kernels.objects import Kernel, KernelActivation

__all__ = ["get", "activation", "Kernel", "KernelActivation", "set_num_threads", "get_num_threads"]

_KERNELS: dict[tuple[str, str], Kernel] = {}


def _pairs_with(activation):
    return [lo for a, lo in _gen.PAIRS if a == activation]


_NO_LOSS = object()  # get("relu"): not None, which is a wrong loss name like any other


def get(activation: str, loss: str = _NO_LOSS) -> Kernel:
    """The kernel of ``activation`` + ``loss``; ``PairingError`` says why an invalid pairing is one."""
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
    if key not in _KERNELS:
        rowwise = _gen.ACTIVATIONS[activation][1] is None  # softmax: no elementwise derivative
        _KERNELS[key] = Kernel(activation, loss, *_gen.PAIRS[key], targets_sum_to_one=key in _gen.TARGETS_SUM_TO_ONE,
                               min_units=2 if rowwise else 1, elementwise=_gen.ELEMENTWISE)
    return _KERNELS[key]


def activation(name: str) -> KernelActivation:
    """The activation ``name``: callable, with ``derivative`` (softmax: ``jacobian``)."""
    try:
        f, df = _gen.ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise unknown("activation", name, _gen.ACTIVATIONS) from None
    return KernelActivation(name, f, df, _gen.ELEMENTWISE)
