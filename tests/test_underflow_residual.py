"""A delta P(z) R whose factor P underflows while P R is a normal float (issue 14): the underflow rule.

For every valid pairing of an elementwise activation with a loss whose targets reach outside
[0, 1] (computed from the catalogue), at logits where the activation's derivative underflows
(z = -750, -380, -40, 40, 750 in float64; -100, -52, -20, -15, 20, 100 in float32) and huge targets
(y = +-1e300, +-1e30, +-1e10 where the dtype holds them), the kernel's delta is compared with
the mpmath oracle of the derivation (``derive.testing.reference``, 50+ digits):

    |got - want| <= 4 eps (1 + |ln|want|| + 2 ln|y|) |want|      where |want| is a normal float
    |got - want| <= |want| + 2 (least subnormal)                  below (no digits are left to ask for)

The log-space form returns e^L, L = ln|P| + ln|R|: exp turns L's rounding, eps times the
magnitudes summed into it (|ln P| + |ln R| <= |ln|want|| + 2 ln|y|), into a relative error. Where P underflows (the derivative
kernel's value is subnormal or 0) and the true delta is normal, the naive product
f'(z) (f(z) - y) is checked to be off by more than 1e-3 (it is 0 or a few bits), so each
probe that needs the rule shows the naive form failing there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.testing.reference import truth

PROBES = {np.float64: ((-750.0, -380.0, -40.0, 40.0, 750.0), (1e300, -1e300, 1e30, -1e30, 1e10, -1e10)),
          np.float32: ((-100.0, -52.0, -20.0, -15.0, 20.0, 100.0), (1e30, -1e30, 1e10, -1e10))}
PAIRS = [(act, lo) for act, lo in valid_pairings()
         if ACTIVATIONS[act].elementwise and not LOSSES[lo].targets.is_subset(sp.Interval(0, 1))]
SOFTMAX_PAIRS = [(act, lo) for act, lo in valid_pairings()
                 if not ACTIVATIONS[act].elementwise and LOSSES[lo].targets == sp.S.Reals]
# the activations the issue names: at least one probe each where the naive product fails and the kernel does not
NAMED = ("sigmoid", "tanh", "softplus", "elu", "silu", "gelu")


def _oracle(act, lo, z, y):
    return float(truth(act, lo).row([z], [y])[1][0])


def _naive(act, lo, z, y, dtype):
    """f'(z) times the loss's gradient in a, each in floating point (quadratic: a - y; sse, mse: 2(a - y))."""
    f = kernels.activation(act)
    zz = np.array([z], dtype)
    scale = {"quadratic": 1, "sse": 2, "mse": 2}[lo]
    return float((f.derivative(zz) * (scale * (f(zz) - dtype(y))))[0])


def _bound(want, y, dtype):
    info = np.finfo(dtype)
    if abs(want) < float(info.smallest_normal):
        return abs(want) + 2 * float(info.smallest_subnormal)
    return 4 * float(info.eps) * (1 + abs(math.log(abs(want))) + 2 * math.log(abs(y))) * abs(want)


def _cases(act, lo, dtype):
    zs, ys = PROBES[dtype]
    targets = LOSSES[lo].targets
    return [(z, y) for z in zs for y in ys if targets.contains(y) is sp.true]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("act", "lo"), PAIRS, ids=[f"{a}+{lo}" for a, lo in PAIRS])
def test_delta_with_huge_targets_matches_the_oracle(act, lo, dtype):
    k = kernels.get(act, lo)
    bad = []
    for z, y in _cases(act, lo, dtype):
        want = _oracle(act, lo, float(dtype(z)), float(dtype(y)))
        if abs(want) > float(np.finfo(dtype).max):
            continue  # the true delta overflows this dtype
        got = float(k.delta(np.array([z], dtype), np.array([y], dtype))[0])
        if not abs(got - want) <= _bound(want, y, dtype):
            bad.append(f"z={z:g} y={y:g}: got {got!r}, want {want!r}")
    assert not bad, "\n".join(bad)


def _needs_the_rule(act, lo, z, y, dtype):
    """The derivative kernel's value at z is subnormal or 0 while the true delta is a normal float."""
    info = np.finfo(dtype)
    d = abs(float(kernels.activation(act).derivative(np.array([z], dtype))[0]))
    want = _oracle(act, lo, z, y)
    return d < float(info.smallest_normal) and float(info.smallest_normal) <= abs(want) <= float(info.max), want


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("lo", ["quadratic", "sse", "mse"])
@pytest.mark.parametrize("act", NAMED)
def test_the_naive_product_fails_where_the_rule_is_needed(act, lo, dtype):
    needed = 0
    for z, y in _cases(act, lo, dtype):
        need, want = _needs_the_rule(act, lo, z, y, dtype)
        if need:
            needed += 1
            naive = _naive(act, lo, z, y, dtype)
            assert abs(naive - want) > 1e-3 * abs(want), (z, y, naive, want)
            got = float(kernels.get(act, lo).delta(np.array([z], dtype), np.array([y], dtype))[0])
            assert abs(got - want) <= _bound(want, y, dtype), (z, y, got, want)
    assert needed, f"no probe of {act}+{lo} has an underflowing derivative and a normal delta"


def test_only_the_rare_lanes_take_the_log_space_path():
    # the slow function sees the patched lanes only: counted through a wrapped bits.patch
    from derive.kernels import bits

    seen = []
    original = bits.patch

    def counting(out, p, r, slow, z, y, dtype, scratch, **params):
        def slow_counted(zs, ys, shape, dt, **kw):
            seen.append(zs.size)
            return slow(zs, ys, shape, dt, **kw)
        return original(out, p, r, slow_counted, z, y, dtype, scratch, **params)

    z = np.linspace(-30, 30, 1000)
    z[[3, 500]] = [-750.0, 750.0]
    y = np.full_like(z, 1e300)
    bits.patch = counting
    try:
        d = kernels.get("sigmoid", "quadratic").delta(z, y)
    finally:
        bits.patch = original
    assert seen == [2]
    assert d[3] == pytest.approx(_oracle("sigmoid", "quadratic", -750.0, 1e300), rel=1e-12)


@pytest.mark.parametrize(("act", "lo"), SOFTMAX_PAIRS[:1], ids=[f"{a}+{lo}" for a, lo in SOFTMAX_PAIRS[:1]])
def test_softmax_rows_with_huge_targets(act, lo):
    z, y = [0.0, -750.0], [0.0, 1e300]
    want = [float(v) for v in truth(act, lo, 2).row(z, y)[1]]
    got = kernels.get(act, lo).delta(np.array(z), np.array(y))
    assert abs(got[0] - want[0]) <= 1e-12 * abs(want[0])
