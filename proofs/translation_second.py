"""Translation validation of the second-order kernels: each printed piece proved equal to the derivation.

    piece   K = a stabilised expression the printer printed (``derive.compile.second_order.hessian_exprs``)
    claim   M(K) == P, P the piece as derived (``hessian_parts``: from ``Derivation.hessian``, DiracDelta
            dropped, parameters at their defaults), M the meaning of ``proofs.translation`` (plus
            softmax_complement(x) = 1 - a_j)

and, per softmax pairing, that the pieces assemble to the derivation's Hessian entry H_jk:

    low rank:  KroneckerDelta(j, k) d_j + sum_r u_rj w_rk == H_jk            (given sum_i a_i = 1)
    vjp:       sum_i J_ji l2_i J_ik + delta_j (KroneckerDelta(j, k) - a_k) - a_j delta_k == H_jk,
               J_ji = a_j (KroneckerDelta(j, i) - a_i), delta the derivation's (its own kernel is
               proved by ``proofs.translation``)
(S S^T == H for sqrt_hessian is tested numerically, not proved here: identity_holds does not
collapse the KroneckerDelta products under sqrt) by the machinery of ``proofs.translation`` (case splits, three-valued equality, identity_holds).

>>> lines = summary()  # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import KroneckerDelta, Sum

from derive.compile import second_order
from derive.compile.nodes import softmax
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, i, j, k, n, y
from proofs import translation
from proofs.identity import identity_holds
from proofs.margin import margins, reduced

__all__ = ["FAMILIES", "kernels", "translation_table", "summary", "assembly"]

FAMILIES = ("hessian", "sqrt_hessian", "assembly")


def _plain(kernel):
    """softmax_complement(x) -> 1 - softmax(x): then ``translation.meaning`` reads it (a_j)."""
    return kernel.replace(lambda e: isinstance(e, second_order.softmax_complement), lambda e: 1 - softmax(e.args[0]))


def _at_defaults(expr, activation, loss):
    return expr.xreplace(second_order.defaults(activation, loss))


def _piece(parts, name):
    """The derived expression of piece ``name`` (see ``second_order.hessian_exprs``)."""
    fixed = {"diagonal": parts.diagonal, "d": parts.d, "l2": parts.l2}
    if name in fixed:
        return fixed[name]
    if name == "sqrt_diagonal":
        return parts.sqrt[0]
    terms = parts.sqrt[1] if name.startswith("sqrt_") else parts.terms
    r = int(name[-1])
    return terms[r][name.rstrip("0123456789")[-1] == "w"]


def proves_piece(activation: str, loss: str, name: str, kernel) -> bool:
    """The printed piece ``name`` of ``activation`` + ``loss`` proved equal to its derivation."""
    raw = _at_defaults(_piece(second_order.hessian_parts(activation, loss), name), activation, loss)
    act = ACTIVATIONS[activation]
    kernel = _plain(kernel)
    if margins(kernel):  # hinge's 1 - y a, each margin proved first (proofs.margin)
        kernel = reduced(kernel, act, translation.meaning)
        if kernel is None:
            return False
    if act.elementwise:
        return translation._elementwise_equal(kernel, raw, act)
    return translation._softmax_equal(kernel, raw, LOSSES[loss].targets_sum_to_one)


def _col(e, to):
    return e.xreplace({j: to})


def assembly(activation: str, loss: str) -> bool | None:
    """The softmax pieces assemble to the derivation's entry H_jk (True), or not proved (None)."""
    parts = second_order.hessian_parts(activation, loss)
    exprs = second_order.hessian_exprs(activation, loss)
    d = derive_pair(activation, loss)
    entry = second_order._almost_everywhere(d.hessian.entry)
    given = {Sum(a[i], (i, 1, n)): 1}
    if LOSSES[loss].targets_sum_to_one and d.assumptions:
        given[Sum(y[i], (i, 1, n))] = 1
    if "l2" in exprs:
        J = lambda r, s: a[r] * (KroneckerDelta(r, s) - a[s])  # noqa: E731
        l2_i = _col(parts.l2, i)
        built = (Sum(J(j, i) * l2_i * J(i, k), (i, 1, n)) + d.delta * (KroneckerDelta(j, k) - a[k])
                 - a[j] * _col(d.delta, k))
    else:
        built = KroneckerDelta(j, k) * parts.d + sum(u * _col(w, k) for u, w in parts.terms)
    return identity_holds(_at_defaults(built - entry, activation, loss), given=given)


def kernels():
    """(family, name, kernel, prove) for every printed second-order piece, then each softmax assembly."""
    for act, lo in valid_pairings():
        if second_order.missing_reason(act, lo) is not None:
            continue
        for piece, kernel in second_order.hessian_exprs(act, lo).items():
            family = "sqrt_hessian" if piece.startswith("sqrt") else "hessian"
            yield family, f"{act}+{lo}:{piece}", kernel, lambda p=(act, lo, piece), k=kernel: proves_piece(*p, k)
        if not ACTIVATIONS[act].elementwise:
            yield "assembly", f"{act}+{lo}", sp.S.Zero, lambda p=(act, lo): assembly(*p) is True


@cache
def translation_table():
    """Every second-order piece's check (``translation.KernelCheck``); slow (minutes)."""
    return tuple(translation._check(*entry) for entry in kernels())


def summary(table=None) -> list[str]:
    """One line per family: proved / total, the unknown ones by name."""
    table = translation_table() if table is None else table
    return [_line(family, [c for c in table if c.family == family]) for family in FAMILIES]


def _line(family, rows):
    unknown = [c.name for c in rows if not c.verdict.proved]
    return (f"{family:<12} {len(rows) - len(unknown):>3}/{len(rows)} second-order pieces proved equal to the derivation "
            f"({sum(bool(c.clamps) for c in rows)} on the domain of their clamps)"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
