"""The array backends the backend tests run on: each a way to make its arrays from NumPy ones.

A backend that is not installed is skipped with the extra that installs it. JAX runs with
64-bit floats enabled (its default is 32-bit only), set once when this module imports JAX.
``DERIVE_TEST_DEVICE=cuda`` puts the torch tensors on the GPU (bench/gpu_check.sh); CuPy
runs only where it is installed, on a GPU machine.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

EXTRA = {"torch": "torch", "jax": "jax", "dask": "dask", "array_api_strict": "test"}
DEVICE = os.environ.get("DERIVE_TEST_DEVICE", "cpu")
LIBRARY = {"torch_autograd": "torch"}


def _require(name: str):
    name = LIBRARY.get(name, name)
    if importlib.util.find_spec(name) is None:
        how = f"pip install 'derive[{EXTRA[name]}]'" if name in EXTRA else "a GPU machine (bench/gpu_check.sh)"
        pytest.skip(f"{name} is not installed: {how} runs these tests")


def _torch(a):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a)).to(DEVICE)


def _torch_autograd(a):
    """Tensors that require grad (floating ones): autograd records, so the kernels take their
    functional form (``_generated_xp``) instead of the NumPy kernels on the tensors' memory."""
    t = _torch(a)
    return t.requires_grad_(True) if t.is_floating_point() else t


def _jax(a):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jnp.asarray(a)


def _strict(a):
    import array_api_strict as xs

    return xs.asarray(a)


def _dask(a):
    import dask.array as da

    a = np.asarray(a)
    return da.from_array(a, chunks=(1,) * (a.ndim - 1) + (-1,) if a.ndim else ())  # one row per chunk


def _cupy(a):
    import cupy

    return cupy.asarray(a)


CONVERT = {"torch": _torch, "torch_autograd": _torch_autograd, "jax": _jax, "array_api_strict": _strict,
           "dask": _dask, "cupy": _cupy}
BACKENDS = list(CONVERT)


def kind_of(name: str) -> str:
    """The array kind (``derive.kernels.xp.kind``) the backend's arrays are."""
    return LIBRARY.get(name, name)


def converter(name: str):
    """The function making ``name``'s arrays from NumPy arrays, or a skip when it is not installed."""
    _require(name)
    return CONVERT[name]
