"""The public kernel objects: ``Kernel`` (one pairing) and ``KernelActivation``.

They check and convert arguments (``checks``), then run a generated function
(``_generated``) through the blocked executor (``blocks``).
"""

from __future__ import annotations

import math

import numpy as np

from derive.kernels import class_index
from derive.kernels.blocks import direct, evaluate
from derive.kernels.checks import _array, _broadcast, _check_sums_to_one, _compute_dtype, _RowOffOne, _screen_sums_to_one, _units
from derive.kernels.rows import softmax_jacobian
from derive.kernels.second import SecondOrder
from derive.kernels.xp import foreign, host_views


# NumPy arrays of these dtypes (native byte order) are computed as they are: the fast path's test
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _other(lib, on_dask, on_xp):
    """A call on non-NumPy arrays: Dask chunk by chunk (``chunked``), the others through the
    functional kernels of ``_generated_xp`` on their own namespace (``xp``)."""
    from derive.kernels import _generated_xp, chunked, xp

    return on_dask(chunked) if lib == "dask" else on_xp(xp, _generated_xp)


class Kernel(SecondOrder):
    """loss(z, y), delta(z, y), grad_b(z, y), grad_w(x, z, y) of one activation + loss pairing; second order
    (``derive.kernels.second``): hessian(z, y), hvp(z, y, v), hessian_diag(z, y), sqrt_hessian(z)."""

    def __init__(self, activation, loss, loss_fn, delta_fn, targets_sum_to_one=False, min_units=1, elementwise=()):
        self.activation, self.loss_name = activation, loss
        self._loss, self._delta = loss_fn, delta_fn
        self._elementwise = elementwise  # the generated functions that may be cut inside a row
        self._sum_to_one, self._min_units = targets_sum_to_one, min_units

    def __repr__(self):
        return f"<kernel {self.activation} + {self.loss_name}>"

    def _args(self, z, y):
        dtype, work = _compute_dtype(z, y)  # Python numbers take the arrays' dtype
        z, y = _array(z, "z"), _array(y, "y")
        _units(z)
        shape = self._shape(z, y)
        return z, y, shape, dtype, work

    def _foreign(self, lib, which, z, y):
        _units(z)
        shape = self._shape(z, y)

        def run(xp, generated):
            fn = generated.PAIRS[(self.activation, self.loss_name)][which == "delta"]
            check = f"{self.activation} + {self.loss_name}" if self._sum_to_one else None
            return xp.call(fn, (z, y), shape, library=lib, check_rows=check,
                           result_shape=shape[:-1] if which == "loss" else shape)

        def chunks(chunked):
            return chunked.pair(self, which, z, y, elementwise=self._pairs_elementwise(which))

        return _other(lib, chunks, run)

    def _pairs_elementwise(self, which):
        return (self._loss, self._delta)[which == "delta"] in self._elementwise

    def _shape(self, z, y):
        shape = _broadcast("z", z, "y", y)
        pairing = f"{self.activation} + {self.loss_name}"
        if shape[-1] == 0:
            raise ValueError(f"z and y broadcast to shape {shape}: the last axis holds the units and must not be empty")
        if shape[-1] < self._min_units:
            raise ValueError(
                f"{pairing} needs at least {self._min_units} units on the last axis, got shape {shape}: "
                "softmax of one unit is the constant 1, outside (0, 1) where the pairing is valid"
            )
        return shape

    def _evaluate(self, fn, z, y, rows):
        if (type(z) is np.ndarray and type(y) is np.ndarray and (dtype := z.dtype) is y.dtype and dtype in _FLOATS
                and (shape := z.shape) == y.shape and shape and shape[-1] >= self._min_units):
            if not self._sum_to_one and direct(z, y):
                return fn(z, y, shape, dtype)
            return self._run(fn, z, y, shape, dtype, dtype, rows)  # the common case: what _args would find
        if class_index.applies(self, z, y):  # integer y of shape z.shape[:-1]: a class per sample
            return class_index.evaluate_any(self, z, y, rows, lambda z, y: self._evaluate(fn, z, y, rows))
        lib = foreign({"z": z, "y": y})
        if lib is not None:
            host = host_views(lib, [z, y])
            if host is None:
                return self._foreign(lib, "loss" if rows else "delta", z, y)
            (z, y), wrap = host
            return wrap(self._evaluate(fn, z, y, rows))
        z, y, shape, dtype, work = self._args(z, y)
        return self._run(fn, z, y, shape, dtype, work, rows)

    def _run(self, fn, z, y, shape, dtype, work, rows):
        if not self._sum_to_one:
            out = evaluate(fn, (z, y), shape, work, rows=rows, elementwise=fn in self._elementwise)
            return out if dtype is work else out.astype(dtype, copy=False)
        try:  # the targets are checked block by block, in cache, in the same threads
            return evaluate(fn, (z, y), shape, work, rows=rows, elementwise=False,
                            check=_screen_sums_to_one).astype(dtype, copy=False)
        except _RowOffOne as found:
            off = found.args[0]
        _check_sums_to_one(y, shape, f"{self.activation} + {self.loss_name}", off=off)  # the whole y, to name the row

    def loss(self, z, y, reduction="none"):
        """C per sample: shape z.shape[:-1] (broadcast with y); ``reduction="sum"`` or ``"mean"``:
        their total or mean over the batch axes (a scalar array)."""
        _reduction(reduction)
        out = self._evaluate(self._loss, z, y, rows=True)
        if reduction == "none":
            return out
        total = _total(out, tuple(range(out.ndim)))
        return total / math.prod(out.shape) if reduction == "mean" else total

    def delta(self, z, y, reduction="none"):
        """delta = dC/dz, the shape of z (broadcast with y): per sample ("none", "sum": the gradient of
        the summed loss is the same), divided by the number of samples for ``reduction="mean"``."""
        _reduction(reduction)
        out = self._evaluate(self._delta, z, y, rows=False)
        return out / math.prod(out.shape[:-1]) if reduction == "mean" else out

    def grad_b(self, z, y, reduction="none"):
        """dC/db for z = W x + b: delta per sample ("none"); its total ("sum") or mean ("mean") over
        the batch axes, shape (n_out,): the gradient of the summed or mean loss for a shared b."""
        _reduction(reduction)
        d = self.delta(z, y)
        if reduction == "none":
            return d
        total = _total(d, tuple(range(d.ndim - 1)))
        return total / math.prod(d.shape[:-1]) if reduction == "mean" else total

    def grad_w(self, x, z, y, reduction="none"):
        """dC/dW = delta x^T per sample: shape z.shape[:-1] + (n_out, n_in); ``reduction="sum"`` or
        ``"mean"``: sum_b delta_b x_b^T (over the batch axes, as one matrix product) or its mean."""
        _reduction(reduction)
        lib = foreign({"x": x, "z": z, "y": y})
        if lib is None:
            x = _array(x, "x")
        _units(x, "x")
        self._grad_w_shapes(x, tuple(np.shape(z)) if class_index.applies(self, z, y) else _broadcast("z", z, "y", y))  # delta's shape, checked before any work
        d = self.delta(z, y)
        if reduction != "none":
            return _outer_total(d, x, reduction)
        xp = _space(d)
        return _astype(xp, d, _common_dtype(xp, d, x))[..., :, None] * _astype(xp, x, _common_dtype(xp, d, x))[..., None, :]


    @staticmethod
    def _grad_w_shapes(x, shape):
        try:
            np.broadcast_shapes(tuple(x.shape[:-1]), tuple(shape[:-1]))
        except ValueError:
            raise ValueError(
                f"shape mismatch: x has shape {tuple(x.shape)} and delta has shape {tuple(shape)}; "
                "their leading (sample) axes must broadcast together"
            ) from None


