"""The underflow slow path proved equal to the product it stands for, node by node, not by simplifying log|f'|.

    LogProduct(p, r, SignedExp(s, l)) means p r once s e^l == p r is proved (``derive.compile.underflow``)

The value s e^l is read with four exact lemmas, then split into cases on z and y:

1. e^{a + b} = e^a e^b and e^{log u} = u for u >= 0 (at u = +0 too: IEEE 754's log(+0) = -inf, e^{-inf} = +0);
   sign(u) |u| = u for every real u.
2. A log-space maximum is arbitrary: the sum rule writes log|sum_i s_i e^{l_i}| as M + log|sum_i s_i e^{l_i - M}|,
   which holds for every real M (M = max l_i only keeps the terms finite). So each Max holding a logarithm is
   first replaced by a free real symbol m: an identity proved for every m holds for the printed Max. Only the
   maxima inside an exponential are the sum rule's (softplus's own Max(0, x), never inside one, is not arbitrary).
3. A logarithm left outside an exponential (log|z| inside softsign's log1p(e^{-|log|z||})) whose argument may
   be 0 is IEEE's: Piecewise((log u, u > 0), (-oo, True)); at that point the expression is evaluated in the
   extended reals (max(0, -oo) = 0, e^{-oo} = 0) and refused (not proved) if oo, nan or zoo is left.
4. The remaining equality is ``proofs.case_split.zero_by_cases`` in z and y.
"""

from __future__ import annotations

import sympy as sp

from derive.symbolic.functions import expand_named
from proofs.case_split import zero_by_cases

__all__ = ["log_space_equal"]

_GAVE_UP = (TypeError, ValueError, NotImplementedError, RecursionError)


def _ieee_log(e):
    """log x as IEEE 754 evaluates it for x >= 0 (log(+0) = -inf); an x not known nonnegative is left alone
    (a negative x is IEEE's nan, never a number here: the equality then fails, not proved)."""
    x = e.args[0]
    if x.is_positive or not x.is_nonnegative:
        return e
    return sp.Piecewise((e, x > 0), (sp.S.NegativeInfinity, True))


def _signs_times_abs(e):
    """sign(u) |u| -> u, each pair in turn (one can hold another: sign(z)|z| inside the sum's T)."""
    while pairs := [g for g in e.atoms(sp.sign) if sp.Abs(g.args[0]) in e.atoms(sp.Abs)]:
        new = e.subs(pairs[0] * sp.Abs(pairs[0].args[0]), pairs[0].args[0])
        if new == e:
            break
        e = new
    return e


def _exponentials_read(e):
    """Lemma 1: exp of a sum as a product, exp(log u) -> u, sign(u)|u| -> u; lemma 3 on the logs left."""
    e = sp.expand(sp.powsimp(sp.expand(e, power_exp=True, mul=False, log=False), combine="exp"), power_exp=True)
    # e^{log u} = u only for u >= 0 (|f'|, |r|): for u < 0, log u is nan in IEEE arithmetic
    e = e.replace(lambda x: isinstance(x, sp.exp) and isinstance(x.args[0], sp.log) and x.args[0].args[0].is_nonnegative,
                  lambda x: x.args[0].args[0])
    return _signs_times_abs(e).replace(lambda x: isinstance(x, sp.log), _ieee_log)


def log_space_equal(p, r, v, meaning, variables) -> bool:
    """s e^l == p r proved, v = SignedExp(s, l) (``meaning`` reads the printer's nodes, clamps removed);
    False where it is not or SymPy gives up. The maxima abstracted (lemma 2) are those inside an exponential:
    the sum rule's e^{l_i - M}; softplus's Max(0, x) is never inside one."""
    s, lg = (meaning(e) for e in v.args)
    exponents = [e.args[0] for e in (s * lg).atoms(sp.exp)]  # inside s and l, not e^l itself
    value = (s * sp.exp(lg)).xreplace({m: sp.Dummy("m", real=True) for m in (s * lg).atoms(sp.Max)
                                       if m.has(sp.log) and any(x.has(m) for x in exponents)})
    product = meaning(p * r)
    try:
        return zero_by_cases(expand_named(_exponentials_read(value) - product), variables)
    except _GAVE_UP:
        return False
