"""The catalogue: names, named functions, derivative forms, ranges and pairing validity."""

import mpmath
import pytest
import sympy as sp

from derive import PairingError, UnknownNameError
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, check_pairing, pairings, valid_pairings
from proofs.equality import is_zero
from derive.symbolic.functions import NAMED, expand_named

t = sp.Symbol("t", real=True)
ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]


def test_names_are_the_designs():
    """The design's names, in its order (entries added after these may follow)."""
    assert list(ACTIVATIONS)[:14] == [
        "identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "silu", "gelu", "softmax",
        "mish", "selu", "softsign", "hard_sigmoid",
    ]
    assert list(LOSSES)[:11] == ["quadratic", "sse", "mse", "bce", "cce", "l1", "huber", "kl", "poisson", "log_cosh",
                                 "hinge"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_output_form_of_the_derivative_is_diff_of_the_definition(name):
    """f'(z) written through a = f(z) equals d/dz of f's elementary definition."""
    act = ACTIVATIONS[name]
    definition = expand_named(act.f(t))
    through_output = act.prime(act.f(t), t)
    assert is_zero(sp.diff(definition, t) - expand_named(through_output)) is True


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_a_wrong_output_form_is_not_proved(name):
    act = ACTIVATIONS[name]
    wrong = act.prime(act.f(t), t) + sp.Rational(1, 7)
    assert is_zero(sp.diff(expand_named(act.f(t)), t) - expand_named(wrong)) is None


@pytest.mark.parametrize("cls", NAMED.values(), ids=list(NAMED))
def test_named_function_fdiff_matches_its_definition(cls):
    assert is_zero(sp.diff(cls(t), t) - sp.diff(cls.definition(t), t)) is True


@pytest.mark.parametrize("cls", NAMED.values(), ids=list(NAMED))
def test_named_function_evalf_is_its_definition_at_high_precision(cls):
    point = sp.Rational(-7, 3)
    with mpmath.workdps(60):
        expected = sp.N(cls.definition(point), 50)
    assert abs(sp.N(cls(point), 50) - expected) < sp.Float(10) ** -45


def test_named_functions_print_by_name():
    from derive.symbolic.functions import sigmoid, softplus

    assert sp.latex(sp.diff(sigmoid(t), t)) == r"\left(1 - \sigma\left(t\right)\right) \sigma\left(t\right)"
    assert sp.latex(softplus(t)) == r"\operatorname{softplus}\left(t\right)"
    assert str(sp.diff(softplus(t), t)) == "sigmoid(t)"


# The losses that refuse some activations, and the activations each accepts (kept by hand from the ranges in
# the design, independently of the catalogue's sets); every other loss takes every activation. A loss added
# with a restricted domain must be added here: the count below then fails until it is.
ACCEPTED_BY = {
    "bce": {"sigmoid", "softmax"},  # (0, 1)
    "cce": {"sigmoid", "softmax"},
    "kl": {"sigmoid", "softmax"},
    "poisson": {"sigmoid", "softplus", "softmax"},  # (0, oo): relu's 0 and elu's negatives are out
    "focal": {"sigmoid"},  # (0, 1), one probability per unit: softmax's coupled outputs are refused
}


def test_the_valid_pairings_are_those_the_domains_accept():
    """115 of 180 for the 15 activations x 12 losses of this round (54 of 70 before it)."""
    expected = {(a, lo) for a in ACTIVATIONS for lo in LOSSES if a in ACCEPTED_BY.get(lo, ACTIVATIONS)}
    assert len(pairings()) == len(ACTIVATIONS) * len(LOSSES)
    assert set(valid_pairings()) == expected
    if len(ACTIVATIONS) == 15 and len(LOSSES) == 12:
        assert len(valid_pairings()) == 115


# Points where each activation is evaluated independently of its declared range.
GRID = [sp.Rational(p, 4) for p in range(-40, 41)]


@pytest.mark.parametrize("act_name,loss_name,why", pairings(), ids=[f"{a}-{lo}" for a, lo, _ in pairings()])
def test_validity_agrees_with_values_of_the_activation(act_name, loss_name, why):
    """An invalid pairing has a point whose output leaves the loss's domain; a valid one none on the grid."""
    act, lo = ACTIVATIONS[act_name], LOSSES[loss_name]
    if act.elementwise:
        values = [sp.N(expand_named(act.f(p)), 30) for p in GRID]
    else:  # softmax of (p, 0): its first component
        values = [sp.N(sp.exp(p) / (sp.exp(p) + 1), 30) for p in GRID]
    outside = [v for v in values if not lo.domain.contains(v)]
    if why is not None and "range" not in why:  # refused for another reason (focal needs independent units)
        assert not outside and not act.elementwise
        return
    assert bool(outside) == (why is not None)


def test_invalid_pairing_says_why():
    with pytest.raises(PairingError, match=r"relu's range \[0, oo\) is not inside \(0, 1\), which bce needs"):
        check_pairing("relu", "bce")
    assert issubclass(PairingError, ValueError)


@pytest.mark.parametrize("call", [lambda: check_pairing("mishy", "bce"), lambda: check_pairing("sigmoid", "xent")])
def test_unknown_names_list_the_known_ones(call):
    with pytest.raises(UnknownNameError) as info:
        call()
    message = str(info.value)
    assert "known" in message and ("sigmoid" in message or "quadratic" in message)


def test_non_string_names_are_rejected_without_evaluation():
    with pytest.raises(UnknownNameError):
        check_pairing(["sigmoid"], "bce")
    with pytest.raises(UnknownNameError):
        check_pairing("__import__('os')", "bce")


def test_derive_pair_refuses_unhashable_names_with_the_known_ones():
    from derive import derive_pair

    with pytest.raises(UnknownNameError, match="known activations"):
        derive_pair(["sigmoid"], "bce")


FACT_FUNCS = [*NAMED.values(), sp.exp, sp.tanh, sp.erf, sp.atan, sp.sinh, sp.cosh]


@pytest.mark.parametrize("func", FACT_FUNCS, ids=lambda f: f.__name__)
def test_function_facts_agree_with_the_definition(func):
    """facts(F): ends are the limits of F's elementary definition; increasing and positive hold on a grid."""
    from derive.symbolic.functions import facts

    known = facts(func)
    definition = expand_named(func(t))
    grid = [sp.Rational(k, 4) for k in range(-40, 41)]
    values = [definition.subs(t, x).evalf(30) for x in grid]
    slopes = [sp.diff(definition, t).subs(t, x).evalf(30) for x in grid if x != 0]
    assert known.real and all(v.is_real for v in values)
    if known.increasing:
        assert all(s > 0 for s in slopes)
        u = sp.Symbol("u", positive=True)  # t = -u, u: the branch of a Piecewise is then decided
        ends = tuple(sp.limit(definition.subs(t, sgn * u), u, sp.oo) for sgn in (-1, 1))
        assert known.ends == ends
    else:
        assert known.ends is None and any(s <= 0 for s in slopes)
    assert known.positive == all(v > 0 for v in values)


def test_facts_of_an_unknown_function_is_none():
    from derive.symbolic.functions import facts

    assert facts(sp.log) is None and facts(sp.Function("g")) is None


def test_register_refuses_what_is_not_an_entry_and_changes_nothing():
    from derive.symbolic import catalogue

    before = dict(catalogue.ACTIVATIONS), dict(catalogue.LOSSES)
    with pytest.raises(TypeError, match="is a Loss, not Activation"):
        catalogue.register(losses=[ACTIVATIONS["sigmoid"]])
    with pytest.raises(ValueError, match="already in the catalogue"):
        catalogue.register(losses=[catalogue.Loss("l1", LOSSES["l1"].term, "sum", sp.S.Reals, sp.S.Reals)])
    assert (catalogue.ACTIVATIONS, catalogue.LOSSES) == before


def test_extended_clears_the_name_keyed_caches_on_entry_and_exit(monkeypatch):
    from derive.symbolic import catalogue

    monkeypatch.setattr(catalogue, "_listeners", [*catalogue._listeners])  # this test's listener goes after it
    calls = []
    catalogue.on_change(lambda: calls.append(len(catalogue.LOSSES)))
    half = catalogue.Loss("half_l1", lambda a, y: sp.Abs(a - y) / 2, "sum", sp.S.Reals, sp.S.Reals)
    with catalogue.extended(losses=[half]):
        assert ("sigmoid", "half_l1", None) in pairings()
    assert calls == [len(LOSSES) + 1, len(LOSSES)] and "half_l1" not in LOSSES
