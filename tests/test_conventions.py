"""Python conventions of the package: __version__, dir(), did-you-mean for names, pairing errors that say
what does pair."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import numpy as np
import pytest

import derive
from derive import PairingError, UnknownNameError, kernels
from derive.errors import pairing_error, suggest, swapped, unknown
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as project:
        return tomllib.load(project)["project"]["version"]


def test_version_is_the_package_s():
    assert derive.__version__ == importlib.metadata.version("derive") == _pyproject_version()


def test_version_without_installed_metadata_comes_from_pyproject(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    derive._version.cache_clear()  # read on first use, then kept
    try:
        assert derive._version() == _pyproject_version()
    finally:
        derive._version.cache_clear()


def test_dir_lists_the_public_names():
    names = dir(derive)
    for public in ("derive_pair", "Derivation", "Step", "ACTIVATIONS", "LOSSES", "pairings", "valid_pairings",
                   "PairingError", "UnknownNameError", "__version__", "kernels", "testing"):
        assert public in names, public
    for private in ("tomllib", "import_module", "version", "Path", "unknown", "annotations"):
        assert private not in names, private
    for name in names:
        getattr(derive, name)  # every listed name resolves


def test_a_misspelled_attribute_says_what_was_meant():
    with pytest.raises(AttributeError, match=r"did you mean 'derive_pair'\?"):
        derive.derive_Pair  # noqa: B018
    assert not hasattr(derive, "no_such_thing")


@pytest.mark.parametrize("given, meant", [("Sigmoid", "sigmoid"), ("SIGMOID", "sigmoid"), ("sigmod", "sigmoid"),
                                          ("leaky-relu", "leaky_relu"), ("Leaky_ReLU", "leaky_relu"), ("GELU", "gelu")])
def test_every_caller_gets_did_you_mean(given, meant):
    for call in (lambda: kernels.get(given, "quadratic"), lambda: kernels.activation(given),
                 lambda: derive.derive_pair(given, "quadratic")):
        with pytest.raises(UnknownNameError, match=rf"unknown activation {given!r} \(did you mean {meant!r}\?\); known"):
            call()


def test_no_suggestion_when_nothing_is_close():
    assert suggest("xyz", ACTIVATIONS) is None and suggest(None, ACTIVATIONS) is None
    message = str(unknown("loss", 3, LOSSES))
    assert "did you mean" not in message and message.startswith("unknown loss 3; known losses: quadratic")


def test_swapped_names_are_told_apart_from_unknown_ones():
    assert swapped("bce", "sigmoid", ACTIVATIONS, LOSSES) is not None
    assert swapped("sigmoid", "bce", ACTIVATIONS, LOSSES) is None
    assert swapped("swish", "sigmoid", ACTIVATIONS, LOSSES) is None


def test_a_pairing_error_names_what_the_activation_pairs_with():
    pairs = [lo for act, lo in valid_pairings() if act == "relu"]
    error = pairing_error("relu", "bce", "relu's range [0, oo) is not inside (0, 1), which bce needs", pairs)
    assert isinstance(error, PairingError) and isinstance(error, ValueError)
    assert str(error) == ("invalid pairing relu + bce: relu's range [0, oo) is not inside (0, 1), which bce needs; "
                          f"relu pairs with: {', '.join(pairs)}")
    assert "bce" not in str(error).split("pairs with:")[1]


def test_kernels_still_compute_after_the_name_checks():
    k = kernels.get("sigmoid", "bce")
    assert np.allclose(k.delta(np.array([0.0]), np.array([1.0])), [-0.5])
