"""The chain rule for one activation x loss pairing of a dense output layer.

    z_j = sum_k w_jk x_k + b_j,   a_j = f(z_j),   C = sum_i l(a_i, y_i)
    delta_j = dC/dz_j = sum_i dC/da_i * da_i/dz_j,
    dC/db_j = delta_j,            dC/dw_jk = delta_j x_k

Every right-hand side is what SymPy computed (``diff`` and KroneckerDelta
sums), kept as ordered ``Step``s so that it can be printed exactly.

>>> d = derive_pair("sigmoid", "bce")
>>> d.delta
a[j] - y[j]
>>> derive_pair("sigmoid", "quadratic").delta
(1 - a[j])*(a[j] - y[j])*a[j]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import sympy as sp
from sympy import KroneckerDelta, Sum

from derive.docs.printer import derivation_latex, step_latex
from derive.errors import PairingError, UnknownNameError
from derive.symbolic.catalogue import ACTIVATIONS, Activation, Loss, Param, check_pairing, on_change, show_set
from derive.symbolic.curvature import Hessian, hessian
from derive.symbolic.softmax import jacobian_entry, softmax_entry
from derive.symbolic.symbols import C, a, b, collapse_deltas, drop_index_bounds, i, j, k, m, n, n_in, pull_constants, sum_delta, w, x, y, z


@dataclass(frozen=True)
class Step:
    """One chain-rule step: ``lhs = rhs``, with what was done to get it."""

    description: str
    lhs: sp.Expr
    rhs: sp.Expr

    def _repr_latex_(self) -> str:
        """Jupyter's display: the description, then lhs = rhs in the report's notation."""
        return step_latex(self)


@dataclass(frozen=True)
class Derivation:
    """delta = dC/dz_j, dC/db_j and dC/dw_jk of one pairing, with its steps.

    Expressions are in the unit's output ``a[j]`` and target ``y[j]`` (and
    ``z[j]`` where f' needs it); ``activation_of`` maps ``a[i]`` back to z.
    """

    activation: str
    loss: str
    cost: sp.Expr
    delta: sp.Expr
    grad_b: sp.Expr
    grad_w: sp.Expr
    steps: tuple[Step, ...]
    assumptions: tuple[str, ...]
    params: tuple[Param, ...] = ()  # of the activation and the loss: symbols in every expression above
    values: tuple[tuple[str, object], ...] = ()  # the values given to derive_pair, (name, value)

    @property
    def parameters(self) -> dict:
        """Each parameter's value for evaluation: the one given, else its default."""
        given = dict(self.values)
        return {p.name: given.get(p.name, p.default) for p in self.params}

    def in_z(self, expr):
        """``expr`` with every output a[idx] written as the activation of z[idx], at the parameters' values."""
        return outputs_as_logits(expr, self.activation).subs({p.symbol: v for p, v in zip(self.params, self.parameters.values())})

    @property
    def hessian(self) -> Hessian:
        """d^2 C / dz_j dz_k: KroneckerDelta(j, k) h_j for an elementwise f; softmax: derived for general n."""
        return hessian(self.activation, self.delta)

    @property
    def canonical(self) -> bool:
        """True when delta is exactly a_j - y_j (the canonical pairings)."""
        return sp.expand(self.delta - (a[j] - y[j])) == 0

    def _repr_latex_(self) -> str:
        """Jupyter's display: every step, then delta, dC/db and dC/dw, in the report's notation."""
        return derivation_latex(self)


def outputs_as_logits(expr, activation: str):
    """Replace each a[idx] by f(z[idx]) (softmax: e^{z_idx} / sum_k e^{z_k}), parameters as symbols."""
    act = ACTIVATIONS[activation]
    f = (lambda zi: act.f(zi, **act.symbols)) if act.elementwise else lambda zi: softmax_entry(zi.indices[0])
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == a, lambda e: f(z[e.indices[0]])
    )


def d(expr, wrt):
    """The unevaluated derivative d expr / d wrt, for printing."""
    return sp.Derivative(expr, wrt, evaluate=False)


def _tidy(expr):
    """The shorter of ``expr`` and its cancelled form: (a-y)a(1-a) stays; bce's sum cancels to a - y.
    Where a division by a power is left (focal: (1 - a)^gamma/(1 - a) times a(1 - a), 0/0 where a
    saturates), the product distributed with its powers merged, if that divides less."""
    cancelled = sp.factor(sp.cancel(expr))
    best = cancelled if sp.count_ops(cancelled) < sp.count_ops(expr) else expr
    if best.is_Mul and _divisions(best) and any(e.is_Pow and not e.exp.is_number for e in sp.preorder_traversal(best)):
        sums = [f for f in best.args if f.is_Add and _divisions(f)]
        if len(sums) == 1:
            rest = best / sums[0]
            merged = sp.Add(*[sp.powsimp(rest * t) for t in sums[0].args])
            if _divisions(merged) < _divisions(best):
                return merged
    return best


def _divisions(expr) -> int:
    return sum(1 for e in sp.preorder_traversal(expr) if e.is_Pow and e.exp.could_extract_minus_sign())


def _targets_sum_to_one(expr):
    return expr.subs(Sum(y[i], (i, 1, n)), 1)


def _cost(lo: Loss):
    total = Sum(lo.term(a[i], y[i], **lo.symbols), (i, 1, n))
    return total / n if lo.reduce == "mean" else total


