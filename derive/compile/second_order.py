"""Second-order kernels: each pairing's Hessian d^2 C / dz_j dz_k, printed as the first-order kernels are.

    H = diag(d) + sum_r u_r w_r^T            (elementwise f: diag(h), no terms)
    H = J diag(l2) J + diag(delta) (I - 1 a^T) - a delta^T   (softmax where l2 = d^2C/da_j^2 is stable)
    hessian_diag_j = H_jj                     (its own expression: d_j + sum_r u_rj w_rj cancels)
    sqrt_hessian S = diag(sqrt d) + u (w / sqrt d)^T, S S^T = H   (canonical pairings: H is the GGN);
                 its diagonal S_jj is its own expression too

The terms come from ``Derivation.hessian`` (``derive.symbolic.curvature``): each term of the
entry H_jk is KroneckerDelta(j, k) times a function of unit j (into d), or a product of a
function of unit j (u) and one of unit k (w); sums over the units are row constants. Every
piece is written in the logits (``derive.compile.expressions``), made stable by the rules of
``derive.compile.rewrite`` plus ``one_minus_softmax`` below, and printed by
``printer_numpy.function_source``. DiracDelta terms (the jumps of sign(a - y), relu') are
dropped: the kernels give the Hessian almost everywhere, as autograd's double backward does.
Parameters (huber's delta, elu's alpha) take their defaults: the kernels of ``get(act, loss)``
with no parameters given. A pairing whose stabilised pieces still divide by a row quantity that rounds to 0 (softmax +
bce: 1/(1 - a_t)^2 at a saturated row) gets no kernels, and its reason is in ``MISSING``.

>>> parts = hessian_parts("softmax", "cce")
>>> parts.diagonal, parts.d, parts.terms
((1 - a[j])*a[j], a[j], ((-a[j], a[j]),))
>>> hessian_exprs("sigmoid", "bce")["diagonal"]
Quotient(exp(Min(40, -Abs(z))), exp(Min(40, -Abs(z))) + 1)*(1 - Quotient(exp(Min(40, -Abs(z))), exp(Min(40, -Abs(z))) + 1))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sympy as sp
from sympy import KroneckerDelta

from derive.compile import expressions, rewrite
from derive.compile.expressions import Y, Z, _in_logits
from derive.compile.nodes import Quotient, softmax
from derive.compile.printer_numpy import NUMPY_NAMES, function_source
from derive.compile.rule import PHASE_ORDER, Rule
from derive.symbolic.functions import sigmoid
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, on_change, valid_pairings
from derive.symbolic.pairing import derive_pair
from derive.symbolic.symbols import a, collapse_deltas, i, j, k, n, z

__all__ = ["TARGET", "softmax_complement", "HessianParts", "hessian_parts", "hessian_exprs", "missing_reason", "defaults",
           "generate", "main"]

TARGET = Path(__file__).parent.parent / "kernels" / "_generated_second.py"

softmax_complement = type("softmax_complement", (sp.Function,), {
    "nargs": 1, "__module__": __name__,
    "__doc__": "softmax_complement(z) = 1 - softmax(z), with 1 - a_t = sum_{k != t} a_k at the top class."})



def _one_minus_softmax(e):
    """In a sum, the pair k - k softmax(x), k = +-1: (k, the term -k softmax(x)), else None."""
    for one in (sp.S.One, sp.S.NegativeOne):
        if e.is_Add and one in e.args:
            term = next((t for t in e.args if isinstance(-one * t, softmax)), None)
            if term is not None:
                return one, term
    return None


def _complemented(e):
    one, term = _one_minus_softmax(e)
    return sp.Add(*[t for t in e.args if t not in (one, term)]) + one * softmax_complement((-one * term).args[0])


# 1 - softmax(x) -> softmax_complement(x)   (1 - softmax([40, 0])_0 is 0 in float64; the value is 4.2e-18)
one_minus_softmax = Rule("stability", lambda e: _one_minus_softmax(e) is not None, _complemented)
def _sinh_cosh(e):
    """In a product, sinh(x)**p and cosh(x)**-p: (those two factors, x, p), else None."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if f.is_Pow and isinstance(f.base, sp.sinh) and (g := sp.cosh(f.base.args[0]) ** -f.exp) in e.args:
            return (f, g), f.base.args[0], f.exp
    return None


