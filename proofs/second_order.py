"""Theorem 12 and the curvature table: convexity and smoothness of the seeds' pairings and of every valid one.

    curvature_table() -> [(pairing, convexity, smoothness)]      second_order() -> Proof (theorem 12)
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import oo

from derive.symbolic import catalogue
from proofs.certificate import Proof, all_proved
from proofs.curvature import convexity, smoothness


def curvature_table():
    """[(pairing, convexity, smoothness)] for every valid pairing of the catalogue."""
    return [(f"{act}+{loss}", convexity(act, loss), smoothness(act, loss)) for act, loss in catalogue.valid_pairings()]


# the pairings the seeds compare (000: sigmoid + L2 against a linear output; 002/003: cross-entropy)
SEED_PAIRINGS = (("sigmoid", "quadratic"), ("sigmoid", "bce"), ("identity", "quadratic"), ("softmax", "cce"))


def _tex(value) -> str:
    return r"\infty" if value is oo else sp.latex(value)


@cache
def second_order() -> Proof:
    """Theorem 12: the seeds' pairings, second order: sigmoid + quadratic is not convex in z (and its
    curvature is unbounded over real targets), sigmoid + bce is convex with L = 1/4, identity + quadratic
    convex with L = 1, softmax + cce convex with L = 1/2."""
    rows = [(act, loss, convexity(act, loss), smoothness(act, loss)) for act, loss in SEED_PAIRINGS]
    steps = [v.verdict for _, _, c, s in rows for v in (c, s)]
    parts = [rf"\text{{{act}+{loss}: {c.status}}},\ L = {_tex(s.value)}" for act, loss, c, s in rows]
    statement = r";\quad ".join(parts)
    cert = ("convex: h = d2C/dz2 >= 0 by certificate (softmax+cce: v^T H v = sum_i a_i (v_i - a.v)^2); "
            "not convex: a 60-digit midpoint counterexample; L: a proved bound attained, or a witness of unboundedness")
    return Proof(statement, cert, all_proved("second order of the seeds' pairings", steps))
