"""The underflow slow path of the functional (array API) kernels: PyTorch and array-api-strict (issue 14).

``_generated_xp`` prints a LogProduct as ``ops.log_product(p, r, slow)``: p r, with the log-space value
s e^{log|p| + log|r|} on the lanes where |p| < tiny and |r| > 1 (``derive.kernels.xp_ops``), as the NumPy
kernels' ``bits.patch`` does. At the probes of ``test_underflow_residual`` (logits where f' underflows,
targets +-1e300 ... +-1e10) each backend's delta is checked against the mpmath oracle of the derivation
with that module's bound; at the probes where the true delta is a normal float and the derivative is
not, the same generated function run with ``log_product`` as the plain product p r is checked to be off
by more than 1e-3 of the value (0 or a few bits), so each such probe shows the plain form failing.
"""

from __future__ import annotations

import numpy as np
import pytest

from backend_arrays import converter
from derive import kernels
from derive.kernels import _generated_xp, xp as xp_mod
from derive.kernels.xp_ops import Ops
from test_underflow_residual import NAMED, _bound, _cases, _needs_the_rule, _oracle

BACKENDS = ("torch_autograd", "array_api_strict")  # torch tensors that require grad take the functional kernels


class PlainOps(Ops):
    """The primitives with the slow path left out: log_product is the plain product p r."""

    def log_product(self, p, r, slow):
        return self._a(p) * self._a(r)


def _plain(act, lo, z, y, dtype, backend):
    """The generated functional delta of act + lo with PlainOps, on ``backend``'s arrays."""
    to = converter(backend)
    zz, yy = to(np.array([z], dtype)), to(np.array([y], dtype))
    xp = xp_mod.namespace(zz)
    lib = xp_mod.kind(zz)
    ops = PlainOps(xp, zz.dtype, xp_mod._device(xp, zz), xp_mod._special_of(lib),
                   xp_mod._special_of(lib, xp_mod.LOG_NDTR, xp_mod.FALLBACK_LOG_NDTR))
    return float(xp_mod.to_numpy(_generated_xp.PAIRS[(act, lo)][1](zz, yy, 1, xp, ops))[0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("act", NAMED)
def test_functional_delta_with_huge_targets(act, dtype, backend):
    to = converter(backend)
    k = kernels.get(act, "quadratic")
    bad, needed = [], 0
    for z, y in _cases(act, "quadratic", dtype):
        need, want = _needs_the_rule(act, "quadratic", z, y, dtype)
        if abs(want) > float(np.finfo(dtype).max):
            continue  # the true delta overflows this dtype
        d = k.delta(to(np.array([z], dtype)), to(np.array([y], dtype)))
        assert xp_mod.kind(d) is not None  # the functional path, not NumPy
        got = float(xp_mod.to_numpy(d)[0])
        if not abs(got - want) <= _bound(want, y, dtype):
            bad.append(f"z={z:g} y={y:g}: got {got!r}, want {want!r}")
        if need:
            needed += 1
            plain = _plain(act, "quadratic", z, y, dtype, backend)
            assert abs(plain - want) > 1e-3 * abs(want), (z, y, plain, want)
    assert not bad, "\n".join(bad)
    assert needed, f"no probe of {act} has an underflowing derivative and a normal delta"


def test_log_product_calls_slow_only_when_a_lane_needs_it():
    import array_api_strict as xs

    ops = Ops(xs, xs.float64, None, None)
    calls = []

    def slow():
        calls.append(1)
        return xs.asarray([7.0, 7.0])

    p, r = xs.asarray([0.5, 1e-320]), xs.asarray([3.0, 1e300])
    assert xp_mod.to_numpy(ops.log_product(p[:1], r[:1], slow)).tolist() == [1.5] and not calls
    assert xp_mod.to_numpy(ops.log_product(p, r, slow)).tolist() == [1.5, 7.0] and calls == [1]


def test_jit_takes_the_slow_lanes_too():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    k = kernels.get("sigmoid", "quadratic")
    got = jax.jit(k.delta)(jnp.asarray([-750.0, 1.0]), jnp.asarray([1e300, 0.5]))
    want = _oracle("sigmoid", "quadratic", -750.0, 1e300)
    assert abs(float(got[0]) - want) <= _bound(want, 1e300, np.float64)
