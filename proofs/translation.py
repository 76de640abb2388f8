"""Translation validation: every generated kernel proved equal to the derivation it was printed from.

    kernel  K = the stabilised expression the printer printed (``derive.compile.expressions``)
    meaning M(K) = K with every printer node replaced by the mathematics it stands for (``MEANING``)
    claim   M(K) == D, D the raw derivation (``derive_pair``: cost, delta; the catalogue: f, f')

A clamp (a Min, Max or Clip with a nonzero bound, a number or a per-format ``nodes.Bound``, on an
argument free of the target: ``exp(min(z, sigmoid_saturation))``) is an evaluation device, not
mathematics: the equality is proved with the clamp removed ("on the clamp's domain"), and
separately each clamped exponential is shown to round to the same number with and without the
clamp, per floating-point format with the bound's value there (``proofs.rounding.clamp_verdicts``).

The equality is three-valued (``proofs.equality.is_zero``): proved, or unknown (listed by name).
For an elementwise pairing the target is written y = a - r (a change of variables), so every
condition of the loss (|a - y| <= 1, sign(a - y)) is a condition in r alone; the proof then splits
into cases on z and on r at the boundaries of every condition. A softmax kernel is read per unit:
its row nodes mean a_j (``softmax``), log a_j, a_j (g_j - sum_k a_k g_k), ... in the derivation's
own indexed notation, and the sums are compared by ``proofs.identity.identity_holds`` given
sum_i a_i = 1 (the softmax's own identity: the rewritten poisson delta (a - y) - a (1 - sum y) needs it).
The underflow slow path (``LogProduct``) is proved equal to its product by the lemmas of
``proofs.log_space``; a sum of logarithms (log cosh's large branch) by e^D == 1 (``proofs.case_split``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from derive.compile import nodes
from derive.compile.expressions import N, Y, Z, activation_expr, delta_expr, derivative_expr, loss_expr
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, valid_pairings
from derive.symbolic.functions import Phi, expand_named
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, i, j, n, y, z
from proofs.certificate import Verdict
from proofs.case_split import zero_by_cases as _zero_by_cases
from proofs.identity import identity_holds
from proofs.log_space import log_space_equal
from proofs.margin import margins, reduced
from proofs.deadline import Undecided, deadline
from proofs.rounding import FORMATS, all_clamps, clamp_verdicts, clamps, is_clamp, unclamped

__all__ = ["MEANING", "FORMATS", "meaning", "clamps", "clamp_verdicts", "proves", "kernels", "KernelCheck",
           "translation_table", "FAMILIES"]

_k = sp.Dummy("k", integer=True)  # the row sums' index in a softmax kernel's meaning


def _pw_step(x):
    return sp.Piecewise((1, x >= 0), (0, True))


def _row(e):
    """e for unit j of the row -> for unit _k (inside a row sum)."""
    return e.xreplace({j: _k})


def _vjp(g):
    """a_j (g_j - sum_k a_k g_k): the softmax Jacobian (symmetric) applied to g."""
    return a[j] * (g - sp.Sum(_row(a[j] * g), (_k, 1, n)))


def _odds(yj):
    """p_j = -y_j + (1 - y_j) a_j / (1 - a_j): bce's a_j dC/da_j."""
    return -yj + (1 - yj) * a[j] / (1 - a[j])


