"""Compare a kernel's output with the mpmath oracle, and the Hypothesis driver around it.

    |got - want| <= atol + rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

(the tolerance rule of ``derive.testing.reference`` plus the caller's ``atol``;
rtol 1e-12 in float64 and 1e-5 in float32 unless given, atol 0 unless given,
tiny the dtype's smallest normal number).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import mpmath
import numpy as np
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings

from derive.symbolic.catalogue import activation as catalogue_activation
from derive.symbolic.catalogue import check_pairing
from derive.testing import strategies as sts
from derive.kernels.xp import to_numpy
from derive.testing.reference import DIGITS, activation_truth, rtol_for, tolerance, truth

__all__ = ["KernelMismatch", "PAIR_QUANTITIES", "ACTIVATION_QUANTITIES", "check_output", "call_kernel",
           "show_array", "assert_kernel_matches"]

PAIR_QUANTITIES = ("loss", "delta", "grad_b", "grad_w")
ACTIVATION_QUANTITIES = ("activation", "derivative", "jacobian")


class KernelMismatch(AssertionError):
    """A kernel's value differs from the symbolic derivation beyond the tolerance rule."""


def show_array(arr) -> str:
    """``np.array([...], dtype=...)`` with every float printed so that it reads back exactly."""
    arr = np.asarray(arr)
    body = np.array2string(arr, separator=", ", floatmode="unique", max_line_width=10**6, threshold=10**6)
    return f"np.array({body}, dtype={arr.dtype.name})"


def _validate(activation: str, loss: str | None, quantity: str) -> None:
    if quantity in PAIR_QUANTITIES:
        if loss is None:
            raise ValueError(f"quantity {quantity!r} needs a loss; give one of the catalogue's losses")
        check_pairing(activation, loss)
    elif quantity in ACTIVATION_QUANTITIES:
        if loss is not None:
            raise ValueError(f"quantity {quantity!r} is of the activation alone: pass loss=None, not {loss!r}")
        act = catalogue_activation(activation)
        if quantity == "jacobian" and act.elementwise:
            raise ValueError(f"{activation} is elementwise: its quantity is 'derivative', not 'jacobian'")
        if quantity == "derivative" and not act.elementwise:
            raise ValueError(f"{activation} is not elementwise: its quantity is 'jacobian', not 'derivative'")
    else:
        raise ValueError(f"unknown quantity {quantity!r}; known: {', '.join(PAIR_QUANTITIES + ACTIVATION_QUANTITIES)}")


