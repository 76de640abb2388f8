"""The symbols of a dense output layer z = W x + b, a = f(z), and of its cost C.

Units are indexed by i, j (1..n), inputs by k, m (1..n_in). ``x_k`` is the
layer's input, written a^{L-1}_k in the documents.
"""

from __future__ import annotations

import sympy as sp

n = sp.Symbol("n", integer=True, positive=True)  # units (classes) in the layer
n_in = sp.Symbol("n_in", integer=True, positive=True)  # inputs to the layer
i, j = sp.symbols("i j", integer=True, positive=True)
k, m = sp.symbols("k m", integer=True, positive=True)

z = sp.IndexedBase("z", real=True)
a = sp.IndexedBase("a", real=True)
y = sp.IndexedBase("y", real=True)
b = sp.IndexedBase("b", real=True)
x = sp.IndexedBase("x", real=True)
w = sp.IndexedBase("w", real=True)
C = sp.Symbol("C", real=True)

# Scalar stand-ins for one unit: a = f(z), target y, residual r = a - y.
zs, as_, ys, r = sp.symbols("z a y r", real=True)


def unit_sum(expr, index=i):
    """sum_{index=1}^{n} expr."""
    return sp.Sum(expr, (index, 1, n))


def drop_index_bounds(expr):
    """Take the in-range branch of Piecewise results that only test an index range.

    ``Sum(f(i) KroneckerDelta(i, j), (i, 1, n)).doit()`` is ``f(j)`` guarded by
    ``1 <= j <= n``; j is a unit index, so the guard holds.
    """
    index_syms = {i, j, k, m, n, n_in}

    def only_index_bounds(pw):
        cond = pw.args[0].cond
        return not cond.atoms(sp.Indexed) and cond.free_symbols <= index_syms

    return expr.replace(
        lambda e: isinstance(e, sp.Piecewise) and only_index_bounds(e),
        lambda e: e.args[0].expr,
    )


def sum_delta(expr, index, target):
    """sum_index expr = expr(index -> target), for expr that vanishes unless index == target.

    The precondition is checked, not assumed: with KroneckerDelta(index, target)
    set to 0 the expression must be 0. This also collapses deltas inside
    Piecewise branches (huber), which ``Sum.doit`` leaves alone.
    """
    off_diagonal = sp.piecewise_fold(expr.subs(sp.KroneckerDelta(index, target), 0))
    if sp.simplify(off_diagonal) != 0:
        raise ValueError(f"sum over {index} of {expr} does not collapse: it is {off_diagonal} off the diagonal")
    return expr.subs(index, target)


def collapse_deltas(expr, target):
    """Collapse every Sum whose summand holds a KroneckerDelta onto ``target`` (see ``sum_delta``)."""
    return expr.replace(
        lambda e: isinstance(e, sp.Sum) and e.function.has(sp.KroneckerDelta),
        lambda e: sum_delta(e.function, e.variables[0], target),
    )


def pull_constants(expr):
    """Sum(c * f(i)) -> c * Sum(f(i)) for factors c free of the summation index."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: sp.factor_terms(e))
