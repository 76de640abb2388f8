"""Identities: sigmoid and tanh, canonical pairings, the softmax Jacobian, sign sharing, LSTM, logistic regression.

    sigma' = sigma (1 - sigma),  delta = a - y (canonical pairs),  J = diag(S) - S S^T,  dC/dw_jk = delta_j x_k

Every derivative is taken from ``derive`` (its functions' fdiff, ``derive_pair``,
``softmax.jacobian_entry``, ``lstm.cell_gradient``, ``logistic.nll_gradient``),
never retyped here; this module only states what they must equal or satisfy.

>>> sigmoid_facts().verdict.proved
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import Interval, KroneckerDelta, Rational, S, Sum, latex, oo, tanh

from derive.symbolic import lstm, logistic
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.symbolic.functions import sigmoid
from derive.symbolic.pairing import derive_pair
from derive.symbolic.softmax import explicit_jacobian_matches, jacobian_entry
from derive.symbolic.symbols import a, i, j, k, n, x, y
from derive.symbolic.symbols import z as zi
from proofs.certificate import Proof, Verdict, all_proved, holds_by_refutation
from proofs.checker import check_eq, check_le, check_lt
from proofs.refutation import refute

z = sp.Symbol("z", real=True)
# the gates' ranges: a counterexample must be a point the cell can reach
LSTM_GATES = {lstm.f_t: Interval.open(0, 1), lstm.i_t: Interval.open(0, 1), lstm.g_t: Interval.open(-1, 1)}
HALF, QUARTER = Rational(1, 2), Rational(1, 4)


def _d(expr):
    return sp.diff(expr, z)


@cache
def sigmoid_facts() -> Proof:
    """sigma' = sigma(1 - sigma) in (0, 1/4], = 1/4 only at 0; sigma(-z) = 1 - sigma(z);
    tanh = 2 sigma(2z) - 1; tanh' = 1 - tanh^2 in (0, 1]; tanh odd, sigma not."""
    s, t = sigmoid(z), tanh(z)
    ds, dt = _d(s), _d(t)
    unit = ACTIVATIONS["sigmoid"].range
    steps = [
        check_eq(ds, s * (1 - s), claim="sigma' = sigma (1 - sigma)"),
        check_eq(_d(sigmoid.definition(z)), s * (1 - s), claim="d/dz 1/(1 + e^-z) = sigma (1 - sigma)"),
        check_eq(ACTIVATIONS["sigmoid"].prime(s, z), ds, claim="catalogue's sigmoid' agrees"),
        check_lt(0, ds, s * (1 - s), {s: unit}, claim="sigma' > 0"),
        check_le(ds, QUARTER, (s - HALF) ** 2, {s: unit}, claim="sigma' <= 1/4"),
        # equality: (sigma - 1/2)^2 = 0 iff sigma(z) = 1/2 iff z = 0 (sigma' > 0: strictly increasing)
        check_eq(s.subs(z, 0), HALF, claim="sigma(0) = 1/2"),
        Verdict("sigma(z) = 1/2 only at z = 0", "proved" if sp.solveset(sp.Eq(sigmoid.definition(z), HALF), z, S.Reals)
                == sp.FiniteSet(0) else "not proved", "solveset over the reals"),
        check_eq(ds.subs(z, 0), QUARTER, claim="sigma'(0) = 1/4"),
        check_eq(s.subs(z, -z), 1 - s, claim="sigma(-z) = 1 - sigma(z)"),
        check_eq(t, 2 * s.subs(z, 2 * z) - 1, claim="tanh z = 2 sigma(2z) - 1"),
        check_eq(dt, 1 - t**2, claim="tanh' = 1 - tanh^2"),
        check_eq(ACTIVATIONS["tanh"].prime(t, z), dt, claim="catalogue's tanh' agrees"),
        check_lt(0, dt, (1 - t) * (1 + t), {t: ACTIVATIONS["tanh"].range}, claim="tanh' > 0"),
        check_le(dt, 1, t**2, {t: ACTIVATIONS["tanh"].range}, claim="tanh' <= 1"),
        check_eq(dt.subs(z, 0), 1, claim="tanh'(0) = 1"),
        check_eq(t.subs(z, -z), -t, claim="tanh is odd"),
        holds_by_refutation("sigma is not odd", refute(s.subs(z, -z), -s, {z: 0})),
        holds_by_refutation("sigma is not zero-centred: sigma(0) != 0", refute(s, 0, {z: 0})),
    ]
    statement = (
        r"\sigma'(z) = " + latex(ds) + r",\ 0 < \sigma' \le \tfrac14 \text{ with equality only at } z = 0;\ "
        r"\sigma(-z) = 1 - \sigma(z);\ \tanh z = 2\sigma(2z) - 1;\ \tanh' = " + latex(dt) +
        r" \in (0, 1];\ \tanh \text{ is odd (zero-centred)}, \sigma \text{ is not } (\sigma(0) = \tfrac12)"
    )
    certificate = (
        r"$\tfrac14 - \sigma(1-\sigma) = (\sigma - \tfrac12)^2$, zero iff $\sigma = \tfrac12$ iff $z = 0$ ($\sigma$ strictly "
        r"increasing); $1 - \tanh'= \tanh^2$; $\tanh' = (1-\tanh)(1+\tanh)$; $\sigma(-0) \neq -\sigma(0)$"
    )
    return Proof(statement, certificate, all_proved("sigmoid and tanh", steps))