def call_kernel(fn: Callable, quantity: str, inputs: dict, to_array: Callable | None = None):
    """fn(z, y), fn(x, z, y) (grad_w) or fn(z) (activation quantities); returns (output, warnings).

    ``to_array`` converts each NumPy input first (``torch.from_numpy``); the output comes back as NumPy
    through ``derive.kernels.xp.to_numpy``.
    """
    given = inputs if to_array is None else {key: to_array(value) for key, value in inputs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if quantity == "grad_w":
                out = fn(given["x"], given["z"], given["y"])
            elif quantity in PAIR_QUANTITIES:
                out = fn(given["z"], given["y"])
            else:
                out = fn(given["z"])
            out = to_numpy(out)
        except Exception as err:  # the user's kernel raised: say on which inputs
            shown = ", ".join(f"{k} = {np.array2string(np.asarray(v), threshold=20)}" for k, v in inputs.items())
            err.add_note(f"raised by the kernel under test ({quantity}) at {shown}")
            raise
    return out, [f"{w.category.__name__}: {w.message}" for w in caught]


def _expected_rows(activation, loss, quantity, inputs, rtol, tiny):
    """Yield (batch index, want list, lazy tolerance) per row, in the layout of the quantity."""
    z = inputs["z"]
    if quantity in ACTIVATION_QUANTITIES:
        units = z.shape[-1]
        oracle = activation_truth(activation, units)
        for idx in np.ndindex(z.shape[:-1]):
            z_row = [float(v) for v in z[idx]]
            values, derivs = oracle.row(z_row)
            flat_derivs = [d for row in derivs for d in row] if quantity == "jacobian" else derivs
            want = values if quantity == "activation" else flat_derivs
            offset = 0 if quantity == "activation" else units

            def tol(z_row=z_row, values=values, flat=flat_derivs, offset=offset, n=len(want)):
                every = tolerance(lambda zr, yr: oracle.raw(zr), z_row, [], [*values, *flat], rtol, tiny)
                return every[offset : offset + n]

            yield idx, want, tol
        return
    arrays = [inputs["z"], inputs["y"]] + ([inputs["x"]] if quantity == "grad_w" else [])
    batch = np.broadcast_shapes(*(arr.shape[:-1] for arr in arrays))
    units = z.shape[-1]
    oracle = truth(activation, loss, units)
    zb = np.broadcast_to(inputs["z"], (*batch, units))
    yb = np.broadcast_to(inputs["y"], (*batch, units))
    xb = np.broadcast_to(inputs["x"], (*batch, inputs["x"].shape[-1])) if quantity == "grad_w" else None
    for idx in np.ndindex(batch):
        z_row, y_row = [float(v) for v in zb[idx]], [float(v) for v in yb[idx]]
        cost, deltas = oracle.row(z_row, y_row)

        def tol_pair(z_row=z_row, y_row=y_row, cost=cost, deltas=deltas):
            return tolerance(oracle.raw, z_row, y_row, [cost, *deltas], rtol, tiny)

        if quantity == "loss":
            yield idx, [cost], lambda f=tol_pair: f()[:1]
        elif quantity in ("delta", "grad_b"):
            yield idx, deltas, lambda f=tol_pair: f()[1:]
        else:
            x_row = [mpmath.mpf(float(v)) for v in xb[idx]]
            with mpmath.workdps(DIGITS + 10):  # the product keeps the oracle's digits
                want = [d * xk for d in deltas for xk in x_row]

            def tol_w(f=tol_pair, x_row=x_row, want=want):
                # delta_j x_k: delta's tolerance scaled by |x_k|, plus rtol for perturbing x_k
                per_delta = f()[1:]
                return [
                    (per_delta[jj] - tiny) * abs(x_row[kk]) + rtol * abs(want[jj * len(x_row) + kk]) + tiny
                    for jj in range(len(per_delta))
                    for kk in range(len(x_row))
                ]

            yield idx, want, tol_w


def _expected_shape(quantity, inputs):
    z = inputs["z"]
    if quantity in ("activation", "derivative"):
        return z.shape
    if quantity == "jacobian":
        return (*z.shape, z.shape[-1])
    full = np.broadcast_shapes(z.shape, inputs["y"].shape)
    if quantity == "loss":
        return full[:-1]
    if quantity in ("delta", "grad_b"):
        return full
    batch = np.broadcast_shapes(full[:-1], inputs["x"].shape[:-1])
    return (*batch, z.shape[-1], inputs["x"].shape[-1])


def _round_up(x) -> float:
    """``x`` > 0 rounded up to 3 significant digits (so that the stated atol does pass)."""
    step = mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(x)) - 2)
    return float(mpmath.ceil(x / step) * step)