def _tanh_of(e):
    (f, g), x, p = _sinh_cosh(e)
    return sp.Mul(*[h for h in e.args if h not in (f, g)]) * sp.tanh(x) ** p


# sinh(x)**p / cosh(x)**p -> tanh(x)**p   (sinh(1e4) and cosh(1e4) overflow: inf/inf is nan; tanh(1e4)**2 is 1)
tanh_power = Rule("naive forms", lambda e: _sinh_cosh(e) is not None, _tanh_of)


def _sigmoid_difference(e):
    """In a sum, c sigmoid(x) - c sigmoid(-x) or k - 2k sigmoid(-x) (k = +-1): (the terms, c, x), else None."""
    if not e.is_Add:
        return None
    for t in e.args:
        for f in sp.Mul.make_args(t):
            if isinstance(f, sigmoid):
                c, x = t / f, f.args[0]
                if (other := -c * sigmoid(-x)) in e.args:
                    return (t, other), c, x
                if c in (2, -2) and -c / 2 in e.args:  # k - 2k sigmoid(x) = k (sigmoid(-x) - sigmoid(x))
                    return (t, -c / 2), -c / 2, -x
    return None


def _as_tanh(e):
    terms, c, x = _sigmoid_difference(e)
    return sp.Add(*[t for t in e.args if t not in terms]) + c * sp.tanh(x / 2)


# c sigmoid(x) - c sigmoid(-x) -> c tanh(x/2); 1 - 2 sigmoid(x) -> tanh(-x/2)   (sigma'' = a (1 - a)(1 - 2a): at
#   x = 1e-8, 1 - 2 sigma(x) keeps 8 of 16 digits; -tanh(x/2) = -5e-9 keeps them all)
sigmoid_difference = Rule("stability", lambda e: _sigmoid_difference(e) is not None, _as_tanh)


# after the phases the first-order kernels use (``expressions``: the parameters' rules first, where it has them)
_OWN = (tanh_power, one_minus_softmax, sigmoid_difference)
# less the log-space product of ``derive.compile.underflow``: on these pieces it overflows (silu + quadratic's
# l' f'' at z = -1000 gave nan); every piece is tested against the 50-digit oracle without it
_SKIP = {getattr(rewrite, "underflow_product", None)} - {None}
PHASES = tuple(tuple(r for r in base if r not in _SKIP) + tuple(r for r in _OWN if r.phase == name)
               for base, name in zip(getattr(expressions, "_PHASES", rewrite.PHASES), PHASE_ORDER))
NAMES = {**NUMPY_NAMES, softmax_complement: "second_rows.softmax_complement"}


@dataclass(frozen=True)
class HessianParts:
    """H_jk = KroneckerDelta(j, k) d_j + sum_r u_rj w_rk, in the derivation's notation (unit j);
    ``diagonal`` is H_jj; ``sqrt``: (S_jj, ((u, w / sqrt d),)) for a canonical pairing, else None, where
    S = diag(sqrt d) + u (w / sqrt d)^T, S S^T = H."""

    diagonal: sp.Expr
    d: sp.Expr
    terms: tuple[tuple[sp.Expr, sp.Expr], ...]
    sqrt: tuple | None
    g: sp.Expr | None = None  # softmax: dC/da_j and d^2 C / da_j^2 (the loss is a sum over units)
    l2: sp.Expr | None = None


