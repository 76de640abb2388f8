"""Second order of a pairing's kernel: Hessian, Hessian-vector product, its diagonal, and the GGN square root.

    k.hessian(z, y)        H_jk = d^2 C / dz_j dz_k per sample: shape z.shape + (n,)
    k.hvp(z, y, v)         H v per sample, shape of z, from the pieces below: no n x n matrix
    k.hessian_diag(z, y)   H_jj, shape of z (its own stable expression)
    k.sqrt_hessian(z)      S with S S^T = H (canonical pairings, delta = a - y: H is the Gauss-Newton
                           matrix, independent of y); softmax + cce: S = diag(sqrt a) - a sqrt(a)^T, as
                           BackPACK's ``sqrt_hessian``; S is not symmetric (S S^T = H, not S^2)

H = diag(d) + sum_r u_r w_r^T, each piece a generated function (``_generated_second``, from
``Derivation.hessian``). Elementwise activations: H is diagonal. Where the loss has a kink (l1 at
a = y, relu at 0) the kernels give the Hessian off the kink (its DiracDelta dropped), as autograd's
double backward does. NumPy arrays (and anything ``np.asarray`` reads) only. A kernel bound to other
parameter values (elu's alpha = 0.5) evaluates ``PARAMETRIC_SECOND``'s diagonal with them, or refuses.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from derive.kernels import rows, second_rows
from derive.kernels.blocks import evaluate
from derive.kernels.checks import _array, _check_sums_to_one, _compute_dtype, _units
from derive.kernels.xp import foreign

__all__ = ["SecondOrder"]


def _table():
    from derive.kernels import _generated_second  # on first use: the import of derive.kernels stays cheap

    return _generated_second


class SecondOrder:
    """The second-order methods of ``Kernel`` (it gives ``activation``, ``loss_name``, ``_shape``, ``_sum_to_one``)."""

    def _second(self, method):
        key = (self.activation, self.loss_name)
        table = _table()
        if key in table.SECOND:
            printed, given = table.PARAMETERS.get(key, {}), getattr(self, "values", None) or {}  # a bound kernel's
            if any(name in given and float(given[name]) != value for name, value in printed.items()):
                fn = table.PARAMETRIC_SECOND.get(key)  # the diagonal with the parameters as keywords
                if fn is None:
                    raise NotImplementedError(f"{method} of {self.activation} + {self.loss_name} is generated for "
                                              f"the default parameters {printed} only, got {given}")
                fn = partial(fn, **given)
                return ("lowrank", fn, fn, (), None)
            return table.SECOND[key]
        why = table.MISSING.get(key, "it was defined after the kernels were generated (python -m derive.compile)")
        raise NotImplementedError(f"{method} of {self.activation} + {self.loss_name} is not available: {why}; "
                                  f"pairings with second-order kernels: {len(table.SECOND)}")

    def _second_args(self, method, z, y, **more):
        lib = foreign({"z": z, "y": y, **more})
        if lib is not None:
            raise TypeError(f"{method} takes NumPy arrays (the second-order kernels are NumPy-only), got {lib} "
                            f"arrays; convert with np.asarray, or use the first-order methods, which take any "
                            "array API namespace")
        dtype, work = _compute_dtype(z, y, *more.values())
        z, y = _array(z, "z"), _array(y, "y")
        _units(z)
        shape = self._shape(z, y)
        if self._sum_to_one:  # the derivation used sum_i y_i = 1
            _check_sums_to_one(y, shape, f"{self.activation} + {self.loss_name}")
        return z, y, shape, dtype, work

    @staticmethod
    def _run_rows(fn, z, y, shape, work):
        return evaluate(fn, (z, y), shape, work, rows=False, elementwise=False)

    def hessian_diag(self, z, y):
        """H_jj = d^2 C / dz_j^2 per sample: the shape of z (broadcast with y)."""
        kind, *pieces = self._second("hessian_diag")
        z, y, shape, dtype, work = self._second_args("hessian_diag", z, y)
        if kind == "vjp":
            return _Softmax(self, z, y, shape, work, *pieces).diagonal().astype(dtype, copy=False)
        return self._run_rows(pieces[0], z, y, shape, work).astype(dtype, copy=False)

    def hessian(self, z, y):
        """H_jk = d^2 C / dz_j dz_k per sample: shape z.shape + (n,), n the units (last axis); symmetric.
        Elementwise activations: diag(hessian_diag). Softmax: diag(d) + sum_r u_r w_r^T, or
        J diag(l2) J + diag(delta) (I - 1 a^T) - a delta^T; its diagonal is hessian_diag's."""
        kind, *pieces = self._second("hessian")
        z, y, shape, dtype, work = self._second_args("hessian", z, y)
        if kind == "vjp":
            return _Softmax(self, z, y, shape, work, *pieces).matrix().astype(dtype, copy=False)
        diagonal, _, terms, _ = pieces
        return _assemble(self._run_rows(diagonal, z, y, shape, work),
                         [(self._run_rows(u, z, y, shape, work), self._run_rows(w, z, y, shape, work)) for u, w in terms],
                         ).astype(dtype, copy=False)

    def hvp(self, z, y, v):
        """H v per sample (the Hessian-vector product), shape of z, never forming H: low rank,
        H_jj v_j + sum_r u_rj sum_{k != j} w_rk v_k (the sums left one out: ``_leave_one_out``); softmax
        through J: J (l2 J v) + delta (v - a.v) - a (delta . v), J v by ``rows.softmax_vjp``.
        ``v`` has the shape of z and y broadcast (or broadcasts to it)."""
        kind, *pieces = self._second("hvp")
        z, y, shape, dtype, work = self._second_args("hvp", z, y, v=v)
        v = _array(v, "v")
        if not _broadcasts(shape, v.shape) or np.broadcast_shapes(shape, v.shape) != shape:
            raise ValueError(f"shape mismatch: v has shape {v.shape} and z, y broadcast to {shape}; v must have "
                             f"that shape (one direction per sample) or broadcast to it")
        v = v.astype(work, copy=False)
        if kind == "vjp":
            return _Softmax(self, z, y, shape, work, *pieces).hvp(v).astype(dtype, copy=False)
        diagonal, _, terms, _ = pieces
        out = self._run_rows(diagonal, z, y, shape, work) * v
        for u, w in terms:
            out += self._run_rows(u, z, y, shape, work) * _leave_one_out(self._run_rows(w, z, y, shape, work) * v)
        return out.astype(dtype, copy=False)

    def sqrt_hessian(self, z):
        """S with S S^T = H per sample, shape z.shape + (n,) (BackPACK's ``sqrt_hessian``): canonical pairings
        only (delta = a - y; H does not depend on y). Elementwise: diag(sqrt h); softmax + cce:
        diag(sqrt a) - a sqrt(a)^T."""
        kind, *pieces = self._second("sqrt_hessian")
        sqrt = pieces[-1] if kind == "lowrank" else None
        if sqrt is None:
            canonical = sorted(f"{a} + {lo}" for (a, lo), p in _table().SECOND.items() if p[0] == "lowrank" and p[-1])
            raise ValueError(f"sqrt_hessian is defined for the canonical pairings (delta = a - y, whose Hessian is "
                             f"the Gauss-Newton matrix, independent of y); {self.activation} + {self.loss_name} is "
                             f"not one. Canonical: {', '.join(canonical)}")
        sqrt_diagonal, terms = sqrt
        lib = foreign({"z": z})
        if lib is not None:
            raise TypeError(f"sqrt_hessian takes NumPy arrays (the second-order kernels are NumPy-only), got {lib}")
        dtype, work = _compute_dtype(z)
        z = _array(z, "z")
        _units(z)
        shape = self._shape(z, 0.0)
        y = np.zeros((), work)  # the canonical Hessian does not read y
        pieces = [(self._run_rows(u, z, y, shape, work), self._run_rows(w, z, y, shape, work)) for u, w in terms]
        return _assemble(self._run_rows(sqrt_diagonal, z, y, shape, work), pieces).astype(dtype, copy=False)


