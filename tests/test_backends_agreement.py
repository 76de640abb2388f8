"""On every installed backend (PyTorch CPU, JAX CPU, Dask, array-api-strict), every kernel equals
the symbolic derivation evaluated in mpmath, within the tolerance rule the NumPy kernels meet.

    |got - want| <= rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

(rtol 1e-12 float64, 1e-5 float32; ``derive.testing.reference``). The same catalogue
parametrisation and pinned edge inputs (z = +-1000, +-745, saturated rows) as
``test_properties_agreement``; the result must come back as the backend's own array, in the
inputs' dtype (``check_output`` compares dtypes), without a warning.

XLA (JAX on the CPU) flushes subnormal numbers to zero, in results and intermediates: a value
reached through e^{-710} = 4.5e-309 (silu(-710) = -710 sigma(-710) = -3.2e-306) is lost there.
JAX alone gets an absolute allowance for it, ``FLUSH``: the smallest normal number times the
largest factor a flushed intermediate meets in the catalogue (|z| <= 1000 times a constant <= 4),
times max |x| for grad_w = delta x^T.

A backend is held to what the NumPy kernel meets: an input where the NumPy kernel itself
misses the oracle (a fault of the shared algorithm, for the NumPy suite to find) is set aside
with ``assume``, not compared; every other input must pass on the backend as on NumPy.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings

from backend_arrays import BACKENDS, converter, kind_of
from derive import kernels
from derive.kernels.xp import kind, to_numpy
from derive.symbolic.catalogue import ACTIVATIONS, valid_pairings
from derive.testing import strategies as sts
from derive.testing.matching import KernelMismatch, call_kernel, check_output

DTYPES = [np.float64, np.float32]
# the pinned edge inputs are the point; a few generated ones on top (a fifth of the profile's)
FEW = settings(max_examples=max(2, settings.default.max_examples // 5))
# plain CPU tensors run the NumPy kernels on their memory (checked in test_backends): here their
# functional form, through tensors that require grad
ORACLE_BACKENDS = [b for b in BACKENDS if b != "torch"]


def flush_allowance(backend, dtype):
    """JAX: 4000 x the smallest normal number (XLA flushes subnormals to 0); others: 0."""
    return 4 * sts.ORACLE_LOGIT_BOUND * float(np.finfo(dtype).tiny) if backend == "jax" else 0.0


def check_as_numpy(fn, numpy_fn, activation, loss, quantity, args, atol=0.0):
    """check_output of fn at args; where it fails, the NumPy kernel must pass there (else: set aside)."""
    out, caught = call_kernel(fn, quantity, args)
    try:
        check_output(out, activation, loss, quantity, args, caught, atol=atol)
    except KernelMismatch:
        want, warned = call_kernel(numpy_fn, quantity, args)
        try:
            check_output(want, activation, loss, quantity, args, warned)
        except KernelMismatch:
            assume(False)  # the NumPy kernel misses here too: the algorithm's fault, not the backend's
        raise


def on_backend(fn, convert, backend):
    """fn of NumPy inputs -> NumPy output, running fn on ``backend``'s arrays and checking the kind back."""
    def run(*args):
        out = fn(*[convert(a) for a in args])
        got = kind(out)
        assert got == kind_of(backend) or (backend == "jax" and got == "jaxlib"), f"{backend} in, {type(out)} out"
        return to_numpy(out)
    return run


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation,loss", valid_pairings())
@pytest.mark.parametrize("backend", ORACLE_BACKENDS)
def test_loss_delta_grad_w_match_derivation(backend, activation, loss, dtype):
    if backend == "dask" and dtype == np.float32:
        pytest.skip("Dask runs the NumPy kernel chunk by chunk: float64 checks the chunking, float32 adds nothing")
    convert = converter(backend)
    k = kernels.get(activation, loss)
    fns = {q: on_backend(getattr(k, q), convert, backend) for q in ("loss", "delta", "grad_w")}

    @FEW
    @given(sts.kernel_inputs(activation, loss, dtype, with_x=True))
    def check(inputs):
        for quantity, fn in fns.items():
            args = inputs if quantity == "grad_w" else {"z": inputs["z"], "y": inputs["y"]}
            scale = float(np.max(np.abs(inputs["x"]), initial=1.0)) if quantity == "grad_w" else 1.0
            check_as_numpy(fn, getattr(k, quantity), activation, loss, quantity, args,
                           scale * flush_allowance(backend, dtype))

    sts.pinned(check, activation, loss, dtype, with_x=True)()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("backend", ORACLE_BACKENDS)
def test_activation_and_derivative_match_derivation(backend, activation, dtype):
    convert = converter(backend)
    f = kernels.activation(activation)
    second = "derivative" if ACTIVATIONS[activation].elementwise else "jacobian"
    numpy_fns = {"activation": f, second: getattr(f, second)}

    @FEW
    @given(sts.activation_inputs(activation, dtype))
    def check(z):
        for quantity, numpy_fn in numpy_fns.items():
            check_as_numpy(on_backend(numpy_fn, convert, backend), numpy_fn, activation, None, quantity, {"z": z},
                           flush_allowance(backend, dtype))

    sts.pinned(check, activation, None, dtype, z_only=True)()