def _almost_everywhere(expr):
    """DiracDelta -> 0: the Hessian off the kinks of sign(a - y), relu', |r| = delta."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def _split(term):
    """A term free of KroneckerDelta as (factor of unit j and row constants, factor of unit k)."""
    of_k = [f for f in sp.Mul.make_args(term) if not f.has(sp.Sum) and k in {e.indices[0] for e in f.atoms(sp.Indexed)}]
    return sp.Mul(*[f for f in sp.Mul.make_args(term) if f not in of_k]), sp.Mul(*of_k)


@cache
def hessian_parts(activation: str, loss: str) -> HessianParts:
    """The Hessian of ``activation`` + ``loss`` as diagonal plus rank-one terms (see the module)."""
    d = derive_pair(activation, loss)
    h = d.hessian
    g = _almost_everywhere(collapse_deltas(sp.diff(d.cost, a[j]), j))  # dC/da_j: the loss is a sum over units
    l2 = _almost_everywhere(sp.diff(g, a[j]))
    if h.diagonal is not None:
        # l'' f'^2 + l' f'' (f'' through the output: sigmoid'' = a (1 - a)(1 - 2a)): each loss derivative whole,
        # so its own rule applies (1 - tanh(r)^2 of log_cosh); Derivation.hessian's h, regrouped
        act, sym = ACTIVATIONS[activation], getattr(ACTIVATIONS[activation], "symbols", {})
        prime = act.prime(a[j], z[j], **sym)
        fpp = sp.diff(prime, a[j]) * prime + sp.diff(prime, z[j])
        derived = sp.factor_terms(_almost_everywhere(h.diagonal))
        diag = sp.factor_terms(l2 * prime**2) + sp.factor_terms(_almost_everywhere(g * fpp))
        if any(p.exp.is_negative and p.base.has(a[j]) and p.base.is_polynomial(a[j]) for p in l2.atoms(sp.Pow)):
            diag = derived  # l'' = y/a^2 + ...: the derivation's cancelled form (bce: a (1 - a)) divides by nothing
        return HessianParts(diag, diag, (), (sp.sqrt(derived), ()) if d.canonical else None)
    one = {sp.Sum(a[i], (i, 1, n)): sp.S.One}  # softmax outputs sum to 1: sum a - 1 would round to +-eps
    entry = sp.expand(_almost_everywhere(h.entry).xreplace(one))
    dj, by_w = sp.S.Zero, {}
    for term in sp.Add.make_args(entry):
        if term.has(KroneckerDelta):
            dj += term.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: sp.S.One).xreplace({k: j})
        else:
            u, w = _split(term)
            by_w[w] = by_w.get(w, 0) + u
    terms = tuple((sp.factor_terms(u), w.xreplace({k: j})) for w, u in by_w.items())
    dj = sp.factor_terms(dj)
    diagonal = sp.factor_terms(_almost_everywhere(h.entry.xreplace({k: j}).doit()).xreplace(one))
    sqrt = None
    if d.canonical and len(terms) == 1:  # diag(a) - a a^T = S S^T, S = diag(sqrt a) - a sqrt(a)^T (sum a = 1)
        (u, w), = terms
        root = sp.factor_terms(w / sp.sqrt(dj))
        sqrt = (sp.factor(sp.sqrt(dj) + u * root), ((u, root),))
    return HessianParts(diagonal, dj, terms, sqrt, g, l2)


def defaults(activation: str, loss: str) -> dict:
    """{parameter symbol: default value} of the pairing: the second-order kernels are those of the defaults."""
    entries = (ACTIVATIONS[activation], LOSSES[loss])
    return {p.symbol: p.default for entry in entries for p in getattr(entry, "params", ())}


def _stable(expr, activation, loss):
    with rewrite.targets_of(LOSSES[loss].targets):  # rules exact only for small targets (hinge's margin) read it
        return rewrite.stabilize(sp.factor_terms(_in_logits(expr, activation).xreplace(defaults(activation, loss))), PHASES)


@cache
def hessian_exprs(activation: str, loss: str) -> dict:
    """{piece name: stabilised expression in Z, Y, N}. Softmax, where d^2C/da_j^2 is free of denominators
    that vanish at a saturated row: {"l2"} (``derive.kernels.second`` evaluates H = J diag(l2) J +
    diag(delta) (I - 1 a^T) - a delta^T from it and the first-order delta, J = diag(a) - a a^T).
    Otherwise the low-rank pieces: diagonal, d, u0, w0, ..., and sqrt_diagonal, sqrt_u0, sqrt_w0 where canonical."""
    p = hessian_parts(activation, loss)
    if not ACTIVATIONS[activation].elementwise:
        l2 = _stable(p.l2, activation, loss)
        if not _vanishing_denominators(l2):
            return {"l2": l2}
    out = {"diagonal": _stable(p.diagonal, activation, loss)}
    if p.terms:
        out["d"] = _stable(p.d, activation, loss)
    for r, (u, w) in enumerate(p.terms):
        out[f"u{r}"], out[f"w{r}"] = _stable(u, activation, loss), _stable(w, activation, loss)
    if p.sqrt is not None:
        out["sqrt_diagonal"] = _stable(p.sqrt[0], activation, loss)
        for r, (u, w) in enumerate(p.sqrt[1]):
            out[f"sqrt_u{r}"], out[f"sqrt_w{r}"] = _stable(u, activation, loss), _stable(w, activation, loss)
    return out


def _at_saturation(expr, value):
    """expr with every softmax output set to ``value`` (0 or 1), its complement to 1 - value; None where that
    divides by 0 on the way."""
    try:
        out = sp.simplify(expr.xreplace({f: sp.Integer(value) for f in expr.atoms(softmax)}).replace(
            lambda e: isinstance(e, softmax_complement), lambda e: sp.Integer(1 - value)))
    except (ValueError, TypeError, ZeroDivisionError):  # Min/Max of zoo
        return None
    return None if out.has(sp.zoo, sp.nan, sp.oo, -sp.oo) else out


def _vanishing_denominators(expr):
    """Denominators that round to 0 at a saturated row: 0 once every softmax output is 1 or 0 (its complement
    0 or 1): 1/(1 - a_t)^2 at z = [1000, 0, -1000]."""
    dens = [e.base for e in expr.atoms(sp.Pow) if e.exp.is_negative] + [q.args[1] for q in expr.atoms(Quotient)]
    return [den for den in dens if den.has(softmax, softmax_complement)
            and any(_at_saturation(den, value) in (None, 0) for value in (0, 1))]


_TINY64 = sp.Float(2.2250738585072014e-308)  # the least normal float64


def _underflowing_denominators(expr):
    """Denominators in z that are below every normal float64 at z = -1000 or 1000 (y = 0; a dtype bound at 40):
    softplus(z)^2 at z = -1000 is e^-2000."""
    dens = [e.base for e in expr.atoms(sp.Pow) if e.exp.is_negative] + [q.args[1] for q in expr.atoms(Quotient)]
    out = []
    for den in (d for d in dens if d.has(Z)):
        for at in (-1000, 1000):
            point = {Z: at, Y: 0, **{s: 40 for s in den.free_symbols - {Z, Y, expressions.N}}}
            try:
                value = sp.N(den.xreplace(point), 30)
            except (ValueError, TypeError):  # a printer node (copysign, step) has no value here: not probed
                break
            if value.is_number and value.is_finite and abs(value) < _TINY64:
                out.append(den)
                break
    return out


def missing_reason(activation: str, loss: str) -> str | None:
    """Why ``activation`` + ``loss`` gets no second-order kernels, or None when it gets them."""
    for name, expr in hessian_exprs(activation, loss).items():
        dens = _vanishing_denominators(expr) or _underflowing_denominators(expr)
        if dens:
            first = min(dens, key=sp.default_sort_key)  # not the set's order, which varies between runs
            return (f"its Hessian's {name} divides by {sp.sstr(first)}, which rounds to 0 at saturated logits "
                    "(z = -1000, or [1000, 0, -1000]) while the Hessian is finite there; no stable form is derived yet")
    return None


HEADER = '''"""Second-order kernels and their table, GENERATED by ``python -m derive.compile`` from
``Derivation.hessian`` (``derive.compile.second_order``): do not edit.

