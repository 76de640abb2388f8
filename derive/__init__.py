"""derive: the calculus of neural-network output layers, derived by SymPy and checked.

    delta = dC/dz,  dC/db = delta,  dC/dW = delta x^T

>>> from derive import derive_pair
>>> derive_pair("softmax", "cce").delta
a[j] - y[j]

``import derive.kernels`` does not import SymPy: the symbolic names below load
on first use.
"""

from __future__ import annotations

from importlib import import_module

from derive.errors import PairingError, UnknownNameError

__all__ = [
    "PairingError",
    "UnknownNameError",
    "derive_pair",
    "Derivation",
    "Step",
    "ACTIVATIONS",
    "LOSSES",
    "pairings",
    "valid_pairings",
]

_LAZY = {
    "derive_pair": "derive.symbolic.pairing",
    "Derivation": "derive.symbolic.pairing",
    "Step": "derive.symbolic.pairing",
    "ACTIVATIONS": "derive.symbolic.catalogue",
    "LOSSES": "derive.symbolic.catalogue",
    "pairings": "derive.symbolic.catalogue",
    "valid_pairings": "derive.symbolic.catalogue",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")
