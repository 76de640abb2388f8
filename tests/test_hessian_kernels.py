"""Second-order kernels against a 50-digit Hessian of the textbook cost.

    oracle H_jk = d^2 C / dz_j dz_k,  C = the cost as defined (a = f(z) by each function's elementary
    definition; Phi kept, its derivative the Gaussian density), differentiated by SymPy for the row
    and evaluated in mpmath (``derive.testing.reference``: working digits, certified twice)

Nothing of ``Derivation.hessian`` or ``derive.compile.second_order`` is used by the oracle. Where C
has a kink in the row (relu at 0, |a - y| at a = y, |r| = delta) the Hessian does not exist and
the row is not compared. Tolerance: the rule of ``derive.testing.reference`` (float64, rtol 1e-12),
v's entries perturbed like the other inputs for hvp (H v is linear in v: rtol sum_k |H_jk v_k|).
"""

from functools import cache

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings

from derive import kernels
from derive.kernels import _generated_second
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.symbolic.functions import NamedFunction, Phi
from derive.symbolic.pairing import derive_pair
from derive.testing import strategies as sts
from derive.testing.matching import KernelMismatch, show_array
from derive.testing.reference import _certified, _lambdify, _oracle_form, rtol_for, tolerance, working_digits
from derive.symbolic.symbols import n as n_sym, y as y_base, z as z_base

DTYPE = np.dtype(np.float64)
RTOL, TINY = rtol_for(DTYPE), float(np.finfo(DTYPE).tiny)
PAIRS = [p for p in valid_pairings() if p not in _generated_second.MISSING]
EDGES = (30.0, 40.0, 700.0, 1000.0)


def _definition(expr):
    """Named functions by their elementary definitions; Phi stays (the oracle evaluates it by ncdf)."""
    return expr.replace(lambda e: isinstance(e, NamedFunction) and not isinstance(e, Phi),
                        lambda e: _definition(e.definition(*e.args)))


@cache
def _oracle(activation, loss, units):
    """(H entries row-major, kink expressions) of the cost for a row of ``units``, lambdified for mpmath."""
    d = derive_pair(activation, loss)
    params = {p.symbol: p.default for e in (ACTIVATIONS[activation], LOSSES[loss]) for p in getattr(e, "params", ())}
    zs, ys = sp.symbols(f"z1:{units + 1}", real=True), sp.symbols(f"y1:{units + 1}", real=True)
    cost = _definition(d.in_z(d.cost).xreplace(params)).subs(n_sym, units).doit().subs(n_sym, units).doit()
    cost = cost.replace(lambda e: isinstance(e, sp.Indexed) and e.base in (z_base, y_base),
                        lambda e: (zs if e.base == z_base else ys)[int(e.indices[0]) - 1])
    H = [sp.diff(cost, zs[r], zs[c]) for r in range(units) for c in range(units)]
    kinks = set()
    for h in H:
        kinks |= {e.args[0] for e in h.atoms(sp.DiracDelta, sp.Heaviside, sp.sign, sp.Abs)}
        kinks |= {c.lhs - c.rhs for pw in h.atoms(sp.Piecewise) for _, cond in pw.args
                  for c in cond.atoms(sp.core.relational.Relational)}
        kinks |= {m.args[0] - m.args[1] for m in h.atoms(sp.Max, sp.Min) if len(m.args) == 2}
    H = [_oracle_form(h.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)) for h in H]
    kinks = [_oracle_form(k) for k in kinks if k.free_symbols]
    return _lambdify([list(zs), list(ys)], H), _lambdify([list(zs), list(ys)], kinks or [sp.S.One])


def _raw(activation, loss):
    return lambda zr, yr: _oracle(activation, loss, len(zr))[0]([mpmath.mpf(v) for v in zr], [mpmath.mpf(v) for v in yr])


def true_hessian(activation, loss, z_row, y_row):
    """The n x n Hessian (mpmath, 50 digits) at one row, or None at a kink of the cost."""
    fn, kinks = _oracle(activation, loss, len(z_row))
    with mpmath.workdps(working_digits(z_row)):
        if any(k == 0 for k in kinks([mpmath.mpf(v) for v in z_row], [mpmath.mpf(v) for v in y_row])):
            return None
    flat = _certified(fn, [list(z_row), list(y_row)], working_digits(z_row))
    units = len(z_row)
    return [flat[r * units:(r + 1) * units] for r in range(units)]


def _fail(what, activation, loss, z, y, idx, got, want, err, bound):
    raise KernelMismatch(f"{activation} + {loss}: {what} differs from the Hessian of the cost\n"
                         f"  inputs: z = {show_array(z)}, y = {show_array(y)}\n  at index {idx}:\n"
                         f"    mpmath {mpmath.nstr(want, 20)}\n    kernel {float(got)!r}\n"
                         f"    |difference| {mpmath.nstr(err, 3)} > allowed {mpmath.nstr(bound, 3)}")


