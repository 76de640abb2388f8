"""Differentiable losses for JAX whose gradient is the derived, proved-stable delta.

    f = loss_fn("sigmoid", "bce")      # f(z, y): the per-sample loss, shape z.shape[:-1]
    jax.grad(lambda z: f(z, y).mean())(z)   # = delta / batch size, under jit and vmap too

A ``jax.custom_vjp``: the primal is ``kernels.get(activation, loss).loss``, the cotangent of z
is ``g[..., None] * delta(z, y)`` for the incoming per-sample cotangent g (summed back over the
axes z was broadcast along). The targets are not differentiated: their cotangent is zero.
Under ``jax.jit`` the softmax + cce target check cannot raise: rows it refuses come back nan.
Needs ``pip install 'derive[jax]'``.

>>> import jax.numpy as jnp
>>> float(loss_fn("sigmoid", "bce")(jnp.array([[0.0]]), jnp.array([[1.0]]))[0])  # log 2
0.6931471...
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from derive import kernels
from derive.kernels.xp import unbroadcast

__all__ = ["loss_fn"]


def loss_fn(activation: str, loss: str):
    """f(z, y) -> per-sample loss C(z, y) (shape z.shape[:-1]) whose VJP is the derived delta."""
    kernel = kernels.get(activation, loss)

    @jax.custom_vjp
    def f(z, y):
        return kernel.loss(z, y)

    def forward(z, y):
        return kernel.loss(z, y), (z, y)

    def backward(saved, grad):
        z, y = saved
        dz = unbroadcast(grad[..., None] * kernel.delta(z, y), jnp.shape(z)).astype(jnp.result_type(z))
        return dz, jnp.zeros_like(y)

    f.defvjp(forward, backward)
    f.__name__ = f"{activation}_{loss}_loss"
    f.__doc__ = f"Per-sample {loss} loss of {activation}(z) against y; VJP: the derived delta."
    return f