def _delta_again(act: str, loss: str) -> Verdict:
    """delta = a - y once more, not from derive's final answer: elementwise, by differentiating the
    cost written in z (the sum over units collapses); softmax, from derive's chain-rule sum with sum y = 1."""
    d = derive_pair(act, loss)
    claim = f"{act}+{loss}: dC/dz_j = a_j - y_j recomputed (unit j in [1, n])"
    unit = {j: (1, n)}  # z_j is one of the n units: the sum over i collapses onto it
    if ACTIVATIONS[act].elementwise:
        return check_eq(sp.diff(d.in_z(d.cost), zi[j]), d.in_z(a[j] - y[j]), claim=claim, indices=unit)
    chained = next(st.rhs for st in d.steps if isinstance(st.rhs, Sum) and st.rhs.has(KroneckerDelta))
    return check_eq(chained, a[j] - y[j], given={Sum(y[i], (i, 1, n)): 1}, claim=claim, indices=unit)


@cache
def canonical_pairings() -> Proof:
    """delta = a - y for sigmoid+bce, softmax+cce (sum y = 1), identity+quadratic; |delta| < 1 for sigmoid+bce."""
    pairs = (("sigmoid", "bce"), ("softmax", "cce"), ("identity", "quadratic"))
    steps = [check_eq(derive_pair(*p).delta, a[j] - y[j], claim=f"{'+'.join(p)}: delta = a - y") for p in pairs]
    steps += [_delta_again(*p) for p in pairs]
    d = derive_pair("sigmoid", "bce")
    dom = {a: ACTIVATIONS["sigmoid"].range, y: LOSSES["bce"].targets}
    steps += [
        check_lt(d.delta, 1, (1 - a[j]) + y[j], dom, claim="sigmoid+bce: delta < 1"),
        check_lt(-1, d.delta, a[j] + (1 - y[j]), dom, claim="sigmoid+bce: delta > -1"),
    ]
    canonical = sorted(p for p in valid_pairings() if derive_pair(*p).canonical)
    steps.append(Verdict("the three are canonical", "proved" if set(pairs) <= set(canonical) else "not proved",
                         f"canonical pairings in the catalogue: {canonical}"))
    statement = (
        r"\delta_j = \frac{\partial C}{\partial z_j} = a_j - y_j \text{ for sigmoid+bce, softmax+cce } "
        r"(\textstyle\sum_i y_i = 1), \text{ identity+quadratic};\ |\delta_j| < 1 \text{ for sigmoid+bce}, y_j\in[0,1]"
    )
    certificate = r"derived by \texttt{derive\_pair}; $1 - (a-y) = (1-a) + y > 0$, $(a-y) + 1 = a + (1-y) > 0$"
    return Proof(statement, certificate, all_proved("canonical pairings", steps))


