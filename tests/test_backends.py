"""The kernel contract on every installed backend, the functional printer, and the frameworks'
transformations (jax.jit/vmap/grad, torch.compile) and differentiable losses.

Reference values are the NumPy kernels (themselves checked against mpmath elsewhere) or plain
definitions written here; each stability check also shows the naive form failing there.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from backend_arrays import BACKENDS, converter, kind_of
from derive import kernels
from derive.compile.expressions import Y, Z
from derive.compile.nodes import Minus, Quotient
from derive.compile.printer_xp import print_xp
from derive.kernels.xp import kind, to_numpy
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.testing.matching import check_output

BIG = [1000.0, -1000.0, 745.0, -745.0, 710.0, -710.0, 50.0, -50.0, 1e17, -1e17, 1e-8, 0.0]
# (rows spanning the whole float range, [1.7e308, -1.7e308, 0], are left to the kernels' accuracy
# work of issue 14: softmax + bce is nan there on NumPy, and its loss clipped at -max float everywhere)
SOFTMAX_ROWS = [[1000.0, 0.0, -1000.0], [-745.0, 745.0, 0.0], [50.0, -50.0, 1e-8]]


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def edge_inputs(activation, loss, dtype):
    """Edge logits (a row per edge value, or saturated softmax rows) and targets of the loss."""
    if activation == "softmax":
        z = np.array(SOFTMAX_ROWS, dtype)
    else:
        z = np.array([[v, -v, 0.5 * v] for v in BIG], dtype)
    if LOSSES[loss].targets_sum_to_one:
        y = np.eye(z.shape[-1], dtype=dtype)[np.arange(len(z)) % z.shape[-1]]
    else:
        y = np.resize(np.array([0.0, 1.0, 0.5, 0.25], dtype), z.shape)
    return z, y


# --- the printer ------------------------------------------------------------------------------------------

def test_generated_xp_module_is_what_the_generator_makes():
    from pathlib import Path

    from derive.compile.printer_xp import TARGET, generate

    assert Path(TARGET).read_text() == generate(), "run python -m derive.compile"


def test_printer_keeps_exact_terms_first():
    # (1 - y) - s keeps a small s that (1 - s) - y rounds away: y = 1, s = 1e-20
    s = sp.Symbol("s")
    code = print_xp(Minus(1 - Y, s))
    assert eval(code, {"y": 1.0, "s": 1e-20}) == -1e-20
    assert (1.0 - 1e-20) - 1.0 == 0.0  # the naive order fails here
    code = print_xp(1 - Y - Z)  # exact terms first in a plain sum as well
    assert eval(code, {"y": 1.0, "z": 1e-20}) == -1e-20


def test_printer_divides_before_multiplying():
    # z * Quotient(e, 1 + e): at z = 1e308, e = 10, z e overflows; z (e / (1 + e)) does not
    e = sp.Symbol("e")
    code = print_xp(Z * Quotient(e, 1 + e))
    with np.errstate(over="raise"):
        assert np.isfinite(eval(code, {"z": np.float64(1e308), "e": np.float64(10.0)}))
        with pytest.raises(FloatingPointError):
            np.float64(1e308) * np.float64(10.0) / np.float64(11.0)


# --- the contract on each backend --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_pairing_is_finite_and_its_own_kind_at_the_edges(backend, dtype):
    convert = converter(backend)
    for activation, loss in valid_pairings():
        k = kernels.get(activation, loss)
        z, y = edge_inputs(activation, loss, dtype)
        for method in ("loss", "delta"):
            out = getattr(k, method)(convert(z), convert(y))
            assert kind(out) in (kind_of(backend), "jaxlib"), (activation, loss, method, type(out))
            got = to_numpy(out)
            assert got.dtype == dtype, (activation, loss, method, got.dtype)
            assert np.all(np.isfinite(got)), (activation, loss, method, z[~np.isfinite(got).all(-1)
                                                                          if got.ndim == z.ndim else ~np.isfinite(got)])
            want = getattr(k, method)(z, y)
            close = np.isclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=4e3 * np.finfo(dtype).tiny)
            assert close.all(), (activation, loss, method, got[~close], want[~close])


@pytest.mark.parametrize("backend", BACKENDS)
def test_activations_and_their_derivatives_at_the_edges(backend):
    convert = converter(backend)
    z = np.array([[v, -v, 0.5 * v] for v in BIG])
    for name, act in ACTIVATIONS.items():
        f = kernels.activation(name)
        parts = {"f": f, "jacobian": f.jacobian} | ({"derivative": f.derivative} if act.elementwise else {})
        for part, fn in parts.items():
            got = to_numpy(fn(convert(z)))
            assert np.all(np.isfinite(got)), (name, part)
            np.testing.assert_allclose(got, fn(z), rtol=1e-12, atol=4e3 * np.finfo(np.float64).tiny, err_msg=f"{name} {part}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_stable_where_the_naive_form_is_not(backend):
    """sigmoid + bce delta = sigma(z) - y at z = 50, y = 1 is -sigma(-50) = -1.9e-22; on the backend's
    own functions the naive 1/(1 + e^-z) - y is 0 there."""
    convert = converter(backend)
    z, y = convert(np.array([50.0])), convert(np.array([1.0]))
    got = to_numpy(kernels.get("sigmoid", "bce").delta(z, y))[0]
    assert got == pytest.approx(-1.0 / (1.0 + math.exp(50.0)), rel=1e-14)
    from derive.kernels.xp import namespace

    xp = namespace(z)
    naive = to_numpy(1.0 / (1.0 + xp.exp(-z)) - y)[0]
    assert naive == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_targets_take_the_logits_float_dtype(backend):
    convert = converter(backend)
    k = kernels.get("sigmoid", "bce")
    z = convert(np.array([[0.5, -1.0]], np.float32))
    for y in (convert(np.array([[True, False]])), convert(np.array([[1, 0]], np.int8)), 0.5):
        assert to_numpy(k.delta(z, y)).dtype == np.float32
        assert to_numpy(k.loss(z, y)).dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_mismatch_names_both_shapes(backend):
    convert = converter(backend)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        kernels.get("sigmoid", "bce").delta(convert(np.zeros((2, 3))), convert(np.zeros((2, 4))))


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_kinds_name_both(backend):
    convert = converter(backend)
    with pytest.raises(TypeError, match=r"z is a .*, y is a numpy\.ndarray"):
        kernels.get("sigmoid", "bce").delta(convert(np.zeros((2, 3))), np.zeros((2, 3)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_cce_target_check(backend):
    convert = converter(backend)
    k = kernels.get("softmax", "cce")
    z = convert(np.zeros((3, 3)))
    y = convert(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"row 1 of y sums to 1\.5"):
        to_numpy(k.delta(z, y))  # Dask: raised at compute


# --- PyTorch ----------------------------------------------------------------------------------------------

def test_torch_half_precisions_come_back_in_their_dtype():
    converter("torch")
    import torch

    z = np.array([[1000.0, -3.0, 0.25]])
    for dtype in (torch.float16, torch.bfloat16):
        zt = torch.tensor(z, dtype=dtype)
        got = kernels.activation("gelu")(zt)
        assert got.dtype == dtype
        want = kernels.activation("gelu")(zt.float().numpy())  # computed in float32 from the same values
        np.testing.assert_array_equal(got.float().numpy(), torch.tensor(want).to(dtype).float().numpy())
        assert kernels.get("softmax", "cce").delta(zt, torch.tensor([[1.0, 0, 0]], dtype=dtype)).dtype == dtype


def test_torch_loss_fn_backward_is_the_delta_times_the_incoming_gradient():
    converter("torch")
    import torch

    from derive.torch import loss_fn

    rng = np.random.default_rng(3)
    for activation, loss in [("sigmoid", "bce"), ("softmax", "cce"), ("tanh", "huber")]:
        z = rng.normal(0, 30, (4, 3))
        z[0] = [1000.0, -1000.0, 0.0]
        y = (np.eye(3)[[0, 1, 2, 0]] if loss == "cce" else rng.uniform(0, 1, (4, 3)))
        zt = torch.tensor(z, requires_grad=True)
        weights = torch.arange(1.0, 5.0, dtype=torch.float64)
        out = loss_fn(activation, loss)(zt, torch.tensor(y))
        # the same expression on torch's own exp/log1p (libm): a few ulps apart at most
        np.testing.assert_allclose(out.detach().numpy(), kernels.get(activation, loss).loss(z, y), rtol=1e-14)
        (out * weights).sum().backward()
        want = weights.numpy()[:, None] * kernels.get(activation, loss).delta(z, y)
        np.testing.assert_allclose(zt.grad.numpy(), want, rtol=1e-14, atol=0)
    # broadcast z: its gradient is summed back to its shape
    zt = torch.zeros((1, 3), dtype=torch.float64, requires_grad=True)
    loss_fn("sigmoid", "bce")(zt, torch.ones((5, 3), dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(zt.grad.numpy(), [[-2.5, -2.5, -2.5]])


def test_torch_loss_fn_refuses_targets_that_require_grad():
    converter("torch")
    import torch

    from derive.torch import loss_fn

    with pytest.raises(ValueError, match=r"not differentiated; pass y\.detach\(\)"):
        loss_fn("sigmoid", "bce")(torch.zeros(2, 3), torch.zeros(2, 3, requires_grad=True))


def test_torch_kernel_on_a_tensor_that_requires_grad():
    converter("torch")
    import torch

    z = torch.tensor([[2.0, -1.0, 0.5]], requires_grad=True)
    out = kernels.activation("tanh")(z)  # the functional kernel: autograd records it
    assert isinstance(out, torch.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), kernels.activation("tanh").derivative(z.detach().numpy()), rtol=1e-6)


def test_torch_cpu_tensors_run_the_numpy_kernels_on_their_memory():
    converter("torch")
    import torch

    from derive.kernels.xp import host_views

    z, y = torch.randn(3, 4), torch.rand(3, 4)
    (zv, yv), wrap = host_views("torch", [z, y])
    assert np.shares_memory(zv, z.numpy()) and np.shares_memory(yv, y.numpy())
    out = kernels.get("sigmoid", "bce").delta(z, y)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), kernels.get("sigmoid", "bce").delta(z.numpy(), y.numpy()))
    assert host_views("torch", [z.requires_grad_(True), y]) is None  # autograd records: the functional kernels
    with torch.no_grad():
        assert host_views("torch", [z, y]) is not None


@pytest.mark.parametrize("compiler", ["eager", "aot_eager"])
def test_torch_compile_of_a_function_calling_a_kernel(compiler):
    """Dynamo traces the kernels (the 'eager' and 'aot_eager' backends: tracing and AOT autograd
    without a C++ build, which takes ~50 s on these cores; inductor runs in bench/gpu_check.sh)."""
    converter("torch")
    import torch

    from derive.torch import loss_fn

    torch._dynamo.reset()
    f = loss_fn("softmax", "cce")

    def step(z, y):
        return f(z, y).mean()

    z = torch.tensor([[1000.0, 0.0, -1000.0], [0.5, 0.25, -2.0]], requires_grad=True)
    y = torch.tensor([[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dynamo's own notes on the libraries it traces
        compiled = torch.compile(step, backend=compiler)(z, y)
    compiled.backward()
    grad, z.grad = z.grad.clone(), None
    step(z, y).backward()
    assert torch.equal(grad, z.grad) and torch.isfinite(grad).all()


# --- JAX --------------------------------------------------------------------------------------------------

def test_jax_jit_vmap_grad_of_kernels():
    convert = converter("jax")
    import jax

    z = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.25, -2.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    k = kernels.get("softmax", "cce")
    np.testing.assert_allclose(np.asarray(jax.jit(k.delta)(convert(z), convert(y))), k.delta(z, y), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(jax.vmap(k.loss)(convert(z), convert(y))), k.loss(z, y), rtol=1e-14)
    f = kernels.activation("tanh")
    grad = jax.grad(lambda v: f(v).sum())(convert(np.array([0.5, -2.0])))
    np.testing.assert_allclose(np.asarray(grad), f.derivative(np.array([0.5, -2.0])), rtol=1e-14)


def test_jax_loss_fn_gradient_is_the_delta_under_jit():
    convert = converter("jax")
    import jax

    from derive.jax import loss_fn

    z = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.25, -2.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    w = np.array([2.0, -3.0])
    for activation, loss in [("softmax", "cce"), ("softmax", "bce"), ("sigmoid", "bce")]:
        f = loss_fn(activation, loss)
        grad = jax.jit(jax.grad(lambda v: (f(v, convert(y)) * convert(w)).sum()))(convert(z))
        # the gradient is the delta kernel on the same backend (NumPy's rows may differ by a few ulps) ...
        delta = np.asarray(kernels.get(activation, loss).delta(convert(z), convert(y)))
        np.testing.assert_allclose(np.asarray(grad), w[:, None] * delta, rtol=1e-15, atol=0)
        # ... and that delta is right: the mpmath oracle from the textbook definition, derive.testing's rule
        check_output(delta, activation, loss, "delta", {"z": z, "y": y})
        assert np.all(np.isfinite(np.asarray(grad)))


def test_jax_target_check_raises_eagerly_and_gives_nan_rows_under_jit():
    convert = converter("jax")
    import jax

    k = kernels.get("softmax", "cce")
    z, y = convert(np.zeros((2, 3))), convert(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]]))
    with pytest.raises(ValueError, match="row 1 of y"):
        k.delta(z, y)
    got = np.asarray(jax.jit(k.delta)(z, y))
    assert np.all(np.isfinite(got[0])) and np.all(np.isnan(got[1]))


# --- Dask -------------------------------------------------------------------------------------------------

def test_dask_is_lazy_and_warns_once_when_rows_are_split():
    converter("dask")
    import dask.array as da

    from derive.kernels import chunked

    chunked._warned = False
    z = da.from_array(np.zeros((4, 6)), chunks=(2, 3))
    k = kernels.get("softmax", "cce")
    with pytest.warns(chunked.RowChunkWarning, match="rechunked"):
        out = k.delta(z, da.from_array(np.eye(6)[:4], chunks=(2, 3)))
    assert isinstance(out, da.Array) and out.chunks == ((2, 2), (6,))
    kernels.get("sigmoid", "bce").loss(z, z)  # a second split: no second warning (warnings are errors here)
    elementwise = kernels.get("sigmoid", "bce").delta(z, z)
    assert elementwise.chunks == z.chunks  # elementwise kernels keep the chunks


@pytest.fixture(scope="module")
def cluster():
    converter("dask")
    pytest.importorskip("distributed", reason="distributed is not installed: pip install 'derive[dask]'")
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          memory_limit="1GiB") as c, Client(c) as client:
            yield client


def test_dask_on_a_local_cluster_of_two_worker_processes(cluster):
    import dask.array as da

    rng = np.random.default_rng(7)
    z = rng.normal(0, 100, (40, 5))
    z[0] = [1000.0, -1000.0, 0.0, 710.0, -745.0]
    y = np.eye(5)[rng.integers(0, 5, 40)]
    zd, yd = da.from_array(z, chunks=(10, 5)), da.from_array(y, chunks=(10, 5))
    assert len(cluster.scheduler_info()["workers"]) == 2
    for activation, loss in [("softmax", "cce"), ("sigmoid", "bce"), ("gelu", "huber")]:
        k = kernels.get(activation, loss)
        loss_v, delta_v = cluster.compute([k.loss(zd, yd), k.delta(zd, yd)], sync=True)
        np.testing.assert_array_equal(loss_v, k.loss(z, y))
        np.testing.assert_array_equal(delta_v, k.delta(z, y))
    x = da.from_array(rng.normal(size=(40, 2)), chunks=(10, 2))
    np.testing.assert_array_equal(kernels.get("tanh", "mse").grad_w(x, zd, yd).compute(),
                                  kernels.get("tanh", "mse").grad_w(x.compute(), z, y))
    np.testing.assert_array_equal(kernels.activation("softmax").jacobian(zd).compute(),
                                  kernels.activation("softmax").jacobian(z))
    with pytest.raises(ValueError, match="sums to 2"):
        kernels.get("softmax", "cce").delta(zd, yd * 2).compute()
