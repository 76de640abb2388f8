"""Backpropagation through hidden layers: the recursion equals direct differentiation."""

import pytest
import sympy as sp

from derive.symbolic.catalogue import ACTIVATIONS
from derive.symbolic.network import build_network, recursion_deltas, recursion_holds

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_recursion_holds_for_every_elementwise_activation(activation):
    assert recursion_holds(activation)


def test_three_hidden_layers_of_unequal_width():
    assert recursion_holds("sigmoid", widths=(3, 2, 3, 2, 2))


def test_recursion_without_the_activation_derivative_is_wrong():
    """The check is sensitive: dropping f'(z^l) gives a delta that direct differentiation refutes.

    Refuted at a point, with the cost C(u) = u_1^2 + 3 u_2 and rational weights.
    """
    net = build_network("sigmoid")
    u1, u2 = net.out
    concrete = {net.cost.func: sp.Lambda((u1, u2), u1**2 + 3 * u2)}
    composed = net.cost.subs(dict(zip(net.out, net.z[-1])), simultaneous=True)
    deltas = recursion_deltas(net)
    without_f_prime = (net.W[1].T * deltas[1])[0]
    direct = sp.diff(composed, net.b[0][0])
    free = sorted(direct.free_symbols | without_f_prime.free_symbols, key=str)
    point = {s: sp.Rational(q + 1, 7) for q, s in enumerate(free) if s not in net.out}

    def at_point(expr):
        return sp.N(expr.replace(net.cost.func, concrete[net.cost.func]).doit().subs(point), 30)

    assert abs(at_point(direct - deltas[0][0])) < 1e-25
    assert abs(at_point(direct - without_f_prime)) > 1e-3


def test_softmax_is_not_a_hidden_elementwise_activation():
    with pytest.raises(ValueError, match="elementwise"):
        build_network("softmax")
