"""Hypothesis strategies for output-layer kernels, named for what they produce.

Every strategy that depends on an activation or a loss reads the catalogue
(``Loss.targets``, ``Loss.targets_sum_to_one``, ``Activation.elementwise``),
so a new catalogue entry is covered without a line here.

>>> from hypothesis import given
>>> import numpy as np
>>> @given(kernel_inputs("softmax", "cce", np.float32))
... def test_mine(args):
...     assert args["z"].dtype == np.float32 and np.all(args["y"].sum(-1) == 1)
>>> test_mine()
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import example
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derive.symbolic.catalogue import activation as catalogue_activation
from derive.symbolic.catalogue import loss as catalogue_loss

__all__ = [
    "EDGE_LOGITS",
    "ORACLE_LOGIT_BOUND",
    "float_dtypes",
    "logit_values",
    "logits",
    "row_shapes",
    "target_shapes",
    "one_hot_rows",
    "probability_rows",
    "soft_labels",
    "regression_targets",
    "targets",
    "layer_inputs",
    "kernel_inputs",
    "activation_inputs",
    "edge_inputs",
    "label_sets",
]

# The edge points every property pins (largest first, so a failure shows the extreme one): 0, just off 0, where exp(-z) drops below
# float32/float64 epsilon (18, 37), where exp overflows / underflows in float64 (710, 745).
EDGE_LOGITS = (1000.0, -1000.0, 745.0, -745.0, 710.0, -710.0, 37.0, -37.0, 18.0, -18.0, 1e-8, -1e-8, 0.0)

# Logits the mpmath oracle evaluates as written (it needs ~0.87 |z| digits, and pure-Python
# mpmath at thousands of digits is slow): past |z| ~ 745 every exp in float64 has over- or
# underflowed, so +-1000 reaches every regime. ``max_magnitude=None`` gives the whole range.
ORACLE_LOGIT_BOUND = 1000.0
TARGET_BOUND = 1e4  # regression targets: (a - y)^2 stays finite in float32


def float_dtypes():
    """np.float32 or np.float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def logit_values(dtype=np.float64, max_magnitude: float | None = ORACLE_LOGIT_BOUND):
    """One logit: any finite float of ``dtype`` (subnormals included) up to ``max_magnitude``, or an edge point.

    ``max_magnitude=None`` is the whole finite range of the dtype.
    """
    dt = np.dtype(dtype)
    width = dt.itemsize * 8
    bound = float(np.finfo(dt).max) if max_magnitude is None else float(max_magnitude)
    wide = st.floats(-bound, bound, width=width, allow_nan=False, allow_infinity=False, allow_subnormal=True)
    edges = st.sampled_from([v for v in EDGE_LOGITS if abs(v) <= bound])
    return st.one_of(edges, wide)


def row_shapes(min_units: int = 1, max_units: int = 3, max_batch_dims: int = 1, max_batch: int = 2):
    """Shapes (*batch, n): n units on the last axis, 0..max_batch_dims batch axes."""
    return st.tuples(
        hnp.array_shapes(min_dims=0, max_dims=max_batch_dims, min_side=1, max_side=max_batch),
        st.integers(min_units, max_units),
    ).map(lambda t: (*t[0], t[1]))


def target_shapes(shape: tuple[int, ...]):
    """Shapes that broadcast against ``shape`` over the batch axes, with the same last axis."""
    batch, units = shape[:-1], shape[-1]
    return hnp.broadcastable_shapes(batch, min_dims=0, max_dims=len(batch), min_side=1).map(
        lambda b: (*b, units)
    )


def logits(dtype=np.float64, shape=(3,), max_magnitude: float | None = ORACLE_LOGIT_BOUND):
    """Arrays of logits: see ``logit_values``."""
    return hnp.arrays(np.dtype(dtype), shape, elements=logit_values(dtype, max_magnitude))


def one_hot_rows(dtype=np.float64, shape=(3,)):
    """Rows with one 1 and zeros elsewhere (a class label)."""
    units = shape[-1]
    batch = int(np.prod(shape[:-1], dtype=int))
    return st.lists(st.integers(0, units - 1), min_size=batch, max_size=batch).map(
        lambda hot: np.eye(units, dtype=dtype)[hot].reshape(shape)
    )


@st.composite
def _dyadic_row(draw, dtype, units: int):
    # y_i = c_i / 2^m with sum c_i = 2^m: exactly representable and summing to exactly 1,
    # as the derivation assumes (it substitutes sum_i y_i = 1).
    total = 2 ** draw(st.integers(0, 20))
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=units - 1, max_size=units - 1)))
    return (np.diff([0, *cuts, total]) / total).astype(dtype)


def probability_rows(dtype=np.float64, shape=(3,)):
    """Rows of nonnegative numbers summing to exactly 1: one-hot rows or dyadic soft labels."""
    units = shape[-1]
    batch = int(np.prod(shape[:-1], dtype=int))
    soft = st.lists(_dyadic_row(dtype, units), min_size=batch, max_size=batch).map(
        lambda rows: np.array(rows, dtype=dtype).reshape(shape)
    )
    return st.one_of(one_hot_rows(dtype, shape), soft)


def soft_labels(dtype=np.float64, shape=(3,), low: float = 0.0, high: float = 1.0):
    """Arrays of labels in [low, high] (default [0, 1]), endpoints included."""
    width = np.dtype(dtype).itemsize * 8
    elements = st.one_of(st.sampled_from([low, high]), st.floats(low, high, width=width))
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def regression_targets(dtype=np.float64, shape=(3,), max_magnitude: float = TARGET_BOUND):
    """Arrays of real targets, subnormals included, up to ``max_magnitude``."""
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(-max_magnitude, max_magnitude, width=width, allow_subnormal=True)
    return hnp.arrays(np.dtype(dtype), shape, elements=st.one_of(st.just(0.0), elements))


