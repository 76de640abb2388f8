"""Kernels on any array API namespace: PyTorch, JAX, CuPy, array-api-strict (Dask: ``chunked``).

    kind(z) -> "torch" | "jax" | ... | None (NumPy or Python values: the fast in-place path)
    call(fn, (z, y), ...) -> fn of ``_generated_xp`` on z's namespace, device and dtype

The namespace comes from array-api-compat's ``array_namespace`` (its wrappers give PyTorch
and CuPy the standard's names); no library is imported unless the user's arrays come from it.
The few functions the standard lacks come from each library's own stable implementation,
chosen in ``SPECIAL`` (one line per library). float16 and bfloat16 are computed in float32
and returned in their own dtype.

Under ``jax.jit`` the values are tracers: the softmax + cce target check cannot raise there,
so the rows it would refuse come back nan (``jax.debug_nans`` finds them); outside ``jit`` it
raises as on NumPy.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from derive.kernels.checks import _check_sums_to_one, _sum_tolerance
from derive.kernels.xp_ops import Ops

__all__ = ["kind", "namespace", "to_numpy", "call", "unbroadcast", "SPECIAL"]

# The library of each array kind (the root of its type's module) and its normal CDF Phi: its ndtr,
# or erfc where that is the accurate one (Phi(x) = erfc(-x/sqrt 2)/2).
SPECIAL = {
    "torch": "torch.special:erfc",  # torch.special.ndtr returns 0 below x = -20 (float64), -10 (float32)
    "jax": "jax.scipy.special:ndtr",
    "jaxlib": "jax.scipy.special:ndtr",
    "cupy": "cupyx.scipy.special:ndtr",
}
FALLBACK_NDTR = "scipy.special:ndtr"  # others (array-api-strict): SciPy on a NumPy view of the data
# log Phi, finite where Phi underflows (the underflow rule's log-space values: derive.compile.underflow)
LOG_NDTR = {"torch": "torch.special:log_ndtr", "jax": "jax.scipy.special:log_ndtr",
            "jaxlib": "jax.scipy.special:log_ndtr", "cupy": "cupyx.scipy.special:log_ndtr"}
FALLBACK_LOG_NDTR = "scipy.special:log_ndtr"
NAMESPACES = ("torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict")


def kind(v) -> str | None:
    """The library of a non-NumPy array (its type's root module), None for NumPy arrays and Python values."""
    if isinstance(v, (np.ndarray, np.generic, int, float, bool, list, tuple)) or v is None:
        return None
    root = type(v).__module__.partition(".")[0]
    if root in NAMESPACES or hasattr(v, "__array_namespace__"):
        return root
    return None


def _describe(v) -> str:
    t = type(v)
    return f"a {t.__module__.partition('.')[0]}.{t.__qualname__}" if kind(v) or isinstance(v, np.ndarray) else f"a {t.__name__}"


def foreign(named: dict) -> str | None:
    """The library of the arguments when one is a non-NumPy array, else None; ``TypeError``
    naming each when arrays of two kinds meet (Python numbers go with any kind)."""
    for v in named.values():  # the common case, NumPy arrays and Python numbers: no kind looked up
        if not isinstance(v, _HOST):
            break
    else:
        return None
    libs = {name: _SAME.get(kind(v), kind(v)) for name, v in named.items()}
    found = {lib for lib in libs.values() if lib is not None}
    if not found:
        return None
    if len(found) > 1 or any(isinstance(v, np.ndarray) for v in named.values()):
        shown = ", ".join(f"{n} is {_describe(v)}" for n, v in named.items() if not isinstance(v, (int, float)))
        raise TypeError(f"the arrays are of different kinds ({shown}): pass them all as one kind of array "
                        "(for example torch.as_tensor(y, device=z.device)); Python numbers go with any kind")
    return found.pop()


_SAME = {"jaxlib": "jax"}
_HOST = (np.ndarray, np.generic, int, float)  # kind() None: NumPy's own (bool is an int)


# The namespace of each array kind: array-api-compat's wrapper where the library's own is not
# the standard's. Looked up in a plain table (no cached call: torch.compile traces this).
NAMESPACE = {"torch": "array_api_compat.torch", "cupy": "array_api_compat.cupy", "jax": "jax.numpy", "dask": "dask.array"}


def namespace(*arrays):
    """The array API namespace of ``arrays`` (the first non-NumPy one decides; ``foreign`` checked them)."""
    first = next(a for a in arrays if kind(a) is not None)
    lib = _SAME.get(kind(first), kind(first))
    if lib in NAMESPACE:
        try:
            return importlib.import_module(NAMESPACE[lib])
        except ImportError:
            raise ImportError(f"{lib} arrays need array-api-compat: pip install 'derive[{lib}]'") from None
    return first.__array_namespace__()


_SPECIALS = {}


def _special_of(library: str, table=SPECIAL, fallback=FALLBACK_NDTR):
    """The library's function named in ``table`` (Phi by erfc where it says erfc), else ``fallback`` through NumPy."""
    key = (library, fallback)
    if key in _SPECIALS:
        return _SPECIALS[key]
    module, _, name = table.get(library, fallback).partition(":")
    fn = getattr(importlib.import_module(module), name)
    if name == "erfc":
        erfc = fn

        def fn(x):
            return erfc(x * -0.7071067811865476) / 2

    def through_numpy(x):  # the array's own buffer where it allows (dlpack), a copy otherwise
        return namespace(x).asarray(fn(to_numpy(x)), device=x.device)
    _SPECIALS[key] = fn if library in table else through_numpy
    return _SPECIALS[key]


def to_numpy(arr):
    """A NumPy array with the values of ``arr`` (torch, JAX, CuPy, Dask, array-api-strict, NumPy):
    detached from autograd, on the host, bfloat16 widened to float32. For ``derive.testing``."""
    lib = kind(arr)
    if lib is None:
        return np.asarray(arr)
    if lib == "torch":
        arr = arr.detach().cpu()
        return (arr.float() if arr.dtype.itemsize == 2 and arr.is_floating_point() else arr).numpy()
    if lib == "dask":
        return np.asarray(arr.compute())
    if lib == "cupy":
        return arr.get()
    try:
        out = np.from_dlpack(arr)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        out = np.asarray(arr)
    return out.astype(np.float32) if out.dtype.kind == "V" or str(out.dtype) == "bfloat16" else out


def host_views(lib, values):
    """NumPy views of CPU torch tensors (float32/float64 logits) that need no autograd graph, and
    the function that wraps a NumPy result back as a tensor (no copy either way); None otherwise.

    The blocked, in-place NumPy kernels then run on the tensors' own memory: several times faster
    on the CPU than the functional kernels, which allocate a full tensor per operation. Not taken
    under torch.compile (it traces the functional kernels) nor where autograd records (a tensor
    that requires grad, with grad mode on: ``derive.torch.loss_fn``'s forward and backward run
    with it off).
    """
    if lib != "torch":
        return None
    import torch

    if torch.compiler.is_compiling():
        return None
    grad = torch.is_grad_enabled()
    views = []
    for v in values:
        if isinstance(v, torch.Tensor):
            if v.device.type != "cpu" or (grad and v.requires_grad) or v.dtype in (torch.float16, torch.bfloat16):
                return None
            views.append(v.numpy())
        else:
            views.append(v)
    if not (isinstance(values[0], torch.Tensor) and values[0].dtype in (torch.float32, torch.float64)):
        return None
    return views, torch.from_numpy


def _device(xp, v):
    return getattr(v, "device", None) if kind(v) != "jax" else _jax_device(v)


def _jax_device(v):
    try:
        return next(iter(v.devices()))
    except Exception:  # a tracer (jit, vmap): placement is jax's; None keeps the default
        return None


def dtypes(xp, *values):
    """(result dtype, working dtype): the floating dtype of the arrays (targets take the logits'
    dtype), the namespace's default float for integers and bools; float16/bfloat16 work in float32."""
    floats = [v.dtype for v in values if hasattr(v, "dtype") and xp.isdtype(v.dtype, "real floating")]
    for v in values:
        if hasattr(v, "dtype") and not xp.isdtype(v.dtype, ("real floating", "integral", "bool")):
            raise TypeError(f"the kernels take real numbers (bool, integer or floating), got dtype {v.dtype}")
    if not floats:
        info = getattr(xp, "__array_namespace_info__", None)
        dtype = info().default_dtypes()["real floating"] if info else xp.float64
    else:
        dtype = floats[0] if len(floats) == 1 else xp.result_type(*floats)
    return dtype, (xp.float32 if xp.finfo(dtype).bits < 32 else dtype)


def prepare(xp, values, shape, work):
    """Each value as an array of ``work`` dtype on the first array's device, broadcast to ``shape``."""
    dev = _device(xp, next(v for v in values if kind(v) is not None))
    out = []
    for v in values:
        v = xp.asarray(v, device=dev) if kind(v) is None else v
        if v.dtype != work:
            v = xp.astype(v, work)
        out.append(xp.broadcast_to(v, shape) if tuple(v.shape) != tuple(shape) else v)
    return out, dev


def call(fn, values, shape, *, library, xp=None, check_rows=None, result_shape=None):
    """``fn(*values, n, xp, ops)`` of ``_generated_xp`` on the arrays' namespace: the result in
    their dtype, shape ``result_shape`` (default ``shape``). ``check_rows``: the pairing's name when
    its targets (the second value) must sum to 1 over the last axis."""
    xp = xp or namespace(*values)
    dtype, work = dtypes(xp, *values)
    arrays, dev = prepare(xp, values, shape, work)
    ops = Ops(xp, work, dev, _special_of(library), _special_of(library, LOG_NDTR, FALLBACK_LOG_NDTR))
    out = fn(*arrays, shape[-1], xp, ops)
    want = tuple(shape if result_shape is None else result_shape)
    if isinstance(out, (int, float)):  # a constant (identity' = 1)
        out = xp.full(want, float(out), dtype=work, device=dev)
    elif tuple(out.shape) != want or out is arrays[0]:  # a view, or the input itself (identity)
        out = xp.broadcast_to(out, want) * 1.0  # a new array of its own (x * 1 is x exactly, -0 and nan too)
    if check_rows is not None:
        out = _checked_rows(xp, out, values[1], shape, check_rows)
    return xp.astype(out, dtype) if out.dtype != dtype else out


def _checked_rows(xp, out, y, shape, pairing):
    """The targets' rows summed to 1 within their rounding (``checks._sum_tolerance``), or a
    ``ValueError`` naming the first row that does not; traced values (``jax.jit``): nan rows."""
    if kind(y) is None:
        y = xp.asarray(y, device=_device(xp, out))
    if not xp.isdtype(y.dtype, "real floating"):
        y = xp.astype(y, out.dtype)
    n = shape[-1]
    eps = float(xp.finfo(y.dtype).eps)
    slack = float(_sum_tolerance(eps, n)) + (16 + math.log2(n)) * eps
    sums = xp.sum(y, axis=-1, keepdims=True)
    bad = ~(xp.abs(sums - 1.0) <= slack)
    try:
        off = bool(xp.any(bad))
    except Exception as err:  # a tracer (jax.jit): no value to raise on
        if "Tracer" not in type(err).__name__ and "Concretization" not in type(err).__name__:
            raise
        nan = xp.asarray(math.nan, dtype=out.dtype, device=_device(xp, out))
        return xp.where(bad if out.ndim == len(shape) else bad[..., 0], nan, out)
    if off:
        _check_sums_to_one(to_numpy(y), tuple(shape), pairing)
    return out


def unbroadcast(grad, shape):
    """grad summed over the axes that broadcasting added or stretched, back to ``shape`` (a VJP's last step)."""
    xp = namespace(grad)
    lead = grad.ndim - len(shape)
    if lead:
        grad = xp.sum(grad, axis=tuple(range(lead)))
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return xp.sum(grad, axis=stretched, keepdims=True) if stretched else grad
