"""What each benchmark row times: the derive kernel, PyTorch CPU, hand-written NumPy, the memory floor.

    rows()                       # (activation, loss) pairings: each activation with quadratic,
                                 # sigmoid with each loss, softmax with each loss (from the catalogue)
    candidates(act, loss, what, z, y)   # {"derive", "torch", "hand", "floor"}: callables of no arguments

- torch: what a user calls. ``what="loss"``: the forward pass per sample (``F.*`` losses with
  reduction "none" summed over the last axis; the fused ``F.binary_cross_entropy_with_logits``
  and ``F.cross_entropy`` from the logits for sigmoid + bce and softmax + cce; "cce[index]": class-index
  targets, ``F.cross_entropy(z, t)`` with an integer t per row). ``what="delta"``:
  forward and backward of the summed loss through autograd (the same ``F.*``, reduction "sum"),
  delta = z.grad.
  Losses without an ``F.*`` form are written from ``torch`` functions (cce with probability
  targets, log_cosh as log(cosh), hinge as relu(1 - y a)); F.poisson_nll_loss with eps=0 (its
  default adds 1e-8 to a).
- hand: the NumPy one writes by hand, one line per activation (f, f') and per loss (l, dl/da),
  composed (softmax: a (g - sum(a g))); sigmoid + bce and softmax + cce from the logits
  (logaddexp, max-shifted log-sum-exp), the stable forms. Single-threaded, as NumPy is.
- floor: the bytes the kernel must move, as one NumPy pass over the same blocks and threads
  (``derive.kernels.blocks``): delta reads z and y and writes z's shape (``np.add(z, y)``); the
  loss reads z and y and writes one value per row.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sps

from derive import kernels
from derive.kernels import _generated as gen
from derive.kernels import class_index
from derive.kernels.blocks import evaluate

INDEX = "[index]"  # a loss name's suffix: class-index targets (an integer per row) instead of rows

# --- hand-written NumPy: activation (f, f'), loss (l, dl/da); reduced over the last axis ----------


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _phi(z):
    return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


HAND_ACT = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "sigmoid": (_sigmoid, lambda z: (lambda s: s * (1 - s))(_sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1, 0.01).astype(z.dtype)),
    "softplus": (lambda z: np.logaddexp(0, z), _sigmoid),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))), lambda z: np.where(z > 0, 1, np.exp(np.minimum(z, 0)))),
    "silu": (lambda z: z * _sigmoid(z), lambda z: (lambda s: s * (1 + z * (1 - s)))(_sigmoid(z))),
    "gelu": (lambda z: z * sps.ndtr(z), lambda z: sps.ndtr(z) + z * _phi(z)),
    "mish": (lambda z: z * np.tanh(np.logaddexp(0, z)),
             lambda z: (lambda t: t + z * _sigmoid(z) * (1 - t * t))(np.tanh(np.logaddexp(0, z)))),
    "selu": (lambda z: SELU[1] * np.where(z > 0, z, SELU[0] * np.expm1(np.minimum(z, 0))),
             lambda z: SELU[1] * np.where(z > 0, 1, SELU[0] * np.exp(np.minimum(z, 0)))),
    "softsign": (lambda z: z / (1 + np.abs(z)), lambda z: 1 / (1 + np.abs(z)) ** 2),
    "hard_sigmoid": (lambda z: np.clip(z / 6 + 0.5, 0, 1), lambda z: np.where(np.abs(z) < 3, 1 / 6, 0).astype(z.dtype)),
    "swish": (lambda z: z * _sigmoid(z), lambda z: (lambda s: s * (1 + z * (1 - s)))(_sigmoid(z))),  # beta = 1
}
HAND_LOSS = {  # (elementwise loss, its derivative in a, "sum" or "mean" over the last axis)
    "quadratic": (lambda a, y: (a - y) ** 2 / 2, lambda a, y: a - y, "sum"),
    "sse": (lambda a, y: (a - y) ** 2, lambda a, y: 2 * (a - y), "sum"),
    "mse": (lambda a, y: (a - y) ** 2, lambda a, y: 2 * (a - y), "mean"),
    "bce": (lambda a, y: -(y * np.log(a) + (1 - y) * np.log1p(-a)), lambda a, y: (a - y) / (a * (1 - a)), "sum"),
    "cce": (lambda a, y: -y * np.log(a), lambda a, y: -y / a, "sum"),
    "l1": (lambda a, y: np.abs(a - y), lambda a, y: np.sign(a - y), "sum"),
    "huber": (lambda a, y: (lambda r: np.where(np.abs(r) <= 1, r * r / 2, np.abs(r) - 0.5))(a - y),
              lambda a, y: np.clip(a - y, -1, 1), "sum"),
    "kl": (lambda a, y: sps.xlogy(y, y) - y * np.log(a), lambda a, y: -y / a, "sum"),
    "poisson": (lambda a, y: a - y * np.log(a), lambda a, y: 1 - y / a, "sum"),
    "log_cosh": (lambda a, y: np.logaddexp(a - y, y - a) - np.log(2), lambda a, y: np.tanh(a - y), "sum"),
    "hinge": (lambda a, y: np.maximum(0, 1 - y * a), lambda a, y: np.where(y * a < 1, -y, 0), "sum"),
    "focal": (lambda a, y: -(y * (1 - a) ** 2 * np.log(a) + (1 - y) * a**2 * np.log1p(-a)),  # gamma = 2
              lambda a, y: -(y * ((1 - a) ** 2 / a - 2 * (1 - a) * np.log(a))
                             + (1 - y) * (2 * a * np.log1p(-a) - a**2 / (1 - a))), "sum"),
}


SELU = (1.6732632423543772, 1.0507009873554805)  # alpha, scale


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z):
    d = z - z.max(axis=-1, keepdims=True)
    return d - np.log(np.exp(d).sum(axis=-1, keepdims=True))


def _at_index(z, t):  # z[..., t] per row
    return np.take_along_axis(z, t[..., None], axis=-1)[..., 0]


def _index_delta(z, t):
    d = _softmax(z)
    np.put_along_axis(d, t[..., None], _at_index(d, t)[..., None] - 1, axis=-1)
    return d


HAND_FUSED = {  # from the logits: (loss, delta)
    ("sigmoid", "bce"): (lambda z, y: (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum(axis=-1),
                         lambda z, y: _sigmoid(z) - y),
    ("softmax", "cce"): (lambda z, y: -(y * _log_softmax(z)).sum(axis=-1), lambda z, y: _softmax(z) - y),
    ("softmax", "cce" + INDEX): (lambda z, t: -_at_index(_log_softmax(z), t), _index_delta),
}


def _reduce(v, how):
    return v.sum(axis=-1) if how == "sum" else v.mean(axis=-1)


def hand(act, loss, what):
    """The hand-written NumPy of ``what`` ("loss" or "delta") as fn(z, y)."""
    if (act, loss) in HAND_FUSED:
        return HAND_FUSED[(act, loss)][what == "delta"]
    l, dl, how = HAND_LOSS[loss]
    scale = (lambda z: 1) if how == "sum" else (lambda z: 1 / z.shape[-1])
    if act == "softmax":
        if what == "loss":
            return lambda z, y: _reduce(l(_softmax(z), y), how)

        def delta(z, y):
            a = _softmax(z)
            g = dl(a, y) * scale(z)
            return a * (g - (a * g).sum(axis=-1, keepdims=True))

        return delta
    f, df = HAND_ACT[act]
    if what == "loss":
        return lambda z, y: _reduce(l(f(z), y), how)
    return lambda z, y: dl(f(z), y) * df(z) * scale(z)


# --- PyTorch: F.* as a user calls them -------------------------------------------------------------


def _torch_tables():
    import torch
    import torch.nn.functional as F

    def red(v, r):  # per sample (sum over the last axis), or the total
        return v if v.ndim == 0 else (v.sum() if r == "sum" else v.sum(-1))

    def el(r):
        return "sum" if r == "sum" else "none"

    act = {
        "identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "softplus": F.softplus, "elu": F.elu,
        "silu": F.silu, "gelu": F.gelu, "softmax": lambda z: torch.softmax(z, -1),
        "mish": F.mish, "selu": F.selu, "softsign": F.softsign, "hard_sigmoid": F.hardsigmoid, "swish": F.silu,
    }
    loss = {  # (a, y, reduction "none" | "sum")
        "quadratic": lambda a, y, r: red(F.mse_loss(a, y, reduction=el(r)), r) / 2,
        "sse": lambda a, y, r: red(F.mse_loss(a, y, reduction=el(r)), r),
        "mse": lambda a, y, r: red(F.mse_loss(a, y, reduction=el(r)), r) / a.shape[-1],
        "bce": lambda a, y, r: red(F.binary_cross_entropy(a, y, reduction=el(r)), r),
        "cce": lambda a, y, r: red(-(y * torch.log(a)), r),
        "l1": lambda a, y, r: red(F.l1_loss(a, y, reduction=el(r)), r),
        "huber": lambda a, y, r: red(F.huber_loss(a, y, reduction=el(r), delta=1.0), r),
        "kl": lambda a, y, r: red(F.kl_div(torch.log(a), y, reduction=el(r)), r),
        "poisson": lambda a, y, r: red(F.poisson_nll_loss(a, y, log_input=False, eps=0.0, reduction=el(r)), r),
        "log_cosh": lambda a, y, r: red(torch.log(torch.cosh(a - y)), r),  # no F.* form
        "hinge": lambda a, y, r: red(F.relu(1 - y * a), r),
        "focal": lambda a, y, r: red(-(y * (1 - a) ** 2 * torch.log(a) + (1 - y) * a**2 * torch.log1p(-a)), r),
    }
    fused = {  # from the logits (z, y, reduction)
        ("sigmoid", "bce"): lambda z, y, r: red(F.binary_cross_entropy_with_logits(z, y, reduction=el(r)), r),
        ("softmax", "cce"): lambda z, y, r: F.cross_entropy(z, y, reduction=r),
        ("softmax", "cce" + INDEX): lambda z, t, r: F.cross_entropy(z, t, reduction=r),
    }
    return act, loss, fused


def torch_fn(act, loss, what, z, y):
    """PyTorch's ``what`` on tensors sharing z's and y's memory, as fn()."""
    import torch

    t_act, t_loss, fused = _torch_tables()
    cost = fused.get((act, loss)) or (lambda z, y, r: t_loss[loss](t_act[act](z), y, r))
    tz, ty = torch.from_numpy(z), torch.from_numpy(y)
    if what == "loss":
        def forward():
            with torch.no_grad():
                return cost(tz, ty, "none")

        return forward
    tz = tz.clone().requires_grad_()

    def backward():
        tz.grad = None
        cost(tz, ty, "sum").backward()
        return tz.grad

    return backward


