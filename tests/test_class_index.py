"""Class-index targets for softmax + cce (PyTorch's convention): an integer y of shape z.shape[:-1].

Checked three ways: against the one-hot path of the same kernel (every method and reduction),
against the textbook cost in mpmath (logsumexp(z) - z_t and e^z / sum e^z - onehot, 60 digits
beyond the logits' size, never our formulas) at inputs where the naive float forms fail, and the refusals.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from derive import kernels
from derive.kernels import class_index

K = kernels.get("softmax", "cce")
RNG = np.random.default_rng(7)


def _one_hot(t, n, dtype):
    return np.eye(n, dtype=dtype)[t]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 4), (7,), (3000, 700)])  # (3000, 700): blocked, threaded
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_indices_agree_with_one_hot_rows(dtype, shape, reduction):
    z = RNG.normal(0, 5, shape).astype(dtype)
    t = RNG.integers(0, shape[-1], shape[:-1])
    y = _one_hot(t, shape[-1], dtype)
    x = RNG.normal(0, 1, (*shape[:-1], 3)).astype(dtype)
    eps = np.finfo(dtype).eps
    for method, args in (("loss", ()), ("delta", ()), ("grad_b", ()), ("grad_w", (x,))):
        got = getattr(K, method)(*args, z, t, reduction=reduction)
        want = getattr(K, method)(*args, z, y, reduction=reduction)
        assert got.dtype == want.dtype == dtype and got.shape == want.shape, method
        scale = np.max(np.abs(want)) if method in ("grad_b", "grad_w") and reduction != "none" else 1.0
        # a row's sum of n terms: a few ulps per term of the largest
        np.testing.assert_allclose(got, want, rtol=64 * eps, atol=64 * eps * scale * shape[-1], err_msg=method)


def _textbook(z, t):
    """(logsumexp(z) - z_t, e^z / sum e^z - onehot(t)) from the definitions, 60 digits past max |z|'s
    size (log sum e^z - z_t at z ~ 1e300 keeps its value only with 300 digits more)."""
    with mpmath.workdps(60 + int(np.log10(1.0 + np.max(np.abs(z.astype(np.float64)))))):
        zs = [mpmath.mpf(float(v)) for v in z]
        total = mpmath.fsum(mpmath.exp(v) for v in zs)
        loss = mpmath.log(total) - zs[t]
        delta = [mpmath.exp(v) / total - (1 if k == t else 0) for k, v in enumerate(zs)]
    return loss, delta


def _close(got, want, dtype, c=8):
    """|got - want| <= c (eps |want| + smallest subnormal): a forward error, no target perturbation."""
    info = np.finfo(dtype)
    want = float(want)
    return abs(float(got) - want) <= c * (float(info.eps) * abs(want) + float(info.smallest_subnormal))


EDGES = [  # (row, target): saturated rows, where a_t rounds to 1 and log a_t to 0
    ([40.0, 0.0, 0.0], 0),
    ([800.0, 0.0, -5.0], 0),
    ([0.0, 60.0, 1.0], 0),
    ([1e-8, 0.0], 0),  # close logits
    ([5.0, 5.0, 5.0], 2),  # ties at the top
    ([1e300, -1e300, 0.0], 0),  # a row spanning more than the float range
    ([-1e300, 1e300, 1e300], 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row,t", EDGES)
def test_matches_the_textbook_cost_in_mpmath(dtype, row, t):
    z = np.array(row, dtype=np.float64)
    z = z.clip(np.finfo(dtype).min, np.finfo(dtype).max).astype(dtype)
    loss, delta = K.loss(z, t), K.delta(z, t)
    want_loss, want_delta = _textbook(z, t)
    assert _close(loss, want_loss, dtype), (loss, want_loss)
    for k, (g, w) in enumerate(zip(delta, want_delta)):
        assert _close(g, w, dtype), (k, g, w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_batch_mixing_every_path_matches_mpmath(dtype):
    """Rows taken unshifted and rows redone max-shifted (all logits far below 0, past the float
    range, one-hot-like), side by side in one batch of each shape."""
    big = float(np.finfo(dtype).max) / 2
    rows = [[0.5, -1.0, 2.0, 0.0], [-800.0, -790.0, -805.0, -800.0], [100.0, 1000.0, -3.0, 0.0],
            [-big, big, 0.0, 1.0], [30.0, -30.0, 0.0, 0.0], [-0.1, -50.0, -60.0, -70.0]]
    z = np.array(rows, dtype=np.float64).clip(np.finfo(dtype).min, np.finfo(dtype).max).astype(dtype)
    t = np.array([2, 1, 0, 1, 0, 0])
    for zz, tt in ((z, t), (z.reshape(2, 3, 4), t.reshape(2, 3)), (np.asfortranarray(z), t)):
        loss, delta = K.loss(zz, tt).reshape(-1), K.delta(zz, tt).reshape(-1, 4)
        for i, (row, ti) in enumerate(zip(z, t)):
            want_loss, want_delta = _textbook(row, ti)
            assert _close(loss[i], want_loss, dtype), (i, loss[i], want_loss)
            assert all(_close(g, w, dtype) for g, w in zip(delta[i], want_delta)), (i, delta[i], want_delta)
    # blocked and threaded (2.4e6 elements), the redone rows in every block: as one small call, bit for bit
    zb, tb = np.tile(z, (100_000, 1)), np.tile(t, 100_000)
    np.testing.assert_array_equal(K.loss(zb, tb), np.tile(K.loss(z, t), 100_000))
    np.testing.assert_array_equal(K.delta(zb, tb), np.tile(K.delta(z, t), (100_000, 1)))


def test_the_naive_forms_fail_where_these_do_not():
    z, t = np.array([40.0, 0.0, 0.0]), 0
    e = np.exp(z - z.max())
    naive_loss = -np.log(e[t] / e.sum())  # log of a_t, which rounds to 1
    naive_delta_t = e[t] / e.sum() - 1.0
    want_loss, want_delta = _textbook(z, t)
    assert naive_loss == 0.0 and naive_delta_t == 0.0  # every digit lost
    assert float(want_loss) > 0 and not _close(naive_delta_t, want_delta[t], np.float64)
    assert _close(K.loss(z, t), want_loss, np.float64) and _close(K.delta(z, t)[t], want_delta[t], np.float64)


@given(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=8), st.data())
@example([0.0, 700.0, -700.0], None)
def test_random_rows_match_mpmath(row, data):
    t = 0 if data is None else data.draw(st.integers(0, len(row) - 1))
    z = np.array(row)
    want_loss, want_delta = _textbook(z, t)
    assert _close(K.loss(z, t), want_loss, np.float64)
    assert all(_close(g, w, np.float64) for g, w in zip(K.delta(z, t), want_delta))


@pytest.mark.parametrize("t,dtype", [(np.array([1, 0], np.int8), np.float32), (np.array([1, 0], np.uint64), np.float64)])
def test_any_integer_dtype_and_the_logits_dtype(t, dtype):
    z = np.array([[1.0, 2.0], [3.0, -1.0]], dtype)
    assert K.loss(z, t).dtype == dtype and K.delta(z, t).dtype == dtype
    np.testing.assert_allclose(K.loss(z, t), K.loss(z, _one_hot(t, 2, dtype)), rtol=64 * np.finfo(dtype).eps)


def test_integer_logits_and_a_python_index():
    np.testing.assert_allclose(K.loss(np.array([0, 1, 2]), 2), np.log(np.exp([0, 1, 2]).sum()) - 2, rtol=1e-15)
    assert K.delta(np.array([0, 1, 2]), 2).dtype == np.float64


@pytest.mark.parametrize("t,match", [
    (np.array([0, 3]), r"class index 3 at sample 1 is outside \[0, 3\)"),
    (np.array([-1, 0]), r"class index -1 at sample 0 is outside \[0, 3\).*negative"),
])
def test_indices_out_of_range_are_named(t, match):
    for method in (K.loss, K.delta, K.grad_b):
        with pytest.raises(ValueError, match=match):
            method(np.zeros((2, 3)), t)


def test_an_index_out_of_range_in_a_blocked_call_is_named():
    t = np.zeros((3000, 5), np.int64)
    t[2001, 4] = 700
    with pytest.raises(ValueError, match=r"class index 700 at sample \(2001, 4\) is outside \[0, 700\)"):
        K.delta(np.zeros((3000, 5, 700)), t)


@pytest.mark.parametrize("y,kind", [(np.array([0.0, 1.0]), "float64"), (np.array([True, False]), "bool")])
def test_non_integer_targets_of_the_index_shape_are_refused(y, kind):
    with pytest.raises(ValueError, match=rf"class indices, which must be integers, got dtype {kind}.*astype\(int\)"):
        K.loss(np.zeros((2, 3)), y)


def test_indices_of_the_wrong_shape_name_both_shapes():
    with pytest.raises(ValueError, match=r"must have shape z.shape\[:-1\] = \(2,\).*got shape \(4,\).*\(2, 3\)"):
        K.delta(np.zeros((2, 3)), np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"shape mismatch: x has shape \(5, 4\) and delta has shape \(2, 3\)"):
        K.grad_w(np.zeros((5, 4)), np.zeros((2, 3)), np.array([0, 1]))


def test_integer_one_hot_rows_of_the_logits_shape_keep_their_meaning():
    z = RNG.normal(size=(2, 3))
    y = np.array([[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(K.loss(z, y), K.loss(z, y.astype(float)))  # the one-hot path itself
    np.testing.assert_allclose(K.loss(z, y), K.loss(z, np.array([1, 0])), rtol=64 * np.finfo(float).eps)


def test_other_pairings_do_not_read_indices():
    assert not class_index.applies(kernels.get("sigmoid", "bce"), np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match="shape mismatch"):
        kernels.get("sigmoid", "bce").loss(np.zeros((2, 3)), np.array([0, 1]))


def test_torch_loss_with_indices_matches_cross_entropy():
    torch = pytest.importorskip("torch")
    from derive.torch import loss_fn

    F = torch.nn.functional
    z = torch.tensor(RNG.normal(0, 5, (6, 5)), requires_grad=True)
    t = torch.tensor(RNG.integers(0, 5, 6))
    loss = loss_fn("softmax", "cce")(z, t)
    loss.mean().backward()
    z2 = z.detach().clone().requires_grad_()
    want = F.cross_entropy(z2, t, reduction="none")
    want.mean().backward()
    torch.testing.assert_close(loss, want, rtol=1e-14, atol=0)
    torch.testing.assert_close(z.grad, z2.grad, rtol=1e-13, atol=1e-16)
    with pytest.raises(ValueError, match="class index 5"):
        loss_fn("softmax", "cce")(z, torch.tensor([5, 0, 0, 0, 0, 0]))


def test_jax_loss_with_indices_under_grad_and_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from derive.jax import loss_fn

    f = loss_fn("softmax", "cce")
    z = jnp.asarray(RNG.normal(0, 5, (6, 5)).astype(np.float32))
    t = jnp.asarray(RNG.integers(0, 5, 6))
    want = jax.nn.logsumexp(z, axis=-1) - z[jnp.arange(6), t]
    np.testing.assert_allclose(f(z, t), want, rtol=1e-5)
    np.testing.assert_allclose(jax.jit(f)(z, t), want, rtol=1e-5)
    grad = jax.jit(jax.grad(lambda z: f(z, t).sum()))(z)
    np.testing.assert_allclose(grad, jax.nn.softmax(z) - jax.nn.one_hot(t, 5), atol=1e-6)
    with pytest.raises(ValueError, match="class index 9"):
        f(z, jnp.asarray([9, 0, 0, 0, 0, 0]))


def test_other_array_kinds_take_one_hot_rows_in_their_namespace():
    xs = pytest.importorskip("array_api_strict")
    z, t = RNG.normal(0, 3, (6, 5)), RNG.integers(0, 5, 6)
    for method in ("loss", "delta"):
        got = getattr(K, method)(xs.asarray(z), xs.asarray(t))
        assert isinstance(got, type(xs.asarray(z)))
        np.testing.assert_allclose(np.asarray(got), getattr(K, method)(z, t), rtol=1e-14, atol=1e-16)
    with pytest.raises(ValueError, match=r"class index 7 at sample 5 is outside \[0, 5\)"):
        K.loss(xs.asarray(z), xs.asarray(np.array([0, 1, 2, 3, 4, 7])))


def test_dask_indices_are_checked_chunk_by_chunk_at_compute():
    da = pytest.importorskip("dask.array")
    z, t = RNG.normal(0, 3, (6, 5)), RNG.integers(0, 5, 6)
    dz, dt = da.from_array(z, chunks=(3, 5)), da.from_array(t, chunks=3)
    np.testing.assert_allclose(K.loss(dz, dt).compute(), K.loss(z, t), rtol=1e-14)
    np.testing.assert_allclose(K.grad_b(dz, dt, reduction="sum").compute(), K.grad_b(z, t, reduction="sum"), rtol=1e-13)
    lazy = K.loss(dz, da.from_array(np.array([0, 1, 2, 3, 4, 9]), chunks=3))  # nothing computed yet
    with pytest.raises(ValueError, match=r"class index 9 .* outside \[0, 5\)"):
        lazy.compute()