def _compare(what, activation, loss, z, y, got, want_fn, extra=None):
    """got[idx] against want_fn(z_row, y_row) (a flat list), by the tolerance rule; ``extra(z_row, y_row, c)``
    adds the spread of inputs beyond z and y (v)."""
    zb, yb = np.broadcast_arrays(z, y)
    for idx in np.ndindex(zb.shape[:-1]):
        z_row, y_row = [float(v) for v in zb[idx]], [float(v) for v in yb[idx]]
        H = true_hessian(activation, loss, z_row, y_row)
        if H is None:
            continue
        want = want_fn(H, idx)
        flat = np.asarray(got[idx], dtype=np.float64).ravel()
        for c, (w, g) in enumerate(zip(want, flat)):
            err = abs(mpmath.mpf(float(g)) - w) if np.isfinite(g) else mpmath.inf
            more = extra(H, idx, c) if extra else 0
            if err <= RTOL * abs(w) + more + TINY:
                continue
            bound = tolerance(lambda zr, yr: want_fn([[*r] for r in _rows(_raw(activation, loss)(zr, yr))], idx),
                              z_row, y_row, want, RTOL, TINY)[c] + more
            if err > bound:
                _fail(what, activation, loss, z, y, (*idx, c), g, w, err, bound)


def _rows(flat):
    units = int(round(len(flat) ** 0.5))
    return [flat[r * units:(r + 1) * units] for r in range(units)]


def _inputs(activation, loss):
    return sts.kernel_inputs(activation, loss, DTYPE)


def _edged(test, activation, loss):
    """``test`` pinned at the edge logits of ``derive.testing`` and at |z| in EDGES (one-hot targets)."""
    units = 3 if not ACTIVATIONS[activation].elementwise else 2
    for v in EDGES:
        z = np.array([[v, -v, 0.0][:units]], dtype=DTYPE)
        test = example({"z": z, "y": np.eye(units, dtype=DTYPE)[:1]})(test)
    return sts.pinned(test, activation, loss, DTYPE)


@pytest.mark.parametrize("activation,loss", PAIRS)
def test_hessian_matches_oracle(activation, loss):
    """hessian (whole matrix), hessian_diag and hvp at Hypothesis points and the edges; finite throughout."""
    k = kernels.get(activation, loss)

    @settings(max_examples=8, deadline=None)
    @given(_inputs(activation, loss))
    def check(inputs):
        z, y = inputs["z"], inputs["y"]
        H = k.hessian(z, y)
        shape = np.broadcast_shapes(z.shape, y.shape)
        assert H.shape == (*shape, shape[-1]) and H.dtype == DTYPE
        _compare("hessian", activation, loss, z, y, H, lambda T, idx: [e for r in T for e in r])
        _compare("hessian_diag", activation, loss, z, y, k.hessian_diag(z, y),
                 lambda T, idx: [T[c][c] for c in range(len(T))])
        v = 2 * np.cos(np.arange(1, shape[-1] + 1, dtype=DTYPE))  # a direction with every sign and size
        hv = k.hvp(z, y, v)
        vb = np.broadcast_to(v, shape)
        _compare("hvp", activation, loss, z, y, hv,
                 lambda T, idx: [mpmath.fsum(T[r][c] * mpmath.mpf(float(vb[idx][c])) for c in range(len(T)))
                                 for r in range(len(T))],
                 extra=lambda T, idx, r: RTOL * mpmath.fsum(abs(T[r][c] * float(vb[idx][c])) for c in range(len(T))))

    _edged(check, activation, loss)()


@pytest.mark.parametrize("activation,loss", PAIRS)
def test_hvp_is_hessian_times_v_and_symmetric(activation, loss):
    """hvp == hessian @ v and H == H^T, to the rounding of a length-n dot product, at the edges and at random."""
    k = kernels.get(activation, loss)
    rng = np.random.default_rng(0)
    units = 2 if ACTIVATIONS[activation].elementwise else 4
    rows = [[v, -v, 0.5, -3.0][:units] for v in (*EDGES, 0.3, -7.0)]
    z = np.array(rows, dtype=DTYPE)
    y = np.eye(units, dtype=DTYPE)[np.arange(len(rows)) % units]
    v = rng.standard_normal(z.shape)
    H = k.hessian(z, y)
    assert np.all(np.isfinite(H)) and np.all(np.isfinite(k.hvp(z, y, v))) and np.all(np.isfinite(k.hessian_diag(z, y)))
    slack = 8 * units * np.finfo(DTYPE).eps * (np.abs(H) @ np.abs(v)[..., None])[..., 0] + TINY
    assert np.all(np.abs(k.hvp(z, y, v) - (H @ v[..., None])[..., 0]) <= slack)
    assert np.all(np.abs(H - np.swapaxes(H, -1, -2)) <= 8 * np.finfo(DTYPE).eps * np.abs(H) + TINY)
    assert np.array_equal(np.diagonal(H, axis1=-2, axis2=-1), k.hessian_diag(z, y))