# --- the memory floor ----------------------------------------------------------------------------


def _moves_delta(z, y, shape, dtype, empty=np.empty, out=None):
    return np.add(z, y, out=empty(shape, dtype) if out is None else out)


def _moves_loss(z, y, shape, dtype, empty=np.empty):
    return np.add(z, y, out=empty(shape, dtype))[..., 0]


def floor(what, z, y):
    """One pass moving the bytes ``what`` must move, blocked and threaded as the kernels are."""
    if y.shape != z.shape:  # class indices: reads z (and one index per row)
        y = z
    if what == "delta":
        return lambda: evaluate(_moves_delta, (z, y), z.shape, z.dtype, rows=False, elementwise=True)
    return lambda: evaluate(_moves_loss, (z, y), z.shape, z.dtype, rows=True, elementwise=False)


# --- rows and inputs -----------------------------------------------------------------------------


def rows(quick=False):
    """(activation, loss) pairings: every elementwise activation with quadratic, sigmoid with every
    loss, softmax with every loss, gelu + huber, and class-index targets ("cce[index]", ``class_index.PAIRS``);
    ``quick``: the pairings users compare first. Names without a hand-written form here (added to the
    catalogue later, user definitions) are left out: ``left_out()`` names them."""
    indexed = [(a, lo + INDEX) for a, lo in sorted(class_index.PAIRS)]
    first = [("sigmoid", "bce"), ("tanh", "quadratic"), ("gelu", "huber"), ("softmax", "cce")]
    if quick:
        return first + indexed
    elementwise = [a for a, (f, df) in gen.ACTIVATIONS.items() if df is not None and a in HAND_ACT]
    out = [(a, "quadratic") for a in elementwise]
    out += [(a, lo) for a in ("sigmoid", "softmax") for lo in gen.LOSSES if (a, lo) not in out and lo in HAND_LOSS]
    out += [p for p in first if p not in out]  # gelu + huber: issue 15's table
    return [p for p in out if p in gen.PAIRS] + indexed