def _broadcasts(shape, other):
    try:
        np.broadcast_shapes(shape, other)
    except ValueError:
        return False
    return True


class _Softmax:
    """H = J diag(l2) J + diag(delta) (I - 1 a^T) - a delta^T of a softmax pairing at (z, y): a = softmax(z),
    c = 1 - a, J = diag(a) - a a^T, l2 = d^2C/da_j^2, delta the first-order kernel's (stable: its own rules)."""

    def __init__(self, kernel, z, y, shape, work, l2):
        self.z = np.broadcast_to(z, shape).astype(work, copy=False)
        self.a = rows.softmax(self.z, np.empty(shape, work))
        self.c = second_rows.softmax_complement(self.z, np.empty(shape, work))
        self.l2 = kernel._run_rows(l2, z, y, shape, work)
        self.delta = np.asarray(kernel.delta(z.astype(work, copy=False), y), work)

    def diagonal(self):
        """a_j^2 (c_j^2 l2_j + sum_{i != j} a_i^2 l2_i) + delta_j (1 - 2 a_j)."""
        a, c = self.a, self.c
        balance = second_rows.softmax_balance(self.z, np.empty(a.shape, a.dtype))
        return a * a * (c * c * self.l2 + _leave_one_out(a * a * self.l2)) + self.delta * balance

    def matrix(self):
        J = rows.softmax_jacobian(self.z)
        n = J.shape[-1]
        H = J @ (self.l2[..., :, None] * J) + self.delta[..., :, None] * (np.eye(n) - self.a[..., None, :])
        H -= self.a[..., :, None] * self.delta[..., None, :]
        diagonal = self.diagonal()
        H[..., np.arange(n), np.arange(n)] = diagonal
        if n == 2:  # rows sum to 0 (C(z + t 1) = C(z)): H_01 = -H_00, free of a_1 delta_0 + a_0 delta_1's cancellation
            H[..., 0, 1] = H[..., 1, 0] = -(diagonal[..., 0] + diagonal[..., 1]) / 2
        return H

    def hvp(self, v):
        """J (l2 J v) + delta (v - a.v) - a (delta . v), J v = a (v - a.v) by ``rows.softmax_vjp``."""
        v = np.broadcast_to(v, self.z.shape)
        if v.shape[-1] == 2:  # rows sum to 0: (H v)_j = H_jj (v_j - v_k), as in ``matrix``
            diagonal = self.diagonal()
            return (diagonal[..., 0] + diagonal[..., 1])[..., None] / 2 * (v - v[..., ::-1])
        p = rows.softmax_vjp(self.z, v, np.empty(self.z.shape, self.z.dtype))
        out = rows.softmax_vjp(self.z, self.l2 * p, np.empty(p.shape, p.dtype))
        out += self.delta * second_rows.softmax_centered(self.z, v, np.empty(p.shape, p.dtype))
        out -= self.a * np.sum(self.delta * v, axis=-1, keepdims=True)
        return out


