"""Second order: the Hessian d^2 C / dz_j dz_k of one pairing, derived from its delta.

    elementwise f:  H_jk = KroneckerDelta(j, k) h_j,  h_j = d delta_j / dz_j = (d delta_j / d a_j) f'(z_j) + d delta_j / d z_j
    softmax:        H_jk = sum_q (d delta_j / d a_q) (d a_q / d z_k),  d a_q / d z_k = a_q (KroneckerDelta(q, k) - a_k)

For softmax + cce this is diag(a) - a a^T. Where delta has kinks (relu, l1, huber) the
derivative is SymPy's, branch by branch (DiracDelta where a sign function jumps).

>>> from derive.symbolic.pairing import derive_pair
>>> derive_pair("sigmoid", "bce").hessian.diagonal
(1 - a[j])*a[j]
>>> derive_pair("softmax", "cce").hessian.entry
(KroneckerDelta(j, k) - a[k])*a[j]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy import KroneckerDelta, Sum

from derive.symbolic.catalogue import activation as catalogue_activation, on_change
from derive.symbolic.softmax import jacobian_entry
from derive.symbolic.symbols import a, collapse_deltas, i, j, k, m, n, sum_delta, z

__all__ = ["Hessian", "hessian"]

_q = sp.Symbol("q", integer=True, positive=True)  # the summed unit of the softmax chain rule
# the column index handed to jacobian_entry is m, then renamed k: softmax_entry binds k as its own sum index


@dataclass(frozen=True)
class Hessian:
    """H_jk = d^2 C / dz_j dz_k; ``diagonal`` is h_j when H is diagonal (elementwise f), else None.

    ``steps``: (description, lhs, rhs) of the chain rule, for the documents."""

    entry: sp.Expr
    diagonal: sp.Expr | None
    steps: tuple[tuple[str, sp.Expr, sp.Expr], ...]


def _d2(wrt_j, wrt_k):
    return sp.Derivative(sp.Symbol("C"), wrt_j, wrt_k, evaluate=False)


def _collapse(expr):
    """sum_q of each term of ``expr``: a KroneckerDelta(q, j) or (q, k) collapses it, else it stays a Sum."""
    out = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(expr)):
        for target in (j, k):
            if term.has(KroneckerDelta(_q, target)) or term.has(KroneckerDelta(target, _q)):
                out += sum_delta(term, _q, target)
                break
        else:
            const, rest = term.as_independent(_q, as_Add=False)
            index = i if i not in rest.free_symbols else _q  # sums over i merge with delta's own
            out += const * (Sum(rest.xreplace({_q: index}), (index, 1, n)) if rest.has(_q) else rest * n)
    return out


@cache
def hessian(activation: str, delta: sp.Expr) -> Hessian:
    """The Hessian of the pairing whose error is ``delta`` (``Derivation.delta``) for ``activation``."""
    act = catalogue_activation(activation)
    if act.elementwise:
        prime = act.prime(a[j], z[j], **act.symbols)  # the parameters as symbols, as in delta
        h = sp.factor_terms(sp.diff(delta, a[j]) * prime + sp.diff(delta, z[j]))
        steps = (
            ("elementwise: delta_j depends on z_j only, so the Hessian is diagonal",
             _d2(z[j], z[k]), KroneckerDelta(j, k) * sp.Derivative(sp.Symbol("delta_j"), z[j], evaluate=False)),
            ("chain rule through a_j = f(z_j)", sp.Derivative(sp.Symbol("delta_j"), z[j], evaluate=False),
             sp.Derivative(delta, a[j], evaluate=False) * prime + sp.Derivative(delta, z[j], evaluate=False)),
            ("diagonal entry", _d2(z[j], z[j]), h),
        )
        return Hessian(KroneckerDelta(j, k) * h, h, steps)
    g = collapse_deltas(sp.diff(delta, a[_q]), _q)  # d delta_j / d a_q
    chained = g * jacobian_entry(_q, m).xreplace({m: k})
    entry = sp.factor_terms(_collapse(chained))
    steps = (
        ("delta_j depends on every output: its derivative in a_q", sp.Derivative(sp.Symbol("delta_j"), a[_q]), g),
        ("chain rule over the units, with the softmax Jacobian", _d2(z[j], z[k]), Sum(chained, (_q, 1, n))),
        ("KroneckerDelta sums collapsed", _d2(z[j], z[k]), entry),
    )
    return Hessian(entry, None, steps)


on_change(hessian.cache_clear)