# What each printer node means (the docstrings of derive.compile.nodes, as mathematics). Row nodes
# are written for unit j of a softmax row, in the derivation's notation (a_j = softmax(z)_j).
# copysign: the rules only ever give it a magnitude p >= 0 (its docstring), so |p| sign(x) with
# sign(+0) = +1: a kernel reads the sign bit, and -0.0 is the one input where it differs from math.
MEANING = {
    nodes.Minus: lambda p, q: p - q,
    nodes.Quotient: lambda p, q: p / q,
    nodes.Over: lambda p, k: p / k,
    nodes.step: _pw_step,
    nodes.copysign: lambda p, x: sp.Piecewise((sp.Abs(p), x >= 0), (-sp.Abs(p), True)),
    nodes.Clip: lambda x, lo, hi: sp.Piecewise((lo, x < lo), (hi, x > hi), (x, True)),
    expm1: lambda x: sp.exp(x) - 1,
    log1p: lambda x: sp.log(1 + x),
    nodes.RowSum: lambda e: sp.Sum(_row(e), (_k, 1, n)),
    nodes.softmax: lambda x: a[j],
    nodes.log_softmax: lambda x: sp.log(a[j]),
    nodes.log1m_softmax: lambda x: sp.log(1 - a[j]),
    nodes.softmax_residual: lambda x, yj: a[j] - yj,
    nodes.softmax_vjp: lambda x, g: _vjp(g),
    nodes.softmax_vjp_residual: lambda x, yj: _vjp(a[j] - yj),
    nodes.softmax_vjp_clipped_residual: lambda x, yj: _vjp(MEANING[nodes.Clip](a[j] - yj, -1, 1)),
    nodes.softmax_odds_vjp: lambda x, yj: _odds(yj) - a[j] * sp.Sum(_row(_odds(yj)), (_k, 1, n)),
}
MEANING.update({
    nodes.SignedExp: lambda s, lg: s * sp.exp(lg),
    nodes.log_ndtr: lambda x: sp.log(Phi(x)),
    # p r, where its log-space value v (used on the lanes where p underflows) is proved equal to p r:
    # ``_log_space_equal``; where it is not, the meaning keeps v apart and the kernel stays unproved
    nodes.LogProduct: lambda p, r, v: p * r if isinstance(v, nodes.SignedExp) and _log_space_equal(p, r, v)
    else sp.Piecewise((v, _RARE), (p * r, True)),
})
_RARE = sp.Symbol("the_lanes_where_p_underflows")  # no proof decides it: an unproved LogProduct stays unproved


def _log_space_equal(p, r, v) -> bool:
    """v == p r by the log-space lemmas (``proofs.log_space``), in z and y."""
    return log_space_equal(p, r, v, lambda e: meaning(e, unclamp=True), [Z, Y])


# w log a_j and w log(1 - a_j) (0 where w = 0: a_j is in (0, 1), so the product is then 0 anyway); nodes
# that derive.compile may not have yet are read by name
MEANING.update({getattr(nodes, node): meant for node, meant in (
    ("xlog_softmax", lambda w, x: w * sp.log(a[j])), ("xlog1m_softmax", lambda w, x: w * sp.log(1 - a[j])),
    ("softmax_cce", lambda w, x: -sp.Sum(_row(w * sp.log(a[j])), (_k, 1, n))),  # a row's value: -sum_k w_k log a_k
) if hasattr(nodes, node)})


def meaning(kernel, unclamp: bool = True):
    """The mathematics a kernel expression stands for (``MEANING``); clamps removed when ``unclamp``."""
    if unclamp:
        kernel = kernel.replace(is_clamp, unclamped)
    # a LogProduct first, its log-space value still in the printer's nodes (``proofs.log_space`` reads them)
    kernel = kernel.replace(lambda e: isinstance(e, nodes.LogProduct), lambda e: MEANING[nodes.LogProduct](*e.args))
    return kernel.replace(lambda e: type(e) in MEANING, lambda e: MEANING[type(e)](*e.args))


# --- the equality ------------------------------------------------------------------------------------


def _scalar(expr, act):
    """A derivation of an elementwise pairing in the kernel's scalars: a[.] -> f(z), y[.] -> y, z[.] -> z,
    a sum over the units -> RowSum (both sides then sum the same per-unit term)."""
    expr = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: nodes.RowSum(e.function))
    return expr.replace(lambda e: isinstance(e, sp.Indexed), lambda e: {a: act.f(Z), y: Y, z: Z}[e.base]).subs(n, N)


def _expanded_kinks(expr):
    """Each Max, Min and Abs with its arguments expanded: max(0, (1 - y)(1 + y) - (a - y) y) is max(0, 1 - a y)."""
    return expr.replace(lambda e: isinstance(e, (sp.Max, sp.Min, sp.Abs)), lambda e: e.func(*map(sp.expand, e.args)))


def _one_sum(expr, cls, body):
    """expr = c S, S its one ``cls`` (Sum, RowSum) and c free of the variables: (c, body(S)); else None."""
    sums = expr.atoms(cls)
    if len(sums) != 1:
        return None
    (s,) = sums
    c = sp.cancel(expr / s)
    return None if c.has(Z, Y, sp.Indexed, cls) else (c, body(s))


def _elementwise_equal(kernel, derivation, act) -> bool:
    r = sp.Dummy("r", real=True)  # the residual a - y: y = f(z) - r
    K = meaning(kernel).replace(lambda e: isinstance(e, sp.Sum), lambda e: nodes.RowSum(e.function.xreplace({_k: j})))
    D = _scalar(derivation, act)
    sk, sd = (_one_sum(e, nodes.RowSum, lambda s: s.args[0]) for e in (K, D))
    if (sk is None) != (sd is None):
        return False
    pairs = zip(sk, sd) if sk else [(K, D)]
    return all(_zero_by_cases(expand_named((p - q).subs(Y, act.f(Z) - r)), [Z, r]) for p, q in pairs)


