"""The margin lemma: a kernel's 1 - y a written as M = (1 - y)(1 + y) - y R is 1 - y a.

    M = Minus((1 - y)(1 + y), y R),  R the residual rule's a - y      (derive.compile.rewrite.hinge_margin)
    claim  meaning(M) = 1 - y f(z)   elementwise: y = f(z) - r, split into cases on z and r
                                     softmax: a polynomial identity in a_j and y_j

Once every M of a kernel is proved, ``reduced`` writes 1 - y f(z) in its place (M > 0 becomes 1 - y f(z) > 0),
so the translation check (``proofs.translation``) compares the derivation with a kernel of the form it
already proves. SymPy hoists a residual rule's Piecewise out of M > 0 (ITE(z < -1/2, M_1 > 0, M_2 > 0)):
such a pair is proved as the Piecewise of its margins.

>>> from derive.compile.expressions import delta_expr
>>> from derive.symbolic.catalogue import ACTIVATIONS
>>> from proofs.translation import meaning
>>> k = delta_expr("sigmoid", "hinge")
>>> len(margins(k)), margins(reduced(k, ACTIVATIONS["sigmoid"], meaning))
(1, set())
"""

from __future__ import annotations

import sympy as sp

from derive.compile.expressions import N, Y, Z
from derive.compile.nodes import Minus, softmax
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import a, j, n, y, z
from proofs.case_split import zero_by_cases

__all__ = ["margins", "margin_proved", "reduced"]


def margins(kernel) -> set:
    """The margins M = Minus((1 - y)(1 + y), y R) in ``kernel``."""
    return {m for m in kernel.atoms(Minus) if m.args[0] == (1 - Y) * (1 + Y)}


def margin_proved(m, act, meaning) -> bool:
    """meaning(m) = 1 - y f(z), m a margin or a Piecewise of margins (``meaning``: ``proofs.translation.meaning``, passed in: it imports this module)."""
    if act.elementwise:
        r = sp.Dummy("r", real=True)  # the residual a - y: y = f(z) - r
        return zero_by_cases(expand_named((meaning(m) - (1 - Y * act.f(Z))).subs(Y, act.f(Z) - r)), [Z, r])
    return sp.expand(meaning(m.xreplace({Y: y[j], Z: z[j], N: n})) - (1 - y[j] * a[j])) == 0


def _claims(kernel, found) -> list:
    """What to prove: each margin, and a margin the kernel decides per branch of an ITE (SymPy hoists a residual
    rule's Piecewise out of M > 0: ITE(z < -1/2, M_1 > 0, M_2 > 0)) as the Piecewise of its branches' margins."""
    claims, covered = [], set()
    for e in kernel.atoms(sp.ITE):
        inside = [[m for m in found if branch.has(m)] for branch in e.args[1:]]
        if all(len(ms) == 1 for ms in inside):
            claims.append(sp.Piecewise((inside[0][0], e.args[0]), (inside[1][0], True)))
            covered |= {inside[0][0], inside[1][0]}
    return claims + [m for m in found if m not in covered]


def reduced(kernel, act, meaning):
    """``kernel`` with 1 - y f(z) for each margin, once every margin is proved; None when one is not."""
    found = margins(kernel)
    claims = _claims(kernel, found)
    if not all(margin_proved(m, act, meaning) for m in claims):
        return None
    # a margin proved only as one branch of an ITE is 1 - y f(z) on that branch alone: anywhere else in the
    # kernel it needs its own proof before it is replaced there
    outside = margins(kernel.xreplace({e: sp.Dummy() for e in kernel.atoms(sp.ITE)}))
    if not all(m in claims or margin_proved(m, act, meaning) for m in outside):
        return None
    plain = 1 - Y * (act.f(Z) if act.elementwise else softmax(Z))
    out = kernel.xreplace({m: plain for m in found})
    return out.replace(lambda e: isinstance(e, sp.ITE) and e.args[1] == e.args[2], lambda e: e.args[1])
