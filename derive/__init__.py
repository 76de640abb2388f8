"""derive: the calculus of neural-network output layers, derived by SymPy and checked.

    delta = dC/dz,  dC/db = delta,  dC/dW = delta x^T

>>> from derive import derive_pair
>>> derive_pair("softmax", "cce").delta
a[j] - y[j]

``import derive.kernels`` does not import SymPy: the symbolic names below load
on first use.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from derive.errors import FormulaError, PairingError, UnknownNameError, unknown


@cache
def _version() -> str:
    """The installed distribution's version; from a source tree that is not installed, pyproject.toml's.
    Read on first use: importlib.metadata costs more than the kernels' own import."""
    import tomllib
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    try:
        return version("derive")
    except PackageNotFoundError:
        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as project:
            return tomllib.load(project)["project"]["version"]

__all__ = [
    "__version__",
    "PairingError",
    "UnknownNameError",
    "derive_pair",
    "Derivation",
    "Step",
    "ACTIVATIONS",
    "LOSSES",
    "pairings",
    "valid_pairings",
    "define_activation",
    "define_loss",
    "FormulaError",
]

_LAZY = {
    "derive_pair": "derive.symbolic.pairing",
    "Derivation": "derive.symbolic.pairing",
    "Step": "derive.symbolic.pairing",
    "ACTIVATIONS": "derive.symbolic.catalogue",
    "LOSSES": "derive.symbolic.catalogue",
    "pairings": "derive.symbolic.catalogue",
    "valid_pairings": "derive.symbolic.catalogue",
    "define_activation": "derive.define",
    "define_loss": "derive.define",
}


_SUBPACKAGES = ("kernels", "testing", "symbolic", "compile", "docs")


def __getattr__(name: str):
    if name == "__version__":
        return _version()
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return import_module(f"derive.{name}")
    error = unknown("name", name, [*__all__, *_SUBPACKAGES], where="module 'derive'")
    raise AttributeError(str(error), name=name, obj=__name__)


def __dir__() -> list[str]:
    """The public names (``derive.<TAB>`` and ``dir(derive)``), the lazy ones included."""
    return sorted({*__all__, *_SUBPACKAGES})