def _common_factor(pw):
    """Piecewise((g e1, c1), (g e2, c2), ...) -> (g, Piecewise((e1, c1), ...)): the factor all branches share."""
    factors = [set(sp.Mul.make_args(e)) for e, _ in pw.args]
    g = set.intersection(*factors) - {sp.S.One}
    return sp.Mul(*g), sp.Piecewise(*[(sp.Mul(*(set(sp.Mul.make_args(e)) - g)), c) for e, c in pw.args])


def _abstract_residual_functions(exprs):
    """Each Piecewise of one unit's residual a_k - y_k -> +-G(a_k - y_k), G a fresh function, once the
    Piecewise is proved equal to +-G's representative as a function of r (so any identity proved with
    G uninterpreted holds for the representative too)."""
    rho = sp.Dummy("r", real=True)
    reps: list[tuple[sp.Expr, sp.Function]] = []

    def abstract(whole):
        g, pw = _common_factor(whole)  # a Sum folds a factor back into its Piecewise: abstract without it
        idx = {e.indices for e in pw.atoms(sp.Indexed)}
        if len(idx) != 1 or {e.base for e in pw.atoms(sp.Indexed)} - {a, y}:
            return whole
        (ix,) = idx
        phi = pw.xreplace({y[ix]: a[ix] - rho})
        if phi.has(a):
            return whole
        for rep, G in reps:
            for sgn in (1, -1):
                if _zero_by_cases(phi - sgn * rep, [rho]):
                    return g * sgn * G(a[ix] - y[ix])
        G = sp.Function(f"G{len(reps)}")
        reps.append((phi, G))
        return g * G(a[ix] - y[ix])

    return [e.replace(lambda x: isinstance(x, sp.Piecewise), abstract) for e in exprs]


def _softmax_equal(kernel, derivation, targets_sum_to_one) -> bool:
    K = meaning(kernel.xreplace({Y: y[j], Z: z[j], N: n}))
    # sum_i a_i = 1: the softmax's own identity (sum_i e^{z_i} / sum_k e^{z_k}), used by every rewrite of a row
    given = {sp.Sum(a[i], (i, 1, n)): 1} | ({sp.Sum(y[i], (i, 1, n)): 1} if targets_sum_to_one else {})
    if not (K - derivation).has(sp.Piecewise) and identity_holds(K - derivation, given=given) is True:
        return True
    per_unit = lambda s: s.function.xreplace({s.limits[0][0]: i})  # noqa: E731
    # a loss: the same per-unit term
    if (sk := _one_sum(K, sp.Sum, per_unit)) and (sd := _one_sum(derivation, sp.Sum, per_unit)):
        rho = sp.Dummy("r", real=True)
        return all(_zero_by_cases(_expanded_kinks(expand_named(p - q)).xreplace({y[i]: a[i] - rho}), [rho])
                   for p, q in zip(sk, sd))
    K, D = _abstract_residual_functions([K, derivation])
    return identity_holds(K - D, given=given) is True


@dataclass(frozen=True)
class KernelCheck:
    """One kernel's translation validation: its family, name, equality verdict and clamp verdicts."""

    family: str
    name: str
    verdict: Verdict
    clamps: dict
    seconds: float


SECONDS_PER_KERNEL = 30  # CPU seconds (proofs.deadline): a proof SymPy has not finished by then is undecided, by name


def _check(family, name, kernel, prove) -> KernelCheck:
    start = time.perf_counter()
    claim = f"the {family} kernel {name} equals its derivation"
    try:
        with deadline(SECONDS_PER_KERNEL):
            ok = prove()
    except Undecided:
        ok, why = False, f"undecided: SymPy did not finish within {SECONDS_PER_KERNEL} s of CPU time"
    except (TypeError, ValueError, NotImplementedError, RecursionError) as exc:  # SymPy gave up
        ok, why = False, f"SymPy gave up: {type(exc).__name__}"
    else:
        why = "not proved by the case split and the three-valued equality"
    held = all_clamps(kernel)
    where = f" on the clamps' domain ({', '.join(sp.sstr(c) for c in held)} unclamped)" if held else ""
    verdict = Verdict(claim, "proved", f"equal{where}") if ok else Verdict(claim, "not proved", why)
    return KernelCheck(family, name, verdict, clamp_verdicts(kernel) if held else {}, time.perf_counter() - start)