def check_output(out, activation: str, loss: str | None, quantity: str, inputs: dict,
                 caught: list[str] = (), allow_warnings: bool = False, *,
                 rtol: float | None = None, atol: float = 0.0) -> None:
    """Raise KernelMismatch unless ``out`` is ``quantity`` at ``inputs`` under the tolerance rule:

        |got - want| <= atol + rtol |want| + sum_v max_(+-) |want(v (1 +- rtol)) - want(v)| + tiny

    ``rtol`` defaults to the dtype's (``reference.RTOL``), ``atol`` to 0. The message names the first entry
    outside the rule and the smallest ``atol`` with which every entry of this example would have passed.
    """
    dtype = np.result_type(*(v.dtype for v in inputs.values()))
    rtol = rtol_for(dtype) if rtol is None else rtol
    finfo = np.finfo(dtype)
    tiny = float(finfo.tiny)
    name = f"{activation} {quantity}" if loss is None else f"{activation} + {loss} {quantity}"
    shown = ", ".join(f"{k} = {show_array(v)}" for k, v in inputs.items())
    head = f"{name} ({dtype.name}) does not match the symbolic derivation\n  inputs: {shown}\n"
    warned = f"\n  the kernel warned: {'; '.join(caught)}" if caught else ""

    got_all = np.asarray(out)
    shape = _expected_shape(quantity, inputs)
    if got_all.shape != shape:
        raise KernelMismatch(head + f"  returned shape {got_all.shape}, expected {shape}" + warned)
    if got_all.dtype != dtype:
        raise KernelMismatch(head + f"  returned dtype {got_all.dtype}, expected {dtype} (the inputs' dtype)" + warned)

    first, needed = None, mpmath.mpf(0)  # the first entry outside the rule; the atol every entry needs
    for idx, want, tol in _expected_rows(activation, loss, quantity, inputs, rtol, tiny):
        got_row = got_all[idx].reshape(-1)
        errs = [abs(mpmath.mpf(float(g)) - w) if np.isfinite(g) else mpmath.inf for g, w in zip(got_row, want)]
        # the cheap bound first; the perturbation spread only where it is needed
        if all(e <= rtol * abs(w) + tiny for e, w in zip(errs, want)):
            continue
        bounds = tol()
        for pos, (g, w, e, b) in enumerate(zip(got_row, want, errs, bounds)):
            overflow = abs(w) > finfo.max and np.isinf(g) and np.sign(g) == mpmath.sign(w)
            if e <= b or overflow:
                continue
            needed = max(needed, e - b)
            if e > atol + b and first is None:
                where = np.unravel_index(pos, shape[len(idx):]) if len(shape) > len(idx) else ()
                first = (tuple(int(v) for v in (*idx, *where)), g, w, e, atol + b)
    if first is not None:
        at, g, w, e, b = first
        rel = e / abs(w) if w != 0 else mpmath.inf
        if needed == mpmath.inf:
            advice = "    no atol passes: the kernel returned a non-finite value where the true one is finite"
        else:
            advice = f"    the smallest atol that passes this example: {_round_up(needed):.3g} (with rtol {rtol:g})"
        raise KernelMismatch(
            head
            + f"  at index {at}:\n"
            + f"    expected {float(w)!r}  (mpmath, {DIGITS} digits: {mpmath.nstr(w, 20)})\n"
            + f"    got      {float(g)!r}\n"
            + f"    relative error {mpmath.nstr(rel, 3)}; allowed |got - expected| <= {mpmath.nstr(b, 3)}"
            + f" (atol {atol:g} + rtol {rtol:g} of the value and of each input's perturbation + tiny {tiny:.3g})\n"
            + advice
            + warned
        )
    if caught and not allow_warnings:
        raise KernelMismatch(head + "  values match, but the kernel warned: " + "; ".join(caught))