REDUCTIONS = ("none", "sum", "mean")


def _reduction(reduction):
    if not (isinstance(reduction, str) and reduction in REDUCTIONS):
        raise ValueError(f"reduction must be 'none' (per sample), 'sum' or 'mean' (over the batch axes), got {reduction!r}")


def _space(arr):
    """NumPy for NumPy arrays, else the array's namespace (``xp.namespace``)."""
    if foreign({"a": arr}) is None:
        return np
    from derive.kernels.xp import namespace

    return namespace(arr)


def _total(arr, axes):
    return _space(arr).sum(arr, axis=axes)


def _common_dtype(xp, d, x):
    """d's dtype with a floating x's promotion; integer and bool inputs x take d's dtype."""
    if hasattr(x.dtype, "kind"):  # NumPy dtypes: NumPy, Dask, JAX
        return np.result_type(d.dtype, x.dtype) if x.dtype.kind == "f" else d.dtype
    return xp.result_type(d.dtype, x.dtype) if xp.isdtype(x.dtype, "real floating") else d.dtype


def _astype(xp, v, dtype):
    if v.dtype == dtype:
        return v
    return v.astype(dtype) if hasattr(v, "astype") else xp.astype(v, dtype)


def _outer_total(d, x, reduction):
    """sum_b d_b x_b^T over the batch axes (d: (..., n), x: (..., m) broadcasting): (n, m), or its mean."""
    xp = _space(d)
    batch = np.broadcast_shapes(tuple(d.shape[:-1]), tuple(x.shape[:-1]))
    dtype = _common_dtype(xp, d, x)
    d, x = (_astype(xp, v, dtype) for v in (d, x))
    rows = math.prod(batch)
    d2 = xp.reshape(xp.broadcast_to(d, (*batch, d.shape[-1])), (rows, d.shape[-1]))
    x2 = xp.reshape(xp.broadcast_to(x, (*batch, x.shape[-1])), (rows, x.shape[-1]))
    total = xp.matmul(d2.T, x2)
    return total / rows if reduction == "mean" else total


