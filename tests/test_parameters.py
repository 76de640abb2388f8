"""Call-time parameters (leaky_relu's slope, elu's alpha, huber's delta): symbols in the derivations and
the LaTeX, keywords of the kernels, checked against their domains; the kernels against an mpmath oracle
written from the textbook definitions (not from the derivation) at values across each domain, its edges
included."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.errors import UnknownNameError
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES
from derive.symbolic.pairing import derive_pair

mpmath.mp.dps = 60
mpf = mpmath.mpf


# --- the textbook definitions, in mpmath -------------------------------------------------------------

def elu(z, alpha):
    return z if z > 0 else alpha * mpmath.expm1(z)


def elu_prime(z, alpha):
    return mpf(1) if z > 0 else alpha * mpmath.exp(z)


def leaky(z, slope):
    return z if z > 0 else slope * z


def leaky_prime(z, slope):
    return mpf(1) if z > 0 else mpf(slope)


def huber(r, delta):
    return r * r / 2 if abs(r) <= delta else delta * (abs(r) - delta / 2)


def huber_prime(r, delta):
    return r if abs(r) <= delta else delta * mpmath.sign(r)


ACTS = {"elu": (elu, elu_prime, "alpha"), "leaky_relu": (leaky, leaky_prime, "slope")}
VALUES = {"alpha": [1e-3, 0.5, 1.0, 3.0, 1e3], "slope": [0.0, 1e-3, 0.1, 0.999], "delta": [1e-3, 0.5, 1.0, 2.0, 1e3]}
Z = np.array([-800.0, -50.0, -3.0, -0.6, -0.5, -0.4, -1e-9, 0.0, 1e-9, 0.7, 5.0, 1e3, 1e300])
ULPS = 8 * np.finfo(np.float64).eps


def close(got, want, rel=ULPS):
    want = mpf(want)
    tiny = np.finfo(np.float64).tiny
    return abs(mpf(float(got)) - want) <= rel * abs(want) + tiny


# --- symbols in the derivations ------------------------------------------------------------------------

def test_entries_declare_parameters_with_defaults_and_domains():
    z = sp.Symbol("z", real=True)
    elu_entry, leaky_entry, huber_entry = ACTIVATIONS["elu"], ACTIVATIONS["leaky_relu"], LOSSES["huber"]
    alpha = elu_entry.symbols["alpha"]
    assert alpha.is_positive and leaky_entry.symbols["slope"].is_nonnegative and huber_entry.symbols["delta"].is_positive
    assert elu_entry.f(z, **elu_entry.symbols).has(alpha) and not elu_entry.f(z).free_symbols - {z}  # default: alpha = 1
    assert elu_entry.range == sp.Interval.open(-1, sp.oo)
    assert elu_entry.range_of(**elu_entry.symbols) == sp.Interval.open(-alpha, sp.oo)
    assert [p.default for p in leaky_entry.params] == [sp.Rational(1, 100)]
    with pytest.raises(TypeError, match="unknown parameter 'beta'; known: alpha"):
        elu_entry.f(z, beta=1)


def test_derivations_keep_parameters_as_symbols_and_record_given_values():
    d = derive_pair("elu", "quadratic", alpha=0.5)
    alpha = ACTIVATIONS["elu"].symbols["alpha"]
    assert alpha in d.delta.free_symbols and d.values == (("alpha", 0.5),) and d.parameters == {"alpha": 0.5}
    a, y = sp.Symbol("a"), sp.Symbol("y")
    assert derive_pair("elu", "quadratic").parameters == {"alpha": 1}
    lh = derive_pair("leaky_relu", "huber")
    assert {s.name for s in lh.delta.free_symbols if not isinstance(s, sp.Indexed)} >= {"slope", "delta"}
    latex = lh._repr_latex_()
    assert r"\delta_{\mathrm{H}}" in latex and "s" in latex and "0.01" not in latex
    assert r"\operatorname{ELU}_{\alpha}" in sp.latex(d.steps[1].rhs) or r"\alpha" in d._repr_latex_()
    del a, y


def test_oracle_input_of_a_derivation_uses_the_given_values():
    from derive.symbolic.functions import elu as elu_fn
    from derive.symbolic.symbols import a, j, z

    alpha = ACTIVATIONS["elu"].symbols["alpha"]
    assert derive_pair("elu", "quadratic").in_z(a[j]) == elu_fn(z[j])  # the default, 1
    given = derive_pair("elu", "quadratic", alpha=0.5).in_z(a[j] + alpha)
    assert given == elu_fn(z[j], sp.Float(0.5)) + sp.Float(0.5)


@pytest.mark.parametrize("call,message", [
    (lambda: derive_pair("elu", "quadratic", beta=2), r"unknown parameter 'beta' of elu \+ quadratic; its parameters: alpha"),
    (lambda: derive_pair("elu", "quadratic", alpha=0), r"elu \+ quadratic's parameter alpha must be in \(0, oo\), got 0"),
    (lambda: derive_pair("leaky_relu", "huber", slope=1), r"slope must be in \[0, 1\), got 1"),
    (lambda: derive_pair("leaky_relu", "huber", delta=float("inf")), r"delta must be in \(0, oo\), got inf"),
    (lambda: derive_pair("sigmoid", "bce", alpha=1), "its parameters: none"),
])
def test_derive_pair_refuses_unknown_names_and_values_outside_the_domain(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- kernels: keywords, checked without SymPy ------------------------------------------------------------

@pytest.mark.parametrize("call,error,message", [
    (lambda: kernels.get("leaky_relu", "huber", gamma=1), UnknownNameError,
     "unknown parameter 'gamma' of leaky_relu \\+ huber; its parameters: slope, delta"),
    (lambda: kernels.activation("elu", alpha=-1.0), ValueError, r"elu's parameter alpha must be in \(0, oo\), got -1.0"),
    (lambda: kernels.activation("elu", alpha=float("nan")), ValueError, r"must be in \(0, oo\), got nan"),
    (lambda: kernels.get("leaky_relu", "l1", slope=1.0), ValueError, r"slope must be in \[0, 1\), got 1.0"),
    (lambda: kernels.get("identity", "huber", delta=0.0), ValueError, r"delta must be in \(0, oo\), got 0.0"),
    (lambda: kernels.activation("elu", alpha=True), TypeError, "alpha is a real number, got bool"),
    (lambda: kernels.activation("elu", alpha="2"), TypeError, "alpha is a real number, got str"),
    (lambda: kernels.activation("tanh", alpha=1.0), UnknownNameError, "its parameters: none"),
])
def test_kernels_refuse_unknown_names_and_values_outside_the_domain(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_defaults_are_the_fixed_values_of_before():
    # the plain kernels are those at the defaults (the fixed-value rules: huber's clip at 1, elu(z) - y);
    # the kernels taking the parameters agree with them there
    z = np.linspace(-5, 5, 41)[None, :]
    y = np.cos(z) * 3
    for act, lo, values in [("leaky_relu", "huber", dict(slope=0.01, delta=1.0)), ("elu", "l1", dict(alpha=1.0)),
                            ("softmax", "huber", dict(delta=1.0))]:
        plain, general = kernels.get(act, lo), kernels._bound_kernel(act, lo, values)
        assert kernels.get(act, lo, **values) is plain and "(" in repr(general)
        np.testing.assert_allclose(general.delta(z, y), plain.delta(z, y), rtol=4 * ULPS, atol=1e-300)
        np.testing.assert_allclose(general.loss(z, y), plain.loss(z, y), rtol=4 * ULPS, atol=1e-300)


@pytest.mark.parametrize("name", ["elu", "leaky_relu"])
def test_activation_kernels_match_the_oracle_across_the_domain(name):
    f, fprime, param = ACTS[name]
    for value in VALUES[param]:
        k = kernels.activation(name, **{param: value})
        got, dgot = k(Z), k.derivative(Z)
        for zi, g, dg in zip(Z, got, dgot):
            assert close(g, f(mpf(zi), mpf(value))), (name, value, zi, g)
            assert close(dg, fprime(mpf(zi), mpf(value))), (name, value, zi, dg)


@pytest.mark.parametrize("act", ["identity", "elu", "leaky_relu", "sigmoid"])
def test_huber_pairings_match_the_oracle_across_the_domain(act):
    f, fprime, param = ACTS.get(act, (None, None, None))
    y = np.array([0.0, 1.0, -2.0, 1e3, -1e200])
    zs = Z[np.abs(Z) < 1e200][:, None] * np.ones_like(y)
    ys = np.broadcast_to(y, zs.shape)
    for delta in VALUES["delta"]:
        for value in (VALUES[param] if param else [None]):
            given = {"delta": delta, **({param: value} if param else {})}
            k = kernels.get(act, "huber", **given)
            got = k.delta(zs, ys)
            for idx in np.ndindex(zs.shape):
                zi, yi = mpf(zs[idx]), mpf(ys[idx])
                if f is None:
                    a, da = (zi, mpf(1)) if act == "identity" else (1 / (1 + mpmath.exp(-zi)), None)
                    da = da if da is not None else a * (1 - a)
                else:
                    a, da = f(zi, mpf(value)), fprime(zi, mpf(value))
                want = huber_prime(a - yi, mpf(delta)) * da
                assert close(got[idx], want, rel=1e-12), (act, given, zs[idx], ys[idx], got[idx], want)


def test_huber_loss_is_finite_and_exact_far_past_the_threshold():
    z = np.array([[1e200, -1e200, 0.3]])
    y = np.zeros_like(z)
    for delta in VALUES["delta"]:
        got = kernels.get("identity", "huber", delta=delta).loss(z, y)[0]
        want = sum(huber(mpf(v), mpf(delta)) for v in z[0])
        assert close(got, want, rel=1e-14), (delta, got)
    with np.errstate(over="ignore"):
        assert np.isinf(np.square(z[0, 0]) / 2)  # the branch the kernel does not evaluate: r**2 overflows


def test_elu_residual_rule_holds_for_every_alpha():
    # a - y at y = -alpha and z = -50: alpha (e^z - 1) rounds to -alpha, the naive residual is 0; the value
    # is alpha e^-50 (quadratic's delta multiplies it by elu' = alpha e^z)
    z = np.array([[-50.0, -30.0, -0.75]])
    for alpha in VALUES["alpha"]:
        y = np.full_like(z, -alpha)
        got = kernels.get("elu", "quadratic", alpha=alpha).delta(z, y)[0]
        naive = (alpha * np.expm1(z[0]) - y[0]) * alpha * np.exp(z[0])
        for zi, g in zip(z[0], got):
            want = alpha * mpmath.exp(zi) * alpha * mpmath.exp(zi)
            assert close(g, want, rel=1e-13), (alpha, zi, g, want)
        assert naive[0] == 0.0  # the naive form fails where the rule is needed


def test_leaky_max_form_at_the_domain_edges():
    z = np.array([-1e300, -1.0, -5e-324, 0.0, 2.0])
    for slope in (0.0, 0.999999):
        got = kernels.activation("leaky_relu", slope=slope)(z)
        assert np.array_equal(got, np.where(z > 0, z, slope * z)), slope


def test_parameters_pass_through_dask_and_the_array_api_backends():
    torch = pytest.importorskip("torch")
    da = pytest.importorskip("dask.array")
    z = np.array([[-3.0, -0.2, 0.5, 4.0], [1.0, -1.0, 2.0, -6.0]])
    y = np.array([[1.0, 0.0, -2.0, 0.0], [0.0, 0.0, 9.0, 1.0]])
    k = kernels.get("leaky_relu", "huber", slope=0.2, delta=0.5)
    want = k.delta(z, y)
    zt = torch.tensor(z, requires_grad=True)
    assert np.allclose(k.delta(zt, torch.tensor(y)).detach().numpy(), want, rtol=1e-14, atol=0)
    assert np.allclose(k.loss(da.from_array(z, chunks=(1, 4)), da.from_array(y, chunks=(1, 4))).compute(), k.loss(z, y), rtol=1e-14)
    f = kernels.activation("elu", alpha=0.5)
    assert np.allclose(f.derivative(torch.tensor(z, requires_grad=True)).detach().numpy(), f.derivative(z), rtol=1e-14)
    assert not np.allclose(kernels.get("leaky_relu", "huber").delta(z, y), want)  # the values did pass


def test_parametric_ranges_are_proved_for_every_value_and_a_wrong_end_is_not():
    from proofs.checker import check_lt
    from proofs.parametric import PARAMETRIC_PROOFS

    for name, proof in PARAMETRIC_PROOFS.items():
        assert proof().verdict.proved, (name, proof().verdict)
    z = sp.Symbol("z", real=True)
    act = ACTIVATIONS["elu"]
    alpha = act.symbols["alpha"]
    f = act.f(z, **act.symbols)
    wrong = check_lt(-alpha / 2, f, sp.Piecewise((z + alpha / 2, z > 0), (alpha * sp.exp(z) - alpha / 2, True)),
                     {z: sp.S.Reals, alpha: sp.Interval.open(0, sp.oo)})
    assert not wrong.proved  # elu_alpha goes below -alpha/2: that certificate's sign is not shown


def test_swish_and_focal_are_catalogue_lines_with_parameters():
    from derive.symbolic.catalogue import invalid_reason

    assert [p.name for p in ACTIVATIONS["swish"].params] == ["beta"] and [p.name for p in LOSSES["focal"].params] == ["gamma"]
    assert "not independent" in invalid_reason(ACTIVATIONS["softmax"], LOSSES["focal"])
    assert invalid_reason(ACTIVATIONS["sigmoid"], LOSSES["focal"]) is None
    W = float(mpmath.lambertw(1 / mpmath.e))
    for beta in (0.25, 1.0, 4.0):
        f = kernels.activation("swish", beta=beta)
        zstar = (-1 - W) / beta
        assert abs(f(np.array([zstar]))[0] + W / beta) <= 1e-15 * W / beta  # the proved minimum, attained
        z = np.array([-1e3, -5.0, 0.3, 7.0, 1e3])
        for zi, g, dg in zip(z, f(z), f.derivative(z)):
            s = 1 / (1 + mpmath.exp(-beta * mpf(zi)))
            assert close(g, zi * s) and close(dg, s + beta * zi * s * (1 - s), rel=1e-13), (beta, zi)


def focal_oracle(z, y, gamma):
    a = 1 / (1 + mpmath.exp(-z))
    term = lambda a: -(y * (1 - a) ** gamma * mpmath.log(a) + (1 - y) * a ** gamma * mpmath.log(1 - a))  # noqa: E731
    return term(a), mpmath.diff(lambda t: term(1 / (1 + mpmath.exp(-t))), z)


def test_focal_with_sigmoid_matches_the_oracle_and_stays_finite_at_1000():
    z = np.array([-1000.0, -40.0, -3.0, 0.0, 0.5, 40.0, 1000.0])
    for gamma in (0.0, 0.5, 2.0, 5.0):
        k = kernels.get("sigmoid", "focal", gamma=gamma)
        for y in (0.0, 1.0, 0.25):
            ys = np.full_like(z, y)
            delta = k.delta(z[None, :], ys[None, :])[0]
            losses = [k.loss(np.array([[zi]]), np.array([[y]]))[0] for zi in z]
            assert np.all(np.isfinite(delta)) and np.all(np.isfinite(losses))
            for zi, d, lo in zip(z, delta, losses):
                with mpmath.workdps(1200):  # exp(-1000) and the 1000-digit cancellations of the textbook form
                    want_l, want_d = focal_oracle(mpf(zi), mpf(y), mpf(gamma))
                assert close(lo, want_l, rel=1e-12) and close(d, want_d, rel=1e-12), (gamma, y, zi, lo, d)
    with np.errstate(all="ignore"):  # the textbook form, as written, at z = 1000: 1 - a = 0, log 0
        a = 1 / (1 + np.exp(-1000.0))
        assert not np.isfinite(-(0.0 * (1 - a) ** 2 * np.log(a) + 1.0 * a**2 * np.log(1 - a)))


def test_loss_and_activation_parameters_given_together():
    d = derive_pair("leaky_relu", "huber", slope=0.5, delta=2)
    assert d.parameters == {"slope": 0.5, "delta": 2}
    z, y = np.array([[-4.0, 3.0]]), np.array([[0.0, 0.0]])
    assert np.array_equal(kernels.get("leaky_relu", "huber", slope=0.5, delta=2).delta(z, y), [[-1.0, 2.0]])