def _activation_steps(act: Activation):
    """(definition of a_i, da_i/dz_j) for the activation: elementwise per unit, softmax for general n."""
    if act.elementwise:
        # da_i/dz_j = f'(z_j) delta_ij; written for i = j through the output a_j.
        a_def = act.f(z[j], **act.symbols)
        return Step("activation", a[j], a_def), Step(
            "activation derivative, written through its output", d(a[j], z[j]), act.prime(a[j], z[j], **act.symbols)
        )
    return Step("activation (softmax)", a[i], softmax_entry(i)), Step(
        "softmax Jacobian, derived from the definition", d(a[i], z[j]), jacobian_entry(i, j)
    )


def derive_pair(activation: str, loss: str, **values) -> Derivation:
    """delta_j = dC/dz_j, dC/db_j = delta_j and dC/dw_jk = delta_j x_k for ``activation`` + ``loss``.

    Parameters (elu's alpha, huber's delta, ...) stay symbols in every expression; ``values`` given
    here (``derive_pair("elu", "quadratic", alpha=0.5)``) are checked against their domains and
    recorded (``Derivation.values``; ``parameters`` adds the defaults). Raises ``PairingError`` (a
    ``ValueError``) with the reason for an invalid pairing, ``UnknownNameError`` listing the known
    names, and ``ValueError`` naming the domain of a parameter given outside it.
    """
    act, lo = check_pairing(activation, loss)  # before the cache: names may be unhashable
    params = pairing_params(act, lo)
    checked = tuple((p.name, p.check(values.pop(p.name), f"{act.name} + {lo.name}")) for p in params if p.name in values)
    if values:
        known = ", ".join(p.name for p in params) or "none"
        raise unknown_parameter(sorted(values)[0], f"{act.name} + {lo.name}", known)
    own = {name: v for name, v in checked if name in {p.name for p in act.params}}
    if own and not act.range_of(**own).is_subset(lo.domain):
        raise PairingError(f"invalid pairing {act.name} + {lo.name} at {own}: the range "
                           f"{show_set(act.range_of(**own))} is not inside {show_set(lo.domain)}")
    d = _derive(act.name, lo.name)
    return replace(d, params=params, values=checked) if params else d


def pairing_params(act: Activation, lo: Loss) -> tuple[Param, ...]:
    """The parameters of a pairing: the activation's, then the loss's (one name may not mean two things)."""
    clash = {p.name for p in act.params} & {p.name for p in lo.params}
    if clash:
        raise PairingError(f"{act.name} and {lo.name} both have a parameter {sorted(clash)[0]!r}: rename one")
    return act.params + lo.params


def unknown_parameter(name, owner: str, known: str):
    return UnknownNameError(f"unknown parameter {name!r} of {owner}; its parameters: {known}")


@cache
def _derive(activation: str, loss: str) -> Derivation:
    act, lo = check_pairing(activation, loss)
    steps = [Step("dense layer", z[j], Sum(w[j, m] * x[m], (m, 1, n_in)) + b[j])]
    a_step, da_dz = _activation_steps(act)
    cost = _cost(lo)
    steps += [a_step, Step(f"cost ({lo.name}, {lo.reduce} over the n units)", C, cost)]

    # dC/da_j: only the i = j term of the sum holds a_j (its KroneckerDelta collapses the sum).
    dC_da = collapse_deltas(sp.diff(cost, a[j]), j)
    steps.append(Step("cost derivative", d(C, a[j]), dC_da))

    assumptions = []
    if act.elementwise:
        steps.append(da_dz)
        delta = sp.factor_terms(_tidy(dC_da * da_dz.rhs))
        steps.append(Step("chain rule: the error is dC/da times da/dz", d(C, z[j]), delta))
    else:
        # delta_j = sum_i dC/da_i da_i/dz_j = sum_i g_i a_i (d_ij - a_j); split by linearity.
        g_i = dC_da.subs(j, i)
        steps.append(da_dz)
        chained = Sum(g_i * da_dz.rhs, (i, 1, n))
        steps.append(Step("chain rule over all units", d(C, z[j]), chained))
        own = sum_delta(g_i * a[i] * KroneckerDelta(i, j), i, j)
        rest = a[j] * pull_constants(Sum(_tidy(g_i * a[i]), (i, 1, n)))
        delta = own - rest
        if lo.targets_sum_to_one:
            assumptions.append("targets sum to one: sum_i y_i = 1")
            delta = _targets_sum_to_one(sp.expand(delta))
        delta = sp.factor_terms(_tidy(delta))
        steps.append(Step("KroneckerDelta sum collapsed", d(C, z[j]), delta))

    dz_db = sp.diff(steps[0].rhs, b[j]).doit()
    dz_dw = drop_index_bounds(sp.diff(steps[0].rhs, w[j, k]).doit())
    grad_b = delta * dz_db
    grad_w = delta * dz_dw
    steps += [
        Step("bias: dz/db", d(z[j], b[j]), dz_db),
        Step("bias gradient: the error times dz/db", d(C, b[j]), grad_b),
        Step("weight: dz/dw", d(z[j], w[j, k]), dz_dw),
        Step("weight gradient: the error times dz/dw", d(C, w[j, k]), grad_w),
    ]
    return Derivation(act.name, lo.name, cost, delta, grad_b, grad_w, tuple(steps), tuple(assumptions))


on_change(_derive.cache_clear)
