"""Second order: the derived Hessian against a 50-digit second derivative of the textbook definition
(mpmath.diff of the loss written out by hand, not derive's derivation), and the curvature verdicts."""

import mpmath
import pytest
import sympy as sp

from derive.symbolic.catalogue import valid_pairings
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, j, k, n, y, z

mpmath.mp.dps = 50

# the definitions, retyped from the textbook (independent of derive's catalogue)
ACT = {
    "identity": lambda t: t,
    "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)),
    "tanh": mpmath.tanh,
    "softplus": lambda t: mpmath.log(1 + mpmath.exp(t)),
    "silu": lambda t: t / (1 + mpmath.exp(-t)),
    "gelu": lambda t: t * mpmath.ncdf(t),
    "elu": lambda t: t if t > 0 else mpmath.exp(t) - 1,
}
LOSS = {
    "quadratic": lambda p, t: (p - t) ** 2 / 2,
    "sse": lambda p, t: (p - t) ** 2,
    "bce": lambda p, t: -(t * mpmath.log(p) + (1 - t) * mpmath.log(1 - p)),
    "cce": lambda p, t: -t * mpmath.log(p),
}
SMOOTH = [(act, loss) for act, loss in valid_pairings() if act in ACT and loss in LOSS]
POINTS = [(mpmath.mpf("-1.25"), mpmath.mpf("0.3")), (mpmath.mpf("0.5"), mpmath.mpf("0.9")), (mpmath.mpf(2), mpmath.mpf(0))]


@pytest.mark.parametrize("act, loss", SMOOTH)
def test_elementwise_hessian_is_the_second_derivative_of_the_definition(act, loss):
    h = derive_pair(act, loss).hessian
    assert h.entry.subs(k, j + 1).doit() == 0 or sp.simplify(h.entry.subs(k, j + 1)) == 0  # off-diagonal
    for t, target in POINTS:
        if act == "elu" and abs(t) < mpmath.mpf("0.1"):
            continue
        want = mpmath.diff(lambda u: LOSS[loss](ACT[act](u), target), t, 2)
        got = derive_pair(act, loss).in_z(h.diagonal).subs({y[j]: sp.Rational(str(target))}).subs(z[j], sp.Rational(str(t)))
        assert abs(mpmath.mpf(sp.N(got, 50)) - want) < mpmath.mpf(10) ** -40


def test_softmax_cce_hessian_is_diag_a_minus_a_a_transpose_of_the_definition():
    entry = derive_pair("softmax", "cce").hessian.entry
    zs = [mpmath.mpf("0.3"), mpmath.mpf("-1.1"), mpmath.mpf("2.0")]
    ys = [0, 1, 0]

    def cost(*v):
        e = [mpmath.exp(t) for t in v]
        return -sum(yi * mpmath.log(ei / sum(e)) for yi, ei in zip(ys, e))

    e = [mpmath.exp(t) for t in zs]
    s = [ei / sum(e) for ei in e]
    for r in range(3):
        for c in range(3):
            order = [0, 0, 0]
            order[r] += 1
            order[c] += 1
            want = mpmath.diff(cost, zs, tuple(order))
            got = entry.subs({j: r + 1, k: c + 1}).doit().subs({a[q]: sp.Float(s[q - 1], 60) for q in (1, 2, 3)})
            assert abs(mpmath.mpf(sp.N(got, 50)) - want) < mpmath.mpf(10) ** -30


def test_softmax_hessian_is_symmetric_for_every_loss():
    for act, loss in valid_pairings():
        if act != "softmax" or loss in ("l1", "huber"):
            continue
        entry = derive_pair(act, loss).hessian.entry
        jj, kk = sp.symbols("jj kk", integer=True, positive=True)
        swapped = entry.xreplace({j: jj, k: kk}).xreplace({jj: k, kk: j})
        values = {a[1]: sp.Rational(1, 5), a[2]: sp.Rational(3, 10), a[3]: sp.Rational(1, 2),
                  y[1]: sp.Rational(1, 7), y[2]: sp.Rational(2, 7), y[3]: sp.Rational(4, 7), n: 3}
        for r, c in ((1, 2), (1, 3), (2, 3)):
            lhs = entry.subs({j: r, k: c}).subs(n, 3).doit().subs(values)
            rhs = swapped.subs({j: r, k: c}).subs(n, 3).doit().subs(values)
            assert sp.simplify(lhs - rhs) == 0, (loss, r, c)
