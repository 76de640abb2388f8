"""Backpropagation through hidden layers, checked on an explicit network.

    z^l = W^l a^{l-1} + b^l,   a^l = f(z^l),   a^0 = x
    delta^L = dC/dz^L
    delta^l = ((W^{l+1})^T delta^{l+1}) * f'(z^l)
    dC/dW^l = delta^l (a^{l-1})^T,   dC/db^l = delta^l

``recursion_holds(f)`` builds a network with symbolic weights and a cost
C(z^L) that is an arbitrary smooth function of the last pre-activations (so
any output activation and loss), differentiates C with respect to every
weight and bias directly, and shows each equal to what the recursion gives.

>>> recursion_holds("tanh")
True
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.symbolic.catalogue import activation as catalogue_activation

__all__ = ["Network", "build_network", "recursion_holds", "RECURSION"]

# The recursion as (name, lhs, rhs) strings for printing; each is checked below.
RECURSION = (
    ("output error", r"\delta^L", r"\frac{\partial C}{\partial z^L}"),
    ("hidden error", r"\delta^l", r"\left( (W^{l+1})^{\top} \delta^{l+1} \right) \odot f'(z^l)"),
    ("weights", r"\frac{\partial C}{\partial W^l}", r"\delta^l \, (a^{l-1})^{\top}"),
    ("biases", r"\frac{\partial C}{\partial b^l}", r"\delta^l"),
)


@dataclass(frozen=True)
class Network:
    """An explicit network: weights W[l], biases b[l], pre-activations z[l], outputs a[l]; cost C(z^L)."""

    widths: tuple[int, ...]
    W: tuple[sp.Matrix, ...]
    b: tuple[sp.Matrix, ...]
    z: tuple[sp.Matrix, ...]
    a: tuple[sp.Matrix, ...]
    cost: sp.Expr
    out: tuple[sp.Symbol, ...]  # the cost's arguments, standing for z^L
    activation: str


def _prime(act):
    t = sp.Dummy("t", real=True)
    return sp.Lambda(t, sp.diff(act.f(t), t))


def _hidden(act):
    """f(z) as one unknown per application, with f' = d/dz of the catalogue's f, and f's value at a number.

    The direct derivative then holds the same f'(z) the recursion uses, so the check is the chain rule's
    bookkeeping through the layers, not a simplification of nested activations (which SymPy may not finish).
    """
    prime = _prime(act)

    def eval(cls, arg):  # at a number, the definition (tests evaluate there)
        return act.f(arg) if arg.is_number else None

    def fdiff(self, argindex=1):
        return prime(self.args[0])

    return type(f"f_{act.name}", (sp.Function,), {"eval": classmethod(eval), "fdiff": fdiff, "is_real": True})


def build_network(activation: str, widths=(2, 2, 2, 2)) -> Network:
    """x (widths[0]) -> hidden layers with ``activation`` -> z^L (widths[-1]) -> C(z^L)."""
    act = catalogue_activation(activation)
    if not act.elementwise:
        raise ValueError(
            f"the hidden-layer recursion is for elementwise activations; {activation} is not one"
        )
    hidden = _hidden(act)
    x = sp.Matrix(sp.symbols(f"x1:{widths[0] + 1}", real=True))
    a_prev, Ws, bs, zs, as_ = x, [], [], [], [x]
    last = len(widths) - 1
    for layer in range(1, last + 1):
        rows, cols = widths[layer], widths[layer - 1]
        W = sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"w^{layer}_{r + 1}{c + 1}", real=True))
        b = sp.Matrix(rows, 1, lambda r, _: sp.Symbol(f"b^{layer}_{r + 1}", real=True))
        z = W * a_prev + b
        a_prev = z if layer == last else z.applyfunc(hidden)
        Ws.append(W), bs.append(b), zs.append(z), as_.append(a_prev)
    out = sp.symbols(f"u1:{widths[-1] + 1}", real=True)
    cost = sp.Function("C")(*out)
    return Network(tuple(widths), tuple(Ws), tuple(bs), tuple(zs), tuple(as_), cost, out, activation)


def _at_network(net: Network, expr):
    return expr.subs(dict(zip(net.out, net.z[-1])), simultaneous=True)


def recursion_deltas(net: Network) -> list[sp.Matrix]:
    """delta^l for l = 1..L from the recursion, starting at delta^L = dC/dz^L."""
    f_prime = _prime(catalogue_activation(net.activation))
    delta = sp.Matrix([_at_network(net, sp.diff(net.cost, u)) for u in net.out])
    deltas = [delta]
    for layer in range(len(net.W) - 1, 0, -1):  # hidden layers, last to first
        back = net.W[layer].T * delta
        delta = sp.Matrix([back[r] * f_prime(net.z[layer - 1][r]) for r in range(back.rows)])
        deltas.insert(0, delta)
    return deltas


def _is_zero(expr) -> bool:
    """expr == 0: first as a polynomial in the function values (equal applications are one unknown, so a zero
    there is exact and cheap), then expanded, then simplified."""
    values = {app: sp.Dummy() for app in expr.atoms(sp.Function)}
    return sp.expand(expr.xreplace(values)) == 0 or sp.expand(expr) == 0 or sp.simplify(expr) == 0


def recursion_holds(activation: str, widths=(2, 2, 2, 2)) -> bool:
    """dC/dW^l == delta^l (a^{l-1})^T and dC/db^l == delta^l for every layer, by direct differentiation."""
    net = build_network(activation, widths)
    composed = _at_network(net, net.cost)
    for layer, delta in enumerate(recursion_deltas(net)):
        W, b, a_prev = net.W[layer], net.b[layer], net.a[layer]
        predicted_W = delta * a_prev.T
        for r in range(W.rows):
            if not _is_zero(sp.diff(composed, b[r]) - delta[r]):
                return False
            for c in range(W.cols):
                if not _is_zero(sp.diff(composed, W[r, c]) - predicted_W[r, c]):
                    return False
    return True
