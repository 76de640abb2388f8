"""The LSTM cell state's gradient along the cell path (seed 001).

    standard cell:        C_t = f_t C_{t-1} + i_t g_t          dC_t/dC_{t-1} = f_t
    as printed in seed:   C_t = sigma(f_t C_{t-1} + i_t g_t)   dC_t/dC_{t-1} = sigma'(u_t) f_t <= f_t / 4

The gates f_t, i_t and the candidate g_t read h_{t-1} and x_t, not C_{t-1}
(no peepholes), so along the cell path they are constants.

>>> cell_gradient("standard").gradient
f_t
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import unknown
from derive.symbolic.functions import sigmoid

f_t, i_t = sp.symbols("f_t i_t", positive=True)  # gates, in (0, 1)
g_t = sp.Symbol("g_t", real=True)  # candidate, tanh(...) in (-1, 1)
C_prev = sp.Symbol("C_{t-1}", real=True)
u_t = f_t * C_prev + i_t * g_t  # the additive update

CELLS = {
    "standard": u_t,
    "seed001": sigmoid(u_t),
}


@dataclass(frozen=True)
class CellGradient:
    cell: str
    state: sp.Expr  # C_t
    gradient: sp.Expr  # dC_t / dC_{t-1}


def cell_gradient(cell: str = "standard") -> CellGradient:
    """dC_t/dC_{t-1} for ``cell`` in CELLS, by diff."""
    if cell not in CELLS:
        raise unknown("cell", cell, CELLS)
    state = CELLS[cell]
    return CellGradient(cell, state, sp.diff(state, C_prev))


def path_gradient(cell: str, steps: int) -> sp.Expr:
    """dC_T/dC_0 through ``steps`` cells with their own gates: the product of the one-step factors."""
    one = cell_gradient(cell)
    factors = []
    for t in range(1, steps + 1):
        rename = {s: sp.Symbol(f"{s.name.split('_')[0]}_{t}", **s.assumptions0) for s in (f_t, i_t, g_t)}
        rename[C_prev] = sp.Symbol(f"C_{t - 1}", real=True)
        factors.append(one.gradient.subs(rename, simultaneous=True))
    return sp.Mul(*factors)