CANONICAL = [p for p in PAIRS if _generated_second.SECOND[p][0] == "lowrank" and _generated_second.SECOND[p][-1]]


def test_canonical_pairings_have_a_square_root():
    """Every canonical pairing (delta = a - y) of the catalogue has sqrt_hessian, and no other."""
    assert {p for p in valid_pairings() if derive_pair(*p).canonical} - set(_generated_second.MISSING) == set(CANONICAL)
    assert CANONICAL


@pytest.mark.parametrize("activation,loss", CANONICAL)
def test_sqrt_hessian_times_its_transpose_is_the_hessian(activation, loss):
    k = kernels.get(activation, loss)
    units = 2 if ACTIVATIONS[activation].elementwise else 3
    z = np.array([[v, -v, 0.25][:units] for v in (*EDGES, 0.0, 1e-8, -2.5)], dtype=DTYPE)
    y = np.eye(units, dtype=DTYPE)[np.arange(len(z)) % units]
    S, H = k.sqrt_hessian(z), k.hessian(z, y)
    assert S.shape == H.shape and np.all(np.isfinite(S))
    SS = S @ np.swapaxes(S, -1, -2)
    assert np.all(np.abs(SS - H) <= 4 * units * np.finfo(DTYPE).eps * (np.abs(S) @ np.abs(np.swapaxes(S, -1, -2))) + TINY)
    for row in range(len(z)):  # against the oracle too: S S^T = the true Hessian
        want = true_hessian(activation, loss, list(z[row]), list(y[row]))
        for r in range(units):
            for c in range(units):
                assert abs(mpmath.mpf(float(SS[row, r, c])) - want[r][c]) <= 1e-12 * abs(want[r][c]) + 4 * units * \
                    np.finfo(DTYPE).eps * float((np.abs(S[row]) @ np.abs(S[row].T))[r, c]) + TINY


def test_softmax_cce_square_root_is_backpacks():
    """softmax + cce: S = diag(sqrt a) - a sqrt(a)^T (BackPACK's sqrt_hessian of CrossEntropyLoss)."""
    z = np.array([[0.5, -1.0, 2.0]])
    a = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    want = np.diag(np.sqrt(a[0])) - a[0][:, None] * np.sqrt(a[0])[None, :]
    np.testing.assert_allclose(kernels.get("softmax", "cce").sqrt_hessian(z)[0], want, rtol=1e-14, atol=1e-16)


def test_naive_curvature_fails_where_the_kernel_is_right():
    """sigmoid + bce: H = a (1 - a). Naive sigmoid 1/(1 + e^-z) makes 1 - a = 0 at z = 40 (the value is
    4.2e-18), and softmax + cce's naive a - a^2 is 0 at [40, 0]; the kernels keep every digit."""
    z = np.array([40.0])
    naive_a = 1.0 / (1.0 + np.exp(-z))
    assert naive_a * (1.0 - naive_a) == 0.0  # the naive form fails here
    want = true_hessian("sigmoid", "bce", [40.0], [1.0])[0][0]
    got = kernels.get("sigmoid", "bce").hessian_diag(z, np.array([1.0]))[0]
    assert abs(mpmath.mpf(float(got)) - want) <= RTOL * abs(want)
    zs = np.array([[40.0, 0.0]])
    e = np.exp(zs - zs.max(-1, keepdims=True))
    a = e / e.sum(-1, keepdims=True)
    assert (a - a * a)[0, 0] == 0.0  # naive softmax diagonal: 0
    want = true_hessian("softmax", "cce", [40.0, 0.0], [1.0, 0.0])[0][0]
    got = kernels.get("softmax", "cce").hessian(zs, np.array([[1.0, 0.0]]))[0, 0, 0]
    assert abs(mpmath.mpf(float(got)) - want) <= RTOL * abs(want)
    with np.errstate(over="ignore", invalid="ignore"):  # and the fully naive sigmoid at -1000: e^1000 overflows
        assert not np.isfinite(np.exp(1000.0) / (1.0 + np.exp(1000.0)) ** 2)
    assert np.isfinite(kernels.get("sigmoid", "bce").hessian_diag(np.array([-1000.0]), np.array([0.0]))).all()


def test_errors_name_what_is_wrong():
    k = kernels.get("softmax", "cce")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        k.hessian(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"v has shape \(2, 4\).*\(2, 3\)"):
        k.hvp(np.zeros((2, 3)), np.eye(3)[:2], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="sum to 1"):
        k.hessian(np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="canonical"):
        kernels.get("sigmoid", "quadratic").sqrt_hessian(np.zeros((1, 2)))
    for key, reason in _generated_second.MISSING.items():
        with pytest.raises(NotImplementedError, match="not available"):
            kernels.get(*key).hessian(np.zeros((1, 3)), np.full((1, 3), 1 / 3))
    xps = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="NumPy-only"):
        k.hvp(xps.zeros((1, 3)), xps.asarray(np.eye(3)[:1]), xps.zeros((1, 3)))
