"""The softmax and its Jacobian, for a general number of classes n.

    S_i = e^{z_i} / sum_k e^{z_k},   dS_i/dz_j = S_i (delta_ij - S_j)

``jacobian_entry`` differentiates the definition with indexed symbols (the
work does not grow with n); ``explicit_jacobian_matches`` builds the n x n
matrix for one n and shows it equal to the closed form.

>>> jacobian_entry(i, j)
(KroneckerDelta(i, j) - a[j])*a[i]
>>> from derive.symbolic.symbols import k
>>> jacobian_entry(i, k)  # the column named as softmax_entry's sum index once was: no capture
(KroneckerDelta(i, k) - a[k])*a[i]
"""

from __future__ import annotations

import sympy as sp
from sympy import KroneckerDelta, Sum, exp

from derive.symbolic.symbols import a, drop_index_bounds, i, j, n, z

__all__ = ["softmax_entry", "jacobian_entry", "explicit_jacobian_matches"]


def _bound_index(*indices):
    """The summation index: k, or the first of l, m, q that no index given is called, so the sum never
    captures one of them (jacobian_entry(i, k) differentiates the sum over l)."""
    taken = {str(s) for e in indices for s in sp.sympify(e).free_symbols}
    return sp.Symbol(next(name for name in ("k", "l", "m", "q") if name not in taken), integer=True)


def _row_sum(bound):
    return Sum(exp(z[bound]), (bound, 1, n))


def softmax_entry(index, *shown):
    """S_index = e^{z_index} / sum_k e^{z_k}, k a fresh bound index (named apart from ``index`` and ``shown``)."""
    return exp(z[index]) / _row_sum(_bound_index(index, *shown))


def _as_outputs(expr):
    """Write e^{z_m} / sum_k e^{z_k} as a_m: replace the sum by D, then e^{z_m} by a_m D."""
    D = sp.Dummy("D", positive=True)
    expr = expr.replace(lambda e: isinstance(e, Sum) and e.function == exp(z[e.limits[0][0]])
                        and e.limits[0][1:] == (1, n), lambda e: D)

    def as_output(e):  # e^{c z_m} = (a_m D)^c
        coeff, zm = e.args[0].as_coeff_Mul()
        return (a[zm.indices[0]] * D) ** coeff

    expr = expr.replace(
        lambda e: isinstance(e, exp)
        and isinstance(e.args[0].as_coeff_Mul()[1], sp.Indexed)
        and e.args[0].as_coeff_Mul()[1].base == z,
        as_output,
    )
    return sp.factor(sp.cancel(expr))


def jacobian_entry(row=i, col=j):
    """dS_row/dz_col = S_row (delta_{row,col} - S_col), from the definition."""
    raw = drop_index_bounds(sp.diff(softmax_entry(row, col), z[col]).doit())
    return _as_outputs(raw)


def closed_form(row, col, S):
    """S_row (delta_{row,col} - S_col) for an explicit vector S."""
    return S[row] * (KroneckerDelta(row, col) - S[col])


def explicit_jacobian_matches(size: int) -> bool:
    """The explicit size x size Jacobian of softmax equals S_i (delta_ij - S_j).

    e_i > 0 stands for exp(z_i), so dS_i/dz_j = e_j dS_i/de_j. After the
    derivative is taken, sum_k e_k is replaced by an independent symbol D: a
    rational identity in (e, D) holds for every D, in particular D = sum e.
    """
    e = sp.symbols(f"e1:{size + 1}", positive=True)
    total = sp.Add(*e)
    S = [ei / total for ei in e]
    D = sp.Symbol("D", positive=True)
    for r in range(size):
        for c in range(size):
            explicit = sp.diff(S[r], e[c]) * e[c]
            diff = (explicit - closed_form(r, c, S)).subs(total, D)
            if sp.cancel(diff) != 0:
                return False
    return True
