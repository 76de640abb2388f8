"""Errors of the public API. SymPy-free: ``derive.kernels`` raises them too."""

from __future__ import annotations

from collections.abc import Iterable


class PairingError(ValueError):
    """An activation x loss pairing that is not defined: the reason says why."""


class UnknownNameError(ValueError):
    """A name that is not in the catalogue: the message lists the known ones."""


def unknown(kind: str, name: object, known: Iterable[str], hint: str = "") -> UnknownNameError:
    """The error for ``name`` not being one of ``known`` (a {kind})."""
    plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
    tail = f" ({hint})" if hint else ""
    return UnknownNameError(f"unknown {kind} {name!r}; known {plural}: {', '.join(known)}{tail}")
