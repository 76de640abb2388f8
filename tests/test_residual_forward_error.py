"""Forward error of every residual rule at targets ON the activation's limit, through the real kernels.

    |got - want| <= C (eps |want| + smallest subnormal),   C = 8,  eps of the kernel's dtype

``want`` is dC/dz from the textbook cost (mpmath, 400+ digits, ``mpmath.diff`` of the
cost as written: 1/(1 + e^-z), e^z - 1, tanh, e^z / sum e^z), never from the
derivation. Unlike the property suite's tolerance, this one does not include the
effect of perturbing the targets: at y = 1 (sigmoid, tanh, softmax's top class) or
y = -1 (elu), a - y is far smaller than y's last digit, and a kernel that forms
a - y by subtraction returns 0 or noise there. ``test_weakened_rule_is_caught`` builds
the elu kernel without its residual rule and checks that this test rejects it.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derive import kernels
from derive.compile import expressions, rewrite
from derive.compile.printer_numpy import function_source
from derive.kernels import bits, rows
from derive.symbolic.catalogue import pairings

C = 8  # ulps of the result, plus C subnormal ulps where the value is below the smallest normal
DPS = 420  # 1 - sigma(700) = e^-700 needs 304 digits before 50 correct ones

# textbook outputs a = f(z) (a row of mpf) and costs C(a, y)
OUTPUTS = {
    "sigmoid": lambda z: [1 / (1 + mpmath.exp(-v)) for v in z],
    "tanh": lambda z: [mpmath.tanh(v) for v in z],
    "elu": lambda z: [v if v > 0 else mpmath.exp(v) - 1 for v in z],
    "softmax": lambda z: [mpmath.exp(v) / mpmath.fsum(mpmath.exp(u) for u in z) for v in z],
}


def _huber(r):
    return r * r / 2 if abs(r) <= 1 else abs(r) - mpmath.mpf(1) / 2


COSTS = {
    "quadratic": lambda a, y: mpmath.fsum((p - q) ** 2 for p, q in zip(a, y)) / 2,
    "sse": lambda a, y: mpmath.fsum((p - q) ** 2 for p, q in zip(a, y)),
    "mse": lambda a, y: mpmath.fsum((p - q) ** 2 for p, q in zip(a, y)) / len(a),
    "l1": lambda a, y: mpmath.fsum(abs(p - q) for p, q in zip(a, y)),
    "huber": lambda a, y: mpmath.fsum(_huber(p - q) for p, q in zip(a, y)),
    "bce": lambda a, y: -mpmath.fsum(q * mpmath.log(p) + (1 - q) * mpmath.log(1 - p) for p, q in zip(a, y)),
    "cce": lambda a, y: -mpmath.fsum(q * mpmath.log(p) for p, q in zip(a, y)),
    "kl": lambda a, y: mpmath.fsum(q * mpmath.log(q / p) if q else 0 for p, q in zip(a, y)),  # 0 ln 0 = 0
    "poisson": lambda a, y: mpmath.fsum(p - q * mpmath.log(p) for p, q in zip(a, y)),
    "log_cosh": lambda a, y: mpmath.fsum(mpmath.log(mpmath.cosh(p - q)) for p, q in zip(a, y)),
    "hinge": lambda a, y: mpmath.fsum(max(0, 1 - q * p) for p, q in zip(a, y)),
    "focal": lambda a, y: -mpmath.fsum(q * (1 - p) ** 2 * mpmath.log(p) + (1 - q) * p**2 * mpmath.log(1 - p)  # gamma 2
                                       for p, q in zip(a, y)),
}

# rows (z, y) with the target on the activation's limit, where the output saturates towards it
SATURATED = {
    "sigmoid": [([s * m], [float(s > 0)]) for m in (30.0, 40.0, 700.0) for s in (1, -1)],
    "tanh": [([s * m], [float(s)]) for m in (20.0, 30.0, 40.0, 400.0, 700.0) for s in (1, -1)],
    "elu": [([m], [-1.0]) for m in (-20.0, -40.0, -700.0)],
    "softmax": [([m, 0.0, -m], [1.0, 0.0, 0.0]) for m in (30.0, 40.0, 700.0)]
    + [([0.0, m], [0.0, 1.0]) for m in (20.0, 60.0)],
}

CASES = [(act, lo, dt, z, y) for act, lo, reason in pairings() if reason is None and act in SATURATED
        for dt in (np.float64, np.float32) for z, y in SATURATED[act]]
IDS = [f"{a}+{lo}-{np.dtype(d).name}-{z}-{y}" for a, lo, d, z, y in CASES]


def want_delta(activation: str, loss: str, z: list, y: list) -> list:
    """dC/dz_j of the textbook cost at the exact inputs, checked at two precisions."""
    def at(dps):
        with mpmath.workdps(dps):
            zs, ys = [mpmath.mpf(v) for v in z], [mpmath.mpf(v) for v in y]

            def cost_along(j):
                return lambda t: COSTS[loss](OUTPUTS[activation]([*zs[:j], t, *zs[j + 1:]]), ys)

            return [mpmath.diff(cost_along(j), zs[j]) for j in range(len(z))]

    first, second = at(DPS), at(DPS + 40)
    with mpmath.workdps(DPS):
        assert all(abs(u - v) <= mpmath.mpf(10) ** -40 * abs(v) + mpmath.mpf(10) ** -700 for u, v in zip(first, second))
    return second


def forward_errors(got, want, dtype) -> list:
    """(|got - want|, allowed) per entry: the check of this module."""
    info = np.finfo(dtype)
    with mpmath.workdps(DPS):
        return [(abs(mpmath.mpf(float(g)) - w), C * (float(info.eps) * abs(w) + float(info.smallest_subnormal)))
                for g, w in zip(np.ravel(got), want)]


def accurate(got, want, dtype) -> bool:
    return all(err <= allowed for err, allowed in forward_errors(got, want, dtype))


@pytest.mark.parametrize(("activation", "loss", "dtype", "z", "y"), CASES,
                         ids=IDS)
def test_residual_forward_error(activation, loss, dtype, z, y):
    got = kernels.get(activation, loss).delta(np.array(z, dtype), np.array(y, dtype))
    assert got.dtype == dtype
    want = want_delta(activation, loss, z, y)
    assert accurate(got, want, dtype), (got, [mpmath.nstr(w, 17) for w in want], forward_errors(got, want, dtype))


@pytest.mark.parametrize(("activation", "loss", "dtype", "z", "y"), CASES,
                         ids=IDS)
def test_residual_loss_forward_error(activation, loss, dtype, z, y):
    """The loss kernels use the same residual forms: C(a, y) of the textbook at the same inputs."""
    got = kernels.get(activation, loss).loss(np.array(z, dtype), np.array(y, dtype))
    with mpmath.workdps(DPS):
        want = COSTS[loss](OUTPUTS[activation]([mpmath.mpf(v) for v in z]), [mpmath.mpf(v) for v in y])
    assert accurate(np.atleast_1d(got), [want], dtype), (got, mpmath.nstr(want, 17))


def _kernel_without(rule, activation: str, loss: str):
    """The delta kernel of the pairing generated with ``rule`` left out of its phase."""
    phases = tuple(tuple(r for r in phase if r is not rule) for phase in rewrite.PHASES)
    original = expressions.stabilize
    expressions.stabilize = lambda e: rewrite.stabilize(e, phases)
    try:
        expr = expressions.delta_expr.__wrapped__(activation, loss)
    finally:
        expressions.stabilize = original
    namespace = {"np": np, "bits": bits, "rows": rows}
    exec(function_source("weakened", "z, y, shape, dtype", expr, doc="weakened"), namespace)  # generated, no user text
    return lambda z, y: namespace["weakened"](z, y, z.shape, z.dtype)


@pytest.mark.parametrize(("rule", "activation", "loss", "z", "y"), [
    (rewrite.elu_residual, "elu", "quadratic", [-40.0], [-1.0]),
    (rewrite.sigmoid_residual, "sigmoid", "quadratic", [40.0], [1.0]),
    (rewrite.tanh_residual, "tanh", "quadratic", [-20.0], [-1.0]),
    (rewrite.softmax_residual_rule, "softmax", "quadratic", [40.0, 0.0, -40.0], [1.0, 0.0, 0.0]),
    (rewrite.hinge_margin, "sigmoid", "hinge", [40.0], [1.0]),
    (rewrite.hinge_margin, "tanh", "hinge", [-20.0], [-1.0]),
    (rewrite.hinge_margin, "elu", "hinge", [-40.0], [-1.0]),
    (rewrite.hinge_margin, "softmax", "hinge", [40.0, 0.0, -40.0], [1.0, -1.0, -1.0]),
])
def test_weakened_rule_is_caught(rule, activation, loss, z, y):
    """Each residual rule matters: without it the kernel loses every digit and this module's check says so."""
    z64, y64 = np.array(z), np.array(y)
    want = want_delta(activation, loss, z, y)
    assert accurate(kernels.get(activation, loss).delta(z64, y64), want, np.float64)
    weakened = _kernel_without(rule, activation, loss)(z64, y64)
    assert not accurate(weakened, want, np.float64), weakened


def test_naive_elu_residual_is_rejected():
    """elu(z) - y as expm1(z) - y at z = -40, y = -1 is 0; the value is e^-40 e^-40 = 1.8e-35."""
    z, y = -40.0, -1.0
    naive = (np.expm1(z) - y) * np.exp(z)
    assert naive == 0.0
    assert not accurate(np.array([naive]), want_delta("elu", "quadratic", [z], [y]), np.float64)