def _leave_one_out(x):
    """sum_{k != j} x_k for every j of the last axis: the sum without the largest |x_t| (exact for j = t,
    where S - x_t would cancel: softmax + cce at [37, -37] has H v = a_0 a_1 (v_0 - v_1) = 1e-32 v),
    plus x_t - x_j elsewhere (an error below eps sum_k |x_k|, within the product's own rounding)."""
    top = np.argmax(np.abs(x), axis=-1)[..., None]
    x_top = np.take_along_axis(x, top, axis=-1)
    others = x.copy()
    np.put_along_axis(others, top, 0.0, axis=-1)
    rest = np.sum(others, axis=-1, keepdims=True)
    out = rest + x_top - x
    np.put_along_axis(out, top, rest, axis=-1)
    return out


def _assemble(diagonal, terms):
    """sum_r u_r w_r^T off the diagonal, ``diagonal`` on it: shape diagonal.shape + (n,)."""
    n = diagonal.shape[-1]
    out = np.empty((*diagonal.shape, n), diagonal.dtype)
    if not terms:
        out.fill(0.0)
    for r, (u, w) in enumerate(terms):  # the first product written in place: no zero fill, no temporary
        if r == 0:
            np.multiply(u[..., :, None], w[..., None, :], out=out)
        else:
            out += u[..., :, None] * w[..., None, :]
    out[..., np.arange(n), np.arange(n)] = diagonal
    return out
