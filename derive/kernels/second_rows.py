"""Row primitives of the second-order kernels (NumPy, in place; see ``derive.kernels.rows``).

>>> import numpy as np
>>> softmax_complement(np.array([[40.0, 0.0]]), np.empty((1, 2)))
array([[4.24835426e-18, 1.00000000e+00]])
"""

from __future__ import annotations

import numpy as np

from derive.kernels.rows import _full, _off_top

__all__ = ["softmax_complement", "softmax_centered", "softmax_balance"]


def softmax_complement(z, out, empty=np.empty):
    """1 - softmax(z) over the last axis: 1 - a_k off the top class (a_k <= 1/2 there, no cancellation),
    sum_{k != t} a_k at the top class t (1 - a_t is 0 in floating point once a_t rounds to 1). ``out`` may be z."""
    z = _full(z, out.shape)
    idx, e, rest = _off_top(z, empty(out.shape, out.dtype))  # e_k = e^{z_k - z_t}, e_t = 0
    total = 1.0 + rest
    np.divide(e, total, out=out)  # a_k off the top, 0 at the top
    np.subtract(1.0, out, out=out)
    np.put_along_axis(out, idx, rest / total, axis=-1)
    return out


def softmax_centered(z, g, out, empty=np.empty):
    """g - sum(a g), a = softmax(z), as (g_j - g_t) + T, T = sum_{k != t} a_k (g_t - g_k) around the top class t:
    never g_t - a_t g_t (its 1 - a_t rounds to 0). ``rows.softmax_vjp`` is a times this. ``out`` may be g."""
    z, g = _full(z, out.shape), _full(g, out.shape)
    idx, e, rest = _off_top(z, empty(out.shape, out.dtype))
    g_top = np.take_along_axis(g, idx, axis=-1).copy()
    np.subtract(g, g_top, out=out)
    e *= out  # a_k (g_k - g_t) (1 + rest), 0 at the top
    out -= np.sum(e, axis=-1, keepdims=True) / (1.0 + rest)
    return out


def softmax_balance(z, out, empty=np.empty):
    """1 - 2 softmax(z)_j = (sum_{k != j, u} e_k + (e_u - e_j)) / sum e, u the largest other unit, e_u - e_j as
    e_j expm1(z_u - z_j) where |z_u - z_j| < 1 (1 - 2 a_0 at [1e-8, -1e-8] is -tanh(1e-8) = -1e-8; 1 - 2 a_0
    keeps 8 of 16 digits). Every other term is >= 0 unless j is the top: no cancellation but the row's own."""
    z = _full(z, out.shape)
    order = np.argsort(z, axis=-1)
    top, second = order[..., -1:], order[..., -2:-1] if z.shape[-1] > 1 else order[..., -1:]
    idx = np.broadcast_to(np.arange(z.shape[-1]), z.shape)
    u = np.where(idx == top, second, top)  # the largest unit other than j
    with np.errstate(over="ignore"):  # a difference past the float range is +-inf: e^-inf = 0, and not near
        e = np.exp(z - np.take_along_axis(z, top, axis=-1))
        gap = np.take_along_axis(z, u, axis=-1) - z
    total = np.sum(e, axis=-1, keepdims=True)
    e_u = np.take_along_axis(e, u, axis=-1)
    near = np.abs(gap) < 1
    diff = np.where(near, e * np.expm1(np.where(near, gap, 0.0)), e_u - e)
    below = e.copy()  # the sum without the top two, summed as it is: for j = t or s it is all of sum_{k != j, u}
    np.put_along_axis(below, top, 0.0, axis=-1)
    np.put_along_axis(below, second, 0.0, axis=-1)
    np.copyto(out, np.sum(below, axis=-1, keepdims=True))
    others = (idx != top) & (idx != second)  # there total - e_t - e_j, and e_t - e_j >= e_t - e_s dominates
    np.copyto(out, np.maximum(total - np.take_along_axis(e, top, axis=-1) - e, 0.0), where=others)
    out += diff
    out /= total
    return out