def label_sets(values, dtype=np.float64, shape=(3,)):
    """Arrays whose entries are drawn from ``values`` (hinge's {-1, 1})."""
    return hnp.arrays(np.dtype(dtype), shape, elements=st.sampled_from([float(v) for v in values]))


def targets(loss: str, dtype=np.float64, shape=(3,)):
    """Targets in the loss's declared target set: probability rows, labels in an interval (a half-line up to
    TARGET_BOUND), a finite set of labels, or reals."""
    lo = catalogue_loss(loss)
    if lo.targets_sum_to_one:
        return probability_rows(dtype, shape)
    target_set = lo.targets
    if target_set == sp.S.Reals:
        return regression_targets(dtype, shape)
    if isinstance(target_set, sp.FiniteSet):
        return label_sets(sorted(target_set), dtype, shape)
    if isinstance(target_set, sp.Interval) and target_set.start.is_finite:
        high = float(target_set.end) if target_set.end.is_finite else TARGET_BOUND  # poisson's counts [0, oo)
        return soft_labels(dtype, shape, float(target_set.start), high)
    raise ValueError(f"no strategy for targets in {target_set} of loss {loss!r}")


def layer_inputs(dtype=np.float64, shape=(2,), max_magnitude: float = 1e3):
    """Inputs x of the layer z = W x + b."""
    width = np.dtype(dtype).itemsize * 8
    return hnp.arrays(np.dtype(dtype), shape, elements=st.floats(-max_magnitude, max_magnitude, width=width))


def _min_units(activation: str) -> int:
    # softmax of one unit is the constant 1, outside the (0, 1) its range declares
    return 1 if catalogue_activation(activation).elementwise else 2


@st.composite
def kernel_inputs(draw, activation: str, loss: str, dtype=np.float64, *, with_x: bool = False,
                  max_units: int = 3, max_magnitude: float | None = ORACLE_LOGIT_BOUND):
    """{"z": logits, "y": targets of the loss (batch axes broadcasting), "x": layer inputs if with_x}."""
    shape = draw(row_shapes(_min_units(activation), max(max_units, _min_units(activation))))
    z = draw(logits(dtype, shape, max_magnitude))
    y = draw(targets(loss, dtype, draw(target_shapes(shape))))
    out = {"z": z, "y": y}
    if with_x:
        batch = draw(target_shapes(np.broadcast_shapes(shape, y.shape)))[:-1]
        out["x"] = draw(layer_inputs(dtype, (*batch, draw(st.integers(1, 2)))))
    return out


def activation_inputs(activation: str, dtype=np.float64, *, max_units: int = 3,
                      max_magnitude: float | None = ORACLE_LOGIT_BOUND):
    """Logit arrays for ``activation`` (rows of >= 2 units for softmax)."""
    lo = _min_units(activation)
    return row_shapes(lo, max(max_units, lo)).flatmap(lambda s: logits(dtype, s, max_magnitude))


def edge_inputs(activation: str, loss: str | None = None, dtype=np.float64, *, with_x: bool = False,
                max_magnitude: float | None = None) -> list[dict]:
    """Fixed inputs for ``@example``: a row [v, -v] per edge logit v, then softmax rows with spreads of 1e3;
    only those whose logits lie within ``max_magnitude`` (None: all).

    Targets (when ``loss`` is given) are one-hot rows; for a loss whose targets are two labels (hinge's
    {-1, 1}), the larger where the row is hot and the smaller elsewhere.
    """
    rows = [[v, -v] for v in EDGE_LOGITS]
    spread = [[1000.0, 0.0, -1000.0], [0.0, -1000.0, -999.5]]
    bound = np.inf if max_magnitude is None else max_magnitude
    out = []
    for zrow in [*rows, spread]:
        if np.max(np.abs(zrow)) > bound:
            continue
        z = np.array(zrow if isinstance(zrow[0], list) else [zrow], dtype=dtype)
        inputs = {"z": z}
        if loss is not None:
            lo = catalogue_loss(loss)
            hot = np.eye(z.shape[-1], dtype=dtype)[np.arange(z.shape[0]) % z.shape[-1]]
            if isinstance(lo.targets, sp.FiniteSet) and len(lo.targets) == 2:
                low, high = (float(v) for v in sorted(lo.targets))
                hot = np.where(hot == 1, high, low).astype(dtype)
            elif not (lo.targets.contains(0) == sp.true and lo.targets.contains(1) == sp.true):
                raise ValueError(f"one-hot targets are outside {loss}'s targets {lo.targets}")
            inputs["y"] = hot
        if with_x:
            inputs["x"] = np.array([[1.0, -2.0]], dtype=dtype)
        out.append(inputs)
    return out


def pinned(test, activation: str, loss: str | None = None, dtype=np.float64, *, with_x: bool = False,
           z_only: bool = False, max_magnitude: float | None = None):
    """``test`` with every input of ``edge_inputs`` (within ``max_magnitude``) as an explicit ``@example``,
    tried first and in order.

    ``z_only``: the example is the logits array alone (tests of activations take ``z``).
    """
    for inputs in reversed(edge_inputs(activation, loss, dtype, with_x=with_x, max_magnitude=max_magnitude)):
        test = example(inputs["z"] if z_only else inputs)(test)
    return test