SECOND[(activation, loss)] is ('lowrank', diagonal, d, ((u, w), ...), sqrt): H = diag(d) + sum_r u_r w_r^T
per sample, ``diagonal`` H_jj, ``sqrt`` (canonical pairings) (sqrt_diagonal, ((sqrt_u, sqrt_w),)): S_jj, and
S_jk = sqrt_u_j sqrt_w_k off the diagonal, S S^T = H; or ('vjp', l2): softmax with d^2C/da_j^2 = l2. The front is ``derive.kernels.second``. Signatures as in ``_generated``. No SymPy here.
"""

import numpy as np

from derive.kernels import bits, rows, second_rows


'''


def _ident(text: str) -> str:
    return text.replace("-", "_")


def _doc(activation, loss, piece, parts):
    """The piece's formula in the derivation's notation."""
    value = {"diagonal": parts.diagonal, "d": parts.d, "g": parts.g, "l2": parts.l2}.get(piece)
    if value is None and piece.startswith("sqrt"):
        value = parts.sqrt[0] if piece == "sqrt_diagonal" else parts.sqrt[1][int(piece[-1])][piece[-2] == "w"]
    elif value is None:
        value = parts.terms[int(piece[1:])][piece[0] == "w"]
    return f"{activation} + {loss}: Hessian piece {piece} = {sp.sstr(value)}  (unit j; a = f(z))"


@cache
def generate() -> str:
    """The source of ``derive/kernels/_generated_second.py`` for the catalogue as it is now."""
    parts, table, missing = [], [], {}
    for act, lo in valid_pairings():
        reason = missing_reason(act, lo)
        if reason is not None:
            missing[(act, lo)] = reason
            continue
        tag, exprs, hp = f"{_ident(act)}__{_ident(lo)}", hessian_exprs(act, lo), hessian_parts(act, lo)
        for piece, expr in exprs.items():
            parts.append(function_source(f"h{piece}__{tag}", "z, y, shape, dtype", expr,
                                         doc=_doc(act, lo, piece, hp), names=NAMES))
        f = lambda piece: f"h{piece}__{tag}"  # noqa: E731
        if "l2" in exprs:
            table.append(f"    ({act!r}, {lo!r}): ('vjp', {f('l2')}),\n")
            continue
        terms = "".join(f"({f(f'u{r}')}, {f(f'w{r}')}), " for r in range(len(hp.terms)))
        sqrt = "None" if hp.sqrt is None else (
            f"({f('sqrt_diagonal')}, (" + "".join(f"({f(f'sqrt_u{r}')}, {f(f'sqrt_w{r}')}), "
                                          for r in range(len(hp.sqrt[1]))) + "))")
        table.append(f"    ({act!r}, {lo!r}): ('lowrank', {f('diagonal')}, {f('d') if hp.terms else f('diagonal')}, "
                     f"({terms}), {sqrt}),\n")
    body = "".join(parts) + "SECOND = {\n" + "".join(table) + "}\n\nMISSING = {\n"
    body += "".join(f"    {key!r}: {reason!r},\n" for key, reason in missing.items()) + "}\n\n"
    # the parameter values the kernels were printed for (a Kernel with other values refuses them)
    body += "PARAMETERS = {\n" + "".join(
        f"    {key!r}: {{{', '.join(f'{str(s)!r}: {float(v)!r}' for s, v in defaults(*key).items())}}},\n"
        for key in valid_pairings() if defaults(*key) and key not in missing) + "}\n"
    return HEADER + body


on_change(generate.cache_clear)
for _cached in (hessian_parts, hessian_exprs):
    on_change(_cached.cache_clear)