def assert_kernel_matches(fn: Callable, activation: str, loss: str | None = None, quantity: str = "delta",
                          dtype=np.float64, *, rtol: float | None = None, atol: float = 0.0,
                          max_examples: int | None = None, max_units: int = 3,
                          max_magnitude: float = sts.ORACLE_LOGIT_BOUND, edges: bool = True,
                          allow_warnings: bool = False, to_array: Callable | None = None,
                          settings: hsettings | None = None) -> None:
    """Hypothesis checks ``fn`` against the symbolic derivation evaluated in mpmath (50 digits):

        |fn(...) - truth| <= atol + rtol |truth| + sum_v max_(+-) |truth(v (1 +- rtol)) - truth(v)| + tiny

    entry by entry. The third term is the problem's own conditioning: v runs over every logit and
    target, each perturbed alone by the factor 1 +- rtol, so a backward-stable kernel passes where
    ``a - y`` cancels; ``tiny`` is the dtype's smallest normal number. ``atol`` and ``rtol`` are those of
    ``torch.testing.assert_close`` (``|got - want| <= atol + rtol |want|``), and simply add to the
    conditioning term; ``rtol`` also sets the size of its perturbations.

    The default (atol 0) is strict on purpose: a kernel that returns 0 where the truth is 1e-32 has
    lost all relative accuracy there, and fails; a failure names the smallest ``atol`` that would pass.
    No atol hides a wrong constant, sign or formula: values of order 1 are off by far more.

    Parameters:
        fn: the kernel: ``fn(z, y)`` for quantity "loss", "delta", "grad_b"; ``fn(x, z, y)`` for "grad_w";
            ``fn(z)`` for "activation", "derivative" (elementwise activations) and "jacobian" (softmax),
            with ``loss=None``. Arrays carry the units on the last axis; batch axes broadcast.
        activation, loss: catalogue names (``derive.ACTIVATIONS``, ``derive.LOSSES``); unknown names raise
            ``UnknownNameError``, an invalid pairing ``PairingError``.
        quantity: what ``fn`` computes (above).
        dtype: np.float64 (rtol 1e-12 by default) or np.float32 (1e-5); the result must have it.
        rtol: relative tolerance, and the relative size of each input's perturbation; default per dtype.
        atol: absolute tolerance added to the bound (default 0.0).
        max_examples: Hypothesis examples beyond the edge inputs (default: the active profile's).
        max_units: at most this many units per row (softmax rows have at least 2).
        max_magnitude: logits in [-max_magnitude, max_magnitude], in (0, 1000]; the edge inputs too.
        edges: try the edge rows first ([v, -v] for v in ``strategies.EDGE_LOGITS`` up to max_magnitude,
            then softmax rows spread over 1000); False: only the drawn examples.
        allow_warnings: a kernel that warns (RuntimeWarning: overflow ...) fails unless True.
        to_array: converts each NumPy input before the call, for kernels of other arrays
            (``torch.from_numpy``, ``jax.numpy.asarray``); the result comes back through
            ``derive.kernels.xp.to_numpy``.
        settings: Hypothesis settings to start from (``max_examples`` wins over theirs).

    On failure raises ``KernelMismatch`` (an AssertionError) naming the shrunk inputs, the index, the
    expected value, the value got, the relative error, the bound, and the smallest atol that passes.
    """
    _validate(activation, loss, quantity)
    if max_magnitude is None or not 0 < max_magnitude <= sts.ORACLE_LOGIT_BOUND:
        raise ValueError(
            f"max_magnitude must be in (0, {sts.ORACLE_LOGIT_BOUND:g}], got {max_magnitude!r}: the 50-digit "
            "oracle needs about 0.87 |z| digits, and every regime (overflow, underflow, subnormals) lies "
            "within |z| <= 1000; for the whole float range use the strategies with max_magnitude=None "
            "and check finiteness and bounds, as tests/test_properties_whole_range.py does"
        )
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (isinstance(value, (int, float)) and 0 <= value < 1e300):
            raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")
    dtype = np.dtype(dtype)
    rtol_for(dtype)
    if quantity in PAIR_QUANTITIES:
        strategy = sts.kernel_inputs(activation, loss, dtype, with_x=quantity == "grad_w",
                                     max_units=max_units, max_magnitude=max_magnitude)
    else:
        strategy = sts.activation_inputs(activation, dtype, max_units=max_units,
                                         max_magnitude=max_magnitude).map(lambda z: {"z": z})

    def run(inputs):
        out, caught = call_kernel(fn, quantity, inputs, to_array)
        check_output(out, activation, loss, quantity, inputs, caught, allow_warnings, rtol=rtol, atol=atol)

    test = given(strategy)(run)
    if edges:
        test = sts.pinned(test, activation, loss if quantity in PAIR_QUANTITIES else None, dtype,
                          with_x=quantity == "grad_w", max_magnitude=max_magnitude)
    # no "explain" phase: it re-runs the slow oracle hundreds of times to annotate the failure
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
    options = dict(deadline=None, report_multiple_bugs=False, database=None, phases=phases,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    if max_examples is not None:
        options["max_examples"] = max_examples
    hsettings(settings if settings is not None else hsettings.default, **options)(test)()