FAMILIES = ("activation", "derivative", "loss", "delta")


def proves(family: str, activation: str, loss: str | None, kernel) -> bool:
    """``kernel`` (any expression in Z, Y, N and the printer's nodes) proved equal to the derivation of
    ``family`` ('activation', 'derivative': loss None; 'loss', 'delta') on the clamps' domain."""
    act = ACTIVATIONS[activation]
    if family in ("activation", "derivative"):
        raw = act.f(Z) if family == "activation" else act.prime(act.f(Z), Z)
        return _zero_by_cases(expand_named(meaning(kernel) - raw), [Z])
    d = derive_pair(activation, loss)
    # the plain kernels are printed at the parameters' defaults; the derivation keeps them as symbols
    raw = {"loss": d.cost, "delta": d.delta}[family].xreplace({p.symbol: p.default for p in d.params})
    if margins(kernel):  # hinge's 1 - y a as (1 - y)(1 + y) - y (a - y): each proved 1 - y a first (proofs.margin)
        kernel = reduced(kernel, act, meaning)
        if kernel is None:
            return False
    if act.elementwise:
        return _elementwise_equal(kernel, raw, act)
    return _softmax_equal(kernel, raw, LOSSES[loss].targets_sum_to_one)


def kernels():
    """(family, name, kernel expression, prove) for every generated kernel, from the catalogue."""
    for name, act in ACTIVATIONS.items():
        if act.elementwise:
            for family, build in (("activation", activation_expr), ("derivative", derivative_expr)):
                kernel = build(name)
                yield family, name, kernel, lambda f=family, n=name, k=kernel: proves(f, n, None, k)
    for act_name, loss_name in valid_pairings():
        for family, build in (("loss", loss_expr), ("delta", delta_expr)):
            kernel = build(act_name, loss_name)
            yield family, f"{act_name}+{loss_name}", kernel, \
                lambda f=family, p=(act_name, loss_name), k=kernel: proves(f, *p, k)


def sample_pairs() -> set[tuple[str, str]]:
    """(act, loss) pairs that use every rule family and every entry once: each activation with its first loss,
    each loss with its first activation other than identity, softmax with every loss."""
    valid = valid_pairings()
    pairs = {next(p for p in valid if p[0] == act) for act in ACTIVATIONS if any(p[0] == act for p in valid)}
    for loss in LOSSES:
        pairs.add(next((p for p in valid if p[1] == loss and p[0] != "identity"), None) or
                  next(p for p in valid if p[1] == loss))
    return pairs | {p for p in valid if p[0] == "softmax"}


def sample_kernels():
    """``kernels()`` of every activation, and of the ``sample_pairs`` (the report's and the suite's check)."""
    pairs = sample_pairs()
    return [k for k in kernels() if k[0] in ("activation", "derivative") or tuple(k[1].split("+")) in pairs]


def kernel_count() -> int:
    """How many kernels ``kernels()`` yields, without building them."""
    return 2 * sum(act.elementwise for act in ACTIVATIONS.values()) + 2 * len(valid_pairings())


@cache
def sample_table() -> tuple[KernelCheck, ...]:
    return tuple(_check(*k) for k in sample_kernels())


@cache
def translation_table() -> tuple[KernelCheck, ...]:
    """Every kernel's check (slow: tens of seconds)."""
    return tuple(_check(*k) for k in kernels())


def summary(table=None) -> list[str]:
    """One line per kernel family (proved / total, unknown ones by name), then the clamps per format."""
    table = translation_table() if table is None else table
    lines = []
    for family in FAMILIES:
        rows = [c for c in table if c.family == family]
        unknown = [c.name for c in rows if not c.verdict.proved]
        clamped = sum(bool(c.clamps) for c in rows)
        lines.append(f"{family:<11} {len(rows) - len(unknown):>3}/{len(rows)} proved equal to the derivation"
                     f" ({clamped} on the domain of their clamps)" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    clamped = [c for c in table if c.clamps]
    for fmt, *_ in FORMATS:
        bad = [f"{c.family} {c.name}" for c in clamped if not c.clamps[fmt].proved]
        lines.append(f"clamps in {fmt}: {len(clamped) - len(bad)}/{len(clamped)} kernels round as unclamped"
                     + (f"; not: {', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''}" if bad else ""))
    return lines