@cache
def softmax_jacobian() -> Proof:
    """J_ij = S_i(delta_ij - S_j): diag(S) - S S^T, symmetric, rows sum to 0, PSD, |J_ij| <= 1/4."""
    J = jacobian_entry(i, j)
    Jii = J.subs(j, i)  # the diagonal from the closed form: the theorem is about that form
    Jij = J.subs(KroneckerDelta(i, j), 0)  # i != j
    v = sp.IndexedBase("v", real=True)
    M = Sum(a[k] * v[k], (k, 1, n))
    one = {Sum(a[j], (j, 1, n)): 1}
    unit = ACTIVATIONS["softmax"].range
    dom = {a: unit, v: S.Reals}
    quad = Sum(Sum(v[i] * J * v[j], (j, 1, n)), (i, 1, n))
    # R = sum_{k != i, j} S_k: nonnegative term by term, and = 1 - S_i - S_j by sum S = 1 (i != j, both units)
    rest = Sum(a[k] * (1 - KroneckerDelta(k, i)) * (1 - KroneckerDelta(k, j)), (k, 1, n))
    units = {i: (1, n), j: (1, n)}
    apart = {**one, KroneckerDelta(i, j): 0}
    steps = [
        check_eq(J, KroneckerDelta(i, j) * a[i] - a[i] * a[j], claim="J = diag(S) - S S^T"),
        Verdict("explicit 3x3 Jacobian matches", "proved" if explicit_jacobian_matches(3) else "not proved",
                "derive.symbolic.softmax.explicit_jacobian_matches(3)"),
        check_eq(J, J.subs({i: j, j: i}, simultaneous=True), claim="J symmetric"),
        check_eq(Sum(J, (j, 1, n)), 0, given=one, indices={i: (1, n)}, claim="rows sum to 0 (J 1 = 0: singular)"),
        check_eq(quad, Sum(a[i] * v[i] ** 2, (i, 1, n)) - M**2, claim="v^T J v = sum S_i v_i^2 - (sum S_i v_i)^2"),
        check_le(0, quad, Sum(a[i] * (v[i] - M) ** 2, (i, 1, n)), dom, given=one, claim="v^T J v >= 0"),
        check_lt(0, Jii, a[i] * (1 - a[i]), dom, claim="J_ii > 0"),
        check_le(Jii, QUARTER, (a[i] - HALF) ** 2, dom, claim="J_ii <= 1/4"),
        check_eq(Jii.subs(a[i], HALF), QUARTER, claim="J_ii = 1/4 at S_i = 1/2"),
        check_lt(Jij, 0, a[i] * a[j], dom, claim="J_ij < 0 (i != j)"),
        check_eq(rest, 1 - a[i] - a[j], given=apart, indices=units, claim="sum_{k != i, j} S_k = 1 - S_i - S_j (i != j)"),
        check_le(-QUARTER, Jij, (a[i] - a[j]) ** 2 / 4 + rest * (1 + a[i] + a[j]) / 4,
                 dom, given=apart, indices=units, claim="J_ij >= -1/4 (i != j)"),
    ]
    statement = (
        r"J_{ij} = \frac{\partial S_i}{\partial z_j} = " + latex(J) + r" = \operatorname{diag}(S) - SS^{\top};\ "
        r"J = J^{\top};\ \textstyle\sum_j J_{ij} = 0 \text{ (singular)};\ v^{\top}Jv = \sum_i S_i v_i^2 - (\sum_i S_i v_i)^2 \ge 0;\ "
        r"0 < J_{ii} \le \tfrac14 \text{ (equality at } S_i = \tfrac12);\ -\tfrac14 \le J_{ij} < 0\ (i\ne j);\ |J_{ij}| \le \tfrac14"
    )
    certificate = (
        r"$v^{\top}Jv = \sum_i S_i (v_i - \sum_k S_k v_k)^2$ using $\sum S = 1$; "
        r"$\tfrac14 - S_i(1-S_i) = (S_i - \tfrac12)^2$; "
        r"$\tfrac14 - S_iS_j = \tfrac14(S_i - S_j)^2 + \tfrac14 R (1 + S_i + S_j)$, "
        r"$R = \sum_k S_k (1 - \delta_{ki})(1 - \delta_{kj}) = \sum_{k \ne i,j} S_k \ge 0$, $= 1 - S_i - S_j$ by $\sum S = 1$, $i \ne j$"
    )
    return Proof(statement, certificate, all_proved("softmax Jacobian", steps))


@cache
def sign_sharing() -> Proof:
    """dC/dw_jk = delta_j x_k for every valid pairing; x_k > 0 gives every dC/dw_jk the sign of delta_j."""
    steps = [check_eq(derive_pair(*p).grad_w, derive_pair(*p).delta * x[k], claim=f"{'+'.join(p)}: dC/dw = delta x")
             for p in valid_pairings()]
    delta = sp.Symbol("delta_j", real=True)
    pos = {x: Interval.open(0, oo), delta: S.Reals}
    steps += [
        check_le(0, delta * x[k] * delta, delta**2 * x[k], pos, claim="delta_j dC/dw_jk >= 0 when x_k > 0"),
        Verdict("sigmoid outputs are positive", "proved" if ACTIVATIONS["sigmoid"].range.is_subset(Interval.open(0, oo))
                else "not proved", "range (0, 1), proved in the range theorem"),
    ]
    statement = (
        r"\frac{\partial C}{\partial w_{jk}} = \delta_j x_k \text{ for all " + str(len(valid_pairings())) +
        r" valid pairings; if every } x_k > 0 \text{ (e.g. sigmoid outputs), every } \frac{\partial C}{\partial w_{jk}}"
        r" \text{ has the sign of } \delta_j"
    )
    certificate = r"$\delta_j \cdot \delta_j x_k = \delta_j^2 x_k \ge 0$ with $x_k > 0$; zero iff $\delta_j = 0$"
    return Proof(statement, certificate, all_proved("sign sharing", steps))


