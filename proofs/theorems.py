"""The registry: theorems 1-12, each a function returning its proof(s), run and timed.

    run_all() -> [Result(theorem, proofs, verdict, seconds)]   (verdict proved iff every part proved)

>>> [t.number for t in THEOREMS] == list(range(1, 13))
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from derive.symbolic import catalogue
from proofs import bounds, claims, extrema, identities, ranges, second_order
from proofs.certificate import Proof, Verdict, all_proved


def _activation_ranges() -> list[Proof]:
    """Theorem 2, computed from the catalogue as it is now: one range theorem per activation entry,
    the pairing validity they decide, the derivative bounds, silu/gelu extrema."""
    each = [ranges.range_proof(act) for act in catalogue.ACTIVATIONS.values()]
    return each + [ranges.pairing_validity(), extrema.silu_minimum(), extrema.gelu_minimum()] + bounds.derivative_bounds()


@dataclass(frozen=True)
class Theorem:
    number: int
    name: str
    summary: str  # plain text, for the terminal table
    prove: Callable[[], Proof | list[Proof]]
    seeds: tuple[str, ...] = ()


# fmt: off
THEOREMS: tuple[Theorem, ...] = (
    Theorem(1, "sigmoid-tanh", "sigma' = sigma(1-sigma) in (0, 1/4], = 1/4 only at 0; tanh = 2 sigma(2z) - 1; tanh' in (0, 1]; tanh odd",
            identities.sigmoid_facts, ("001", "003")),
    Theorem(2, "ranges", "every activation's range (decides pairing validity); relu', leaky', softplus', elu'; silu/gelu extrema",
            _activation_ranges, ("001", "004")),
    Theorem(3, "l2-bound", "(a-y)^2 <= 1 on [0,1]^2, mse <= 1, sse <= n; sigmoid vs target 255: (a-y)^2 > 254^2",
            bounds.l2_bounds, ("000",)),
    Theorem(4, "canonical", "delta = a - y for sigmoid+bce, softmax+cce, identity+quadratic; |delta| < 1 (sigmoid+bce)",
            identities.canonical_pairings, ("002",)),
    Theorem(5, "seed-002", "seed 002 audit: sum (a-y)^2 gives 2(a-y) sigma'; -sum y ln a with sigmoid gives -y(1-a)",
            claims.seed002_audit, ("002",)),
    Theorem(6, "softmax-jacobian", "J = diag(S) - S S^T: symmetric, rows sum 0, PSD, |J_ij| <= 1/4",
            identities.softmax_jacobian, ("004",)),
    Theorem(7, "vanishing", "product of L sigmoid derivatives <= 4^-L",
            bounds.vanishing_gradients, ("001", "003")),
    Theorem(8, "sign-sharing", "x_k > 0 => every dC/dw_jk has the sign of delta_j (all valid pairings)",
            identities.sign_sharing, ("003",)),
    Theorem(9, "learning-rate", "sigmoid+quadratic |dC/db| <= |a-y|/4; identity+quadratic |dC/db| = |a-y|",
            bounds.learning_rate, ("000",)),
    Theorem(10, "lstm", "standard cell dC_t/dC_{t-1} = f_t; seed 001's printed cell gives sigma'(u) f_t <= f_t/4",
            identities.lstm_cell, ("001",)),
    Theorem(11, "logistic", "logistic regression NLL gradient = (a - y) x (one sigmoid neuron with bce)",
            identities.logistic_regression, ("001",)),
    Theorem(12, "second-order", "sigmoid+quadratic not convex in z; sigmoid+bce convex, L = 1/4; identity+quadratic convex, "
            "L = 1; softmax+cce convex, L = 1/2 (step 2/L)", second_order.second_order, ("000", "002", "003")),
)
# fmt: on


@dataclass(frozen=True)
class Result:
    theorem: Theorem
    proofs: tuple[Proof, ...]
    verdict: Verdict
    seconds: float

    @property
    def status(self) -> str:
        return self.verdict.status


def run(theorem: Theorem) -> Result:
    """Prove one theorem; an exception is a 'not proved' verdict with its message, never a crash."""
    start = time.perf_counter()
    try:
        out = theorem.prove()
        proofs = tuple(out) if isinstance(out, list) else (out,)
        verdict = all_proved(theorem.name, [p.verdict for p in proofs])
    except Exception as exc:  # a checker bug must show as "not proved", not as a pass
        proofs = ()
        verdict = Verdict(theorem.name, "not proved", f"{type(exc).__name__}: {exc}")
    return Result(theorem, proofs, verdict, time.perf_counter() - start)


@cache
def run_all() -> tuple[Result, ...]:
    return tuple(run(t) for t in THEOREMS)


def theorem(number: int) -> Theorem:
    return next(t for t in THEOREMS if t.number == number)
