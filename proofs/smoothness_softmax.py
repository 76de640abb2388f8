"""Smoothness of the softmax pairings: L = oo read on one line of z, and kl's Hessian shown to be cce's.

    lambda_max(H) >= e_1^T H e_1 = d2C/dz_1^2      (Rayleigh quotient, any n; here n = 2, z = (z, 0))
    a = (e^z/(e^z + 1), 1/(e^z + 1)),  C(z) = l(a_1, y_1) + l(a_2, y_2)   (times 1/2 for a mean)

so a jump up of dC/dz_1 or a curvature unbounded along the targets on that line (the witnesses of
``proofs.smoothness_witness``) makes sup lambda_max = oo. kl = sum y ln y - sum y ln a differs from cce by a term
free of z: the same Hessian (check_eq), hence cce's L = 1/2. Bounded L for the other losses needs the
eigenvalues at every n: "undecided" here, with that reason.

>>> decide_softmax("quadratic").status, decide_softmax("kl").value
('unbounded', 1/2)
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import S, oo

from derive.symbolic import catalogue
from derive.symbolic.pairing import derive_pair
from proofs.certificate import Verdict, all_proved
from proofs.checker import check_eq
from proofs.smoothness_line import W, Line
from proofs.smoothness_witness import jump_witness, unbounded_witness
from proofs.softmax_curvature import CurvatureVerdict, softmax_smoothness
from proofs.values import exact

__all__ = ["softmax_line", "decide_softmax"]

RAYLEIGH = "lambda_max(H) >= e_1^T H e_1 = d2C/dz_1^2 (Rayleigh quotient)"


def softmax_line(loss: str, **values) -> Line:
    """C along z_1 at n = 2, z_2 = 0, from the definitions: softmax's e^z_i / sum_k e^z_k and the loss's term."""
    entry = catalogue.loss(loss)
    names = {p.name for p in entry.params}
    if set(values) - names:
        raise TypeError(f"unknown parameter {sorted(set(values) - names)[0]!r} of softmax+{loss}; "
                        f"known: {', '.join(sorted(names)) or 'none'}")
    params = {p.name: p.check(exact(values.get(p.name, p.default), p.name), loss) for p in entry.params}  # no floats
    t1, t2 = sp.symbols("y_1 y_2", real=True)
    outputs = (sp.exp(W) / (sp.exp(W) + 1), 1 / (sp.exp(W) + 1))
    targets = ((t1, entry.targets), (t2, entry.targets))
    cost = sum(entry.term(o, t, **params) for o, t in zip(outputs, (t1, t2)))
    if entry.targets_sum_to_one:  # a probability row: y_2 = 1 - y_1
        cost, targets = cost.subs(t2, 1 - t1), targets[:1]
    scale = S.Half if entry.reduce == "mean" else S.One
    scope = f" (at {', '.join(f'{k} = {v}' for k, v in params.items())})" if params else ""
    return Line(f"softmax+{loss}{scope}", cost, targets, where="n = 2, z = (z, 0)", scale=scale)


def _same_hessian_as_cce(loss: str) -> CurvatureVerdict | None:
    """H(loss) = H(cce) entry for entry (check_eq, general n): then L is cce's."""
    t, q = sp.symbols("t q", positive=True)
    terms = [catalogue.loss(name).term(q, t) for name in (loss, "cce")]
    if loss == "cce" or sp.simplify(sp.diff(terms[0] - terms[1], q)) != 0:  # the losses differ by more than a constant
        return None
    same = check_eq(derive_pair("softmax", loss).hessian.entry, derive_pair("softmax", "cce").hessian.entry,
                    claim=f"softmax+{loss} has softmax+cce's Hessian (its loss differs by a term free of z)")
    if not same.proved:
        return None
    cce = softmax_smoothness("cce")
    name = f"softmax+{loss}"
    return CurvatureVerdict(name, cce.status, cce.value, all_proved(f"{name}: L = {cce.value}", [same, cce.verdict]))


@cache
def decide_softmax(loss: str, **values) -> CurvatureVerdict:
    """softmax + loss: oo by a witness on the line z = (z, 0) at n = 2; cce's L where the Hessian is cce's; else None."""
    line = softmax_line(loss, **values)
    for witness in (jump_witness, unbounded_witness):
        got = witness(line)
        if got is not None:
            return CurvatureVerdict(line.name, "unbounded", oo,
                                    Verdict(f"{line.name}: sup lambda_max(H) = oo", "proved",
                                            f"{RAYLEIGH}, and on that line {got.reason}", details=(got,)))
    same = _same_hessian_as_cce(loss) if not values else None
    return same or CurvatureVerdict(line.name, "undecided", None, Verdict(
        f"{line.name}: L?", "not proved", "no jump of dC/dz_1 and no target direction where d2C/dz_1^2 grows on the "
        "line z = (z, 0), n = 2; a bounded L needs the eigenvalues of H at every n (not reduced here)"))


catalogue.on_change(decide_softmax.cache_clear)  # a name may come to mean another entry (register, extended)
