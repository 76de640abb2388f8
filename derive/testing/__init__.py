"""derive.testing: check any NumPy (or torch, JAX) kernel against the symbolic derivation, at 50 digits.

    |got - want| <= atol + rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

``want`` is ``derive_pair(activation, loss)`` (or the activation, its
derivative, the softmax Jacobian) evaluated in mpmath; v runs over every logit
and target, perturbed one at a time; rtol is 1e-12 in float64 and 1e-5 in
float32 unless given, atol 0 unless given (``rtol=``, ``atol=``: the meaning of
``torch.testing.assert_close``, added to the conditioning term); tiny is the
dtype's smallest normal number (see ``reference``). The default is strict: a
textbook ``expit(z) * (1 - expit(z))`` fails at z = 37 (0 for 8.5e-17), and the
failure says the smallest atol that passes.

>>> import numpy as np
>>> from scipy.special import expit
>>> from derive.testing import assert_kernel_matches
>>> assert_kernel_matches(lambda z, y: expit(z) - y, "sigmoid", "bce", quantity="delta", max_examples=20)

>>> assert_kernel_matches(lambda z: expit(z) * (1 - expit(z)), "sigmoid", None, "derivative",
...                       atol=2.3e-16, max_examples=20)

A failure raises ``KernelMismatch`` (an AssertionError) with the shrunk
inputs, the expected value, the value got, the relative error and the
smallest atol that would have passed. ``max_magnitude`` bounds every logit,
the pinned edge rows included; ``edges=False`` leaves those out.

The strategies (``derive.testing.strategies``, re-exported here) generate
logits over the whole float range (edge points 0, +-1e-8, +-18, +-37, +-710,
+-745, +-1000 and subnormals included), targets in each loss's target set,
broadcasting shapes, float32 and float64.

Hypothesis profiles (the project's ``tests/conftest.py``): ``ci``, the
default, draws 10 examples per property plus the 14 pinned edge inputs,
derandomized, first failure only; ``thorough`` draws 300 plus the same 14, at
random. Choose with the environment variable ``DERIVE_HYPOTHESIS_PROFILE``:

    DERIVE_HYPOTHESIS_PROFILE=thorough pytest tests/test_properties_*.py

``assert_kernel_matches`` uses the active profile's ``max_examples`` unless
given ``max_examples=`` or ``settings=``.
"""

from derive.testing.matching import ACTIVATION_QUANTITIES, PAIR_QUANTITIES, KernelMismatch, assert_kernel_matches
from derive.testing.reference import RTOL, OracleError, activation_truth, truth
from derive.testing.strategies import (
    EDGE_LOGITS,
    ORACLE_LOGIT_BOUND,
    activation_inputs,
    float_dtypes,
    kernel_inputs,
    layer_inputs,
    logit_values,
    logits,
    one_hot_rows,
    probability_rows,
    regression_targets,
    row_shapes,
    soft_labels,
    target_shapes,
    targets,
)

__all__ = [
    "assert_kernel_matches",
    "KernelMismatch",
    "PAIR_QUANTITIES",
    "ACTIVATION_QUANTITIES",
    "RTOL",
    "OracleError",
    "truth",
    "activation_truth",
    "EDGE_LOGITS",
    "ORACLE_LOGIT_BOUND",
    "activation_inputs",
    "float_dtypes",
    "kernel_inputs",
    "layer_inputs",
    "logit_values",
    "logits",
    "one_hot_rows",
    "probability_rows",
    "regression_targets",
    "row_shapes",
    "soft_labels",
    "target_shapes",
    "targets",
]
