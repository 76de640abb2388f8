"""Clamps in generated kernels: each rounds, per floating-point format, as the unclamped expression does.

A clamp (a Min, Max or Clip with a nonzero bound, a number or a per-format ``nodes.Bound``, on an
argument free of the target: ``exp(min(z, sigmoid_saturation))``) is an evaluation device, not
mathematics. ``clamp_verdicts`` shows, per format of ``FORMATS`` and with each bound at its value
there (``derive.kernels.bits.format_bounds``, the numbers the kernels read), that each clamped
exponential rounds to the same number with and without the clamp: beyond the bound exp(u)
underflows below half the smallest subnormal, or sigma = e/(1 + e) lies within half an ulp of 1.
``proofs.translation`` proves the equality with the clamps removed.
"""

from __future__ import annotations

import sympy as sp
from mpmath import iv

from derive.compile import nodes
from derive.compile.expressions import Y
from derive.kernels.bits import format_bounds
from proofs.certificate import Verdict, all_proved
from proofs.given import by_fact

__all__ = ["FORMATS", "bounds_in", "is_clamp", "unclamped", "clamps", "all_clamps", "clamp_verdicts"]

# (name, bits of precision p, least exponent of a normal number): round to nearest, ties to even.
FORMATS = (("float32", 24, -126), ("float64", 53, -1022), ("longdouble (x87, 80 bit)", 64, -16382))


def bounds_in(fmt) -> dict:
    """{Bound: its exact value in ``fmt``}: the kernels' bounds (``bits.format_bounds``) and tiny = 2^emin."""
    _, p, emin = fmt
    values = {name: sp.Integer(v) for name, v in format_bounds(p, emin).items()}
    values["tiny"] = sp.Rational(2) ** emin
    return {b: values[name] for name, b in nodes.BOUNDS.items()}


def _constant(x) -> bool:
    """A number, or an expression in the per-format bounds only."""
    return x.is_number or bool(x.free_symbols) and all(isinstance(s, nodes.Bound) for s in x.free_symbols)


def is_clamp(e) -> bool:
    """Min(c, u) / Max(-c, u) / Clip(u, -c, c): a nonzero constant bound, u free of the target."""
    if isinstance(e, (sp.Min, sp.Max)):
        nums = [x for x in e.args if _constant(x)]
        return len(e.args) == 2 and len(nums) == 1 and nums[0] != 0 and not e.has(Y)
    if isinstance(e, nodes.Clip):
        return _constant(e.args[1]) and not e.args[0].has(Y)
    return False


def unclamped(e):
    """The clamped argument."""
    return e.args[0] if isinstance(e, nodes.Clip) else next(x for x in e.args if not _constant(x))


def clamps(kernel) -> list:
    """The clamped exponentials of a kernel: each exp(...) holding a clamp."""
    return sorted({x for x in kernel.atoms(sp.exp) if x.has(*all_clamps(kernel))}, key=sp.default_sort_key)


def all_clamps(kernel):
    return [c for c in kernel.atoms(sp.Min, sp.Max, nodes.Clip) if is_clamp(c)]


def _active(c):
    """(value of the clamp, U past it as a function of t >= 0) for each side where the clamp acts."""
    t = sp.Dummy("t", nonnegative=True)
    if isinstance(c, nodes.Clip):
        return t, [(c.args[1], c.args[1] - t), (c.args[2], c.args[2] + t)]
    bound = next(x for x in c.args if x.is_number)
    return t, [(bound, bound + t if isinstance(c, sp.Min) else bound - t)]


def _clamp_verdict(kernel, e, fmt) -> Verdict:
    """exp(G(clamp)) rounds in ``fmt`` as exp(G(u)) does, for every u past the clamp."""
    name, p, emin = fmt
    held = [x for x in e.atoms(sp.Min, sp.Max, nodes.Clip) if is_clamp(x)]
    if len(held) != 1:
        return Verdict(f"{sp.sstr(e)} rounds as unclamped in {name}", "not proved", "more than one clamp in the exponent")
    (c,) = held
    claim = f"{sp.sstr(e)} rounds as {sp.sstr(e.xreplace({c: unclamped(c)}))} in {name}"
    U = sp.Dummy("U", real=True)
    G = e.args[0].xreplace({c: U})
    if G.free_symbols != {U}:
        return Verdict(claim, "not proved", "the exponent depends on more than the clamped value")
    t, sides = _active(c)
    half_subnormal = sp.Rational(1, 2) ** (1 - emin + p)  # below it, round to nearest gives 0
    half_ulp_below_one = sp.Rational(1, 2) ** (p + 1)  # 1 - x rounds to 1 when x is below it
    sigma = any(q.args[0] == e and sp.expand(q.args[1] - e - 1) == 0 for q in kernel.atoms(nodes.Quotient))
    for value, past in sides:
        g_c, growth = G.subs(U, value), sp.expand(G.subs(U, past) - G.subs(U, value))
        if (-growth).is_nonnegative:  # exp(G(u)) <= exp(G(bound)): both round to 0 below half the least subnormal
            left, threshold = _iv(sp.exp(g_c)), _iv(half_subnormal)
        elif growth.is_nonnegative and sigma:  # sigma = 1 - 1/(e^G + 1): both round to 1 within half an ulp
            left, threshold = _iv(1 / (sp.exp(g_c) + 1)), _iv(half_ulp_below_one)
        else:
            return Verdict(claim, "not proved", "the clamped exponent is not monotone past the bound, or grows "
                                                "outside a sigmoid quotient")
        if not left.b < threshold.a:  # refuted: the clamped value rounds apart from the limit the free one reaches
            status = "refuted" if left.a > threshold.b else "not proved"
            return Verdict(claim, status, f"at the bound, {'exp' if sigma else ''}({sp.sstr(g_c)}) is not below "
                                          f"{name}'s rounding threshold")
    bounds = Verdict(f"exp(G) past the clamp is beyond {name}'s rounding threshold", "proved",
                     "G monotone past the bound (exact), the value at the bound enclosed by interval arithmetic")
    return by_fact("rounding", claim, [bounds])


def clamp_verdicts(kernel) -> dict[str, Verdict]:
    """{format name: every clamped exponential of ``kernel`` rounds the same there} (FORMATS), each bound
    (``nodes.Bound``) at its value in that format; a clamp outside every exponential has no rounding
    argument here and is not proved."""
    return {fmt[0]: _verdict_in(kernel.xreplace(bounds_in(fmt)), fmt) for fmt in FORMATS}


def _verdict_in(kernel, fmt) -> Verdict:
    bare = all_clamps(kernel.xreplace({e: sp.Dummy() for e in clamps(kernel)}))  # left once exps are gone
    loose = [Verdict(f"the clamp {sp.sstr(c)} changes nothing", "not proved", "outside an exponential") for c in bare]
    return all_proved(f"the clamps of the kernel change nothing in {fmt[0]}",
                      [*loose, *(_clamp_verdict(kernel, e, fmt) for e in clamps(kernel))])


def _iv(x):
    """An interval holding the exact number x (mpmath.iv, outward rounding)."""
    if x.is_Rational:
        return iv.mpf(x.p) / x.q
    return sp.lambdify((), x, modules=[{"exp": iv.exp, "sqrt": iv.sqrt, "pi": iv.pi, "mpf": iv.mpf}, "mpmath"])()
