"""Differentiable losses for PyTorch whose backward pass is the derived, proved-stable delta.

    f = loss_fn("softmax", "cce")      # f(z, y): the per-sample loss, shape z.shape[:-1]
    f(z, y).mean().backward()          # z.grad = delta = dC/dz, scaled by the incoming gradient

A ``torch.autograd.Function``: forward is ``kernels.get(activation, loss).loss``, backward is
``g[..., None] * delta(z, y)`` for the incoming per-sample gradient g (summed back over the axes
z was broadcast along). The targets are not differentiated: a ``y`` that requires grad is refused.
Needs ``pip install 'derive[torch]'``.

>>> import torch
>>> z = torch.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
>>> loss_fn("softmax", "cce")(z, torch.tensor([[0.0, 1.0, 0.0]])).sum().backward()
>>> z.grad
tensor([[ 1., -1.,  0.]])
"""

from __future__ import annotations

import torch

from derive import kernels
from derive.kernels.xp import unbroadcast

__all__ = ["loss_fn"]


def loss_fn(activation: str, loss: str):
    """f(z, y) -> per-sample loss C(z, y) (shape z.shape[:-1]) whose backward is the derived delta."""
    kernel = kernels.get(activation, loss)

    class DerivedLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, y):
            ctx.save_for_backward(z, y)
            return kernel.loss(z, y)

        @staticmethod
        def backward(ctx, grad):
            z, y = ctx.saved_tensors
            delta = kernel.delta(z, y)  # a new tensor: scaled in place
            if not (all(s == 0 for s in grad.stride()) and bool(grad.reshape(-1)[0] == 1)):  # not loss.sum()'s ones
                delta = delta.mul_(grad[..., None]) if delta.dtype == grad.dtype else delta * grad[..., None]
            return unbroadcast(delta, z.shape).to(z.dtype), None

    DerivedLoss.__name__ = DerivedLoss.__qualname__ = f"DerivedLoss_{activation}_{loss}"

    def f(z, y):
        if isinstance(y, torch.Tensor) and y.requires_grad:
            raise ValueError(f"{activation} + {loss}: the targets y are not differentiated; pass y.detach()")
        if not isinstance(y, torch.Tensor):
            y = torch.as_tensor(y, device=z.device)  # a Python number or list of targets
        return DerivedLoss.apply(z, y)

    f.__name__ = f"{activation}_{loss}_loss"
    f.__doc__ = f"Per-sample {loss} loss of {activation}(z) against y; backward: the derived delta."
    return f