class KernelActivation:
    """f(z) elementwise (softmax over the last axis), with f.derivative(z) or f.jacobian(z)."""

    def __init__(self, name, f, derivative, elementwise=()):
        self.name, self._f, self._df = name, f, derivative
        self._elementwise = elementwise

    def __repr__(self):
        return f"<activation {self.name}>"

    def _args(self, z):
        z = _array(z, "z")
        dtype, work = _compute_dtype(z)
        return z, dtype, work

    def _foreign(self, lib, method, z):
        host = host_views(lib, [z])
        if host is not None:
            (z,), wrap = host
            return wrap(getattr(self, method)(z))
        if method == "jacobian" or self._df is None:
            _units(z)
        fn = self._f if method == "__call__" else self._df

        def run(xp, generated):
            f, df = generated.ACTIVATIONS[self.name]
            shape = tuple(z.shape)
            if method == "jacobian":
                return xp.call(lambda z, n, xp, ops: ops.softmax_jacobian(z), (z,), shape, library=lib,
                               result_shape=(*shape, shape[-1]))
            return xp.call(f if method == "__call__" else df, (z,), shape, library=lib)

        def chunks(chunked):
            return chunked.activation(self, method, z, elementwise=fn in self._elementwise)

        return _other(lib, chunks, run)

    def __call__(self, z):
        if type(z) is np.ndarray and z.dtype in _FLOATS and z.shape and z.shape[-1] and direct(z):
            return self._f(z, z.shape, z.dtype)
        lib = foreign({"z": z})
        if lib is not None:
            return self._foreign(lib, "__call__", z)
        z, dtype, work = self._args(z)
        if self._df is None:
            _units(z)
        return evaluate(self._f, (z,), z.shape, work, rows=False,
                        elementwise=self._f in self._elementwise).astype(dtype, copy=False)

    def derivative(self, z):
        """f'(z) elementwise; softmax has a Jacobian instead (``jacobian``)."""
        if self._df is None:
            raise ValueError(f"{self.name} is not elementwise: use {self.name}.jacobian(z), shape (..., n, n)")
        if type(z) is np.ndarray and z.dtype in _FLOATS and z.shape and direct(z):
            return self._df(z, z.shape, z.dtype)
        lib = foreign({"z": z})
        if lib is not None:
            return self._foreign(lib, "derivative", z)
        z, dtype, work = self._args(z)
        return evaluate(self._df, (z,), z.shape, work, rows=False,
                        elementwise=self._df in self._elementwise).astype(dtype, copy=False)

    def jacobian(self, z):
        """d a_i / d z_j = a_i (delta_ij - a_j): shape (..., n, n); elementwise f: diag(f'(z))."""
        _units(z)  # a scalar has no units axis
        if self._df is not None:
            d = self.derivative(z)
            units = range(d.shape[-1])
            eye = np.equal.outer(units, units)  # of any kind: d's own kind multiplies it
            return d[..., :, None] * (eye if foreign({"d": d}) is None else _like(d, eye))
        lib = foreign({"z": z})
        if lib is not None:
            return self._foreign(lib, "jacobian", z)
        z, dtype, work = self._args(z)
        _units(z)
        return softmax_jacobian(z.astype(work, copy=False)).astype(dtype, copy=False)


def _like(d, eye):
    """The identity matrix as an array of d's kind, dtype and device."""
    if foreign({"d": d}) == "dask":
        import dask.array as da

        return da.asarray(eye.astype(d.dtype))
    from derive.kernels.xp import namespace, _device

    xp = namespace(d)
    return xp.asarray(eye, dtype=d.dtype, device=_device(xp, d))