@cache
def lstm_cell() -> Proof:
    """standard cell dC_t/dC_{t-1} = f_t; seed 001's printed cell: sigma'(u) f_t <= f_t/4 (not additive)."""
    std = lstm.cell_gradient("standard")
    seed = lstm.cell_gradient("seed001")
    u = lstm.u_t
    w = sp.Symbol("w", real=True)
    dsig = sp.diff(sigmoid(w), w).subs(w, u)
    dom = {lstm.f_t: Interval.open(0, 1), sigmoid(u): ACTIVATIONS["sigmoid"].range}
    point = {lstm.f_t: HALF, lstm.C_prev: 0, lstm.i_t: HALF, lstm.g_t: 0}
    steps = [
        check_eq(std.gradient, lstm.f_t, claim="standard: dC_t/dC_{t-1} = f_t"),
        check_eq(seed.gradient, dsig * lstm.f_t, claim="printed: dC_t/dC_{t-1} = sigma'(u_t) f_t"),
        check_le(seed.gradient, lstm.f_t / 4, lstm.f_t * (sigmoid(u) - HALF) ** 2, dom, claim="printed: <= f_t / 4"),
        holds_by_refutation("printed cell is not the additive path",
                            refute(seed.gradient, std.gradient, point, claim="sigma'(u) f_t = f_t", domain=LSTM_GATES)),
    ]
    statement = (
        r"C_t = " + latex(std.state) + r":\ \frac{\partial C_t}{\partial C_{t-1}} = " + latex(std.gradient) +
        r";\quad C_t = " + latex(seed.state) + r" \text{ (seed 001 as printed)}:\ \frac{\partial C_t}{\partial C_{t-1}} = "
        + latex(seed.gradient) + r" \le \tfrac{f_t}{4}"
    )
    certificate = (
        r"$\tfrac{f_t}{4} - \sigma'(u)f_t = f_t(\sigma(u) - \tfrac12)^2$; counterexample to $\sigma'(u)f_t = f_t$ at "
        r"$f_t = \tfrac12, C_{t-1} = 0, g_t = 0$: $\tfrac18 \ne \tfrac12$"
    )
    return Proof(statement, certificate, all_proved("LSTM cell gradient", steps))


@cache
def logistic_regression() -> Proof:
    """NLL gradient of logistic regression = (sigma(X) - y) x_k = sigmoid+bce's dC/dw for one unit."""
    g01 = logistic.nll_gradient("01")
    gpm = logistic.nll_gradient("pm1")
    X, t = logistic.X, logistic.label
    d = derive_pair("sigmoid", "bce")
    as_neuron = d.grad_w.subs({a[j]: sigmoid(X), y[j]: t})
    steps = [
        check_eq(g01.d_coef, (sigmoid(X) - t) * x[k], claim="dL/db_k = (g(X) - y) x_k"),
        check_eq(g01.d_intercept, sigmoid(X) - t, claim="dL/db_0 = g(X) - y"),
        check_eq(g01.d_coef, as_neuron, claim="= the sigmoid+bce neuron's dC/dw"),
    ]
    for label in (-1, 1):
        steps.append(check_eq(gpm.d_coef.subs(t, label), (sigmoid(X) - Rational(1 + label, 2)) * x[k],
                              claim=f"labels +-1, y = {label}: dL/db_k = (g - (1 + y)/2) x_k"))
    short = {X: sp.Symbol("X")}  # X = b_0 + sum_m b_m x_m, printed as X
    statement = (
        r"X = " + latex(X) + r",\quad L = " + latex(g01.nll.xreplace(short)) + r"\qquad \frac{\partial L}{\partial b_k} = "
        + latex(g01.d_coef.xreplace(short)) + r" = (a - y)\,x_k,\ a = \sigma(X) \text{ (one sigmoid neuron with bce)}"
    )
    certificate = r"\texttt{derive.symbolic.logistic.nll\_gradient} equals \texttt{derive\_pair('sigmoid', 'bce').grad\_w} at $a = \sigma(X)$"
    return Proof(statement, certificate, all_proved("logistic regression", steps))