def left_out():
    """The catalogue's activations and losses that ``rows`` leaves out (no hand-written form here)."""
    return [a for a in gen.ACTIVATIONS if a not in HAND_ACT and a != "softmax"] + [lo for lo in gen.LOSSES if lo not in HAND_LOSS]


def inputs(act, loss, shape, dtype, rng):
    """Logits z ~ N(0, 5^2); targets in the loss's domain: rows summing to 1 (cce), [0, 1]
    (losses on probabilities), labels +-1 (hinge), else N(0, 1)."""
    z = rng.normal(0, 5, shape).astype(dtype)
    if loss.endswith(INDEX):  # a class per row, as F.cross_entropy takes them
        return z, rng.integers(0, shape[-1], shape[:-1])
    if loss == "hinge":
        return z, rng.choice(np.array([-1.0, 1.0], dtype), shape)
    if (act, loss) in gen.TARGETS_SUM_TO_ONE:
        y = rng.uniform(0, 1, shape).astype(dtype)
        y /= y.sum(axis=-1, keepdims=True)
    elif act in ("sigmoid", "softmax") or loss in ("bce", "cce"):
        y = rng.uniform(0, 1, shape).astype(dtype)
    else:
        y = rng.normal(0, 1, shape).astype(dtype)
    return z, y


def candidates(act, loss, what, z, y):
    """{"derive", "torch", "hand", "floor"}: fn() for each."""
    k = kernels.get(act, loss.removesuffix(INDEX))
    derive_fn, hand_fn = getattr(k, what), hand(act, loss, what)
    return {"derive": lambda: derive_fn(z, y), "torch": torch_fn(act, loss, what, z, y),
            "hand": _quiet(lambda: hand_fn(z, y)), "floor": floor(what, z, y)}


def _quiet(fn):
    """fn with NumPy's floating-point warnings off (hand-written compositions overflow at saturation)."""

    def call():
        with np.errstate(all="ignore"):
            return fn()

    return call
