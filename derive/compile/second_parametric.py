"""Second-order kernels taking the parameters (elu's alpha, huber's delta, ...) as keywords, as the first-order
``__p`` kernels do: what ``derive.compile.second_order`` prints for the defaults, printed with the symbols kept.

    hdiagonal__elu__quadratic__p(z, y, shape, dtype, alpha=1.0, empty=np.empty, out=None)   H_jj at any alpha
    PARAMETRIC_SECOND[(activation, loss)] = that function (elementwise pairings: H is diagonal)

The stabilising rules are the same phases (``second_order.PHASES``, the parameters' own rules of
``derive.compile.parametric`` first); only the substitution of the defaults is left out. Softmax pairings
with parameters (softmax + huber) and pairings in ``second_order``'s MISSING get none: a kernel asked for
them at other values refuses. ``hessian_sources()`` is appended to ``_generated_second.py``.

>>> "def hdiagonal__elu__quadratic__p(z, y, shape, dtype, alpha=1.0, " in hessian_sources([("elu", "quadratic")])
True
"""

from __future__ import annotations

import sys
from functools import cache

import numpy as np
import sympy as sp

from derive.compile import rewrite, second_order
from derive.compile.expressions import param_keywords, params_of
from derive.compile.printer_numpy import function_source
from derive.symbolic.catalogue import ACTIVATIONS, LOSSES, on_change, valid_pairings

__all__ = ["pairings", "missing_reason", "diagonal", "hessian_sources"]


def pairings() -> list[tuple[str, str]]:
    """The pairings with parameters that get parametric Hessian kernels (elementwise, not MISSING at the
    defaults nor at other values)."""
    return [(act, lo) for act, lo in valid_pairings() if params_of(act, lo) and ACTIVATIONS[act].elementwise
            and second_order.missing_reason(act, lo) is None and missing_reason(act, lo) is None]


@cache
def missing_reason(activation: str, loss: str) -> str | None:
    """Why the parametric diagonal is not printed, or None: a denominator that rounds to 0 at saturated logits,
    or the printed function not finite on the probe (z = +-1000, +-40, 0; targets and parameter values
    across their sets: sigmoid + focal's (1 - a)^gamma / (1 - a) is 0/0 at z = 1000 unless gamma is a number)."""
    expr = diagonal(activation, loss)
    dens = second_order._vanishing_denominators(expr) or second_order._underflowing_denominators(expr)
    if dens:
        return (f"its Hessian's diagonal, parameters kept, divides by {sp.sstr(min(dens, key=sp.default_sort_key))}, "
                "which rounds to 0 at saturated logits")
    fn = _compiled(activation, loss)
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    for values in _probe_values(params_of(activation, loss)):
        for t in _probe_targets(LOSSES[loss].targets):
            with np.errstate(all="ignore"):
                got = fn(z, np.full_like(z, t), z.shape, z.dtype, **values)
            if not np.all(np.isfinite(got)):
                at = float(z[~np.isfinite(got)][0])
                return f"its parametric Hessian diagonal is not finite at z = {at:g}, y = {t:g}, {values}"
    return None


def _compiled(activation: str, loss: str):
    """The printed function, compiled from the source this module generates (never from a user's string:
    a user formula reached it through the whitelist parser), to probe it."""
    from derive.kernels import bits, rows, second_rows

    names = {"np": np, "bits": bits, "rows": rows, "second_rows": second_rows}
    exec(compile(hessian_sources([(activation, loss)]), f"<{activation} + {loss} parametric Hessian>", "exec"), names)
    return names["PARAMETRIC_SECOND"][(activation, loss)]


def _probe_values(params) -> list[dict]:
    """The defaults, and each parameter near its domain's ends (others at their defaults)."""
    base = {p.name: float(p.default) for p in params}
    out = [base]
    for p in params:
        lo, hi = float(p.domain.start), float(p.domain.end)
        near = [lo if not p.domain.left_open else (lo + 0.01 if hi - lo <= 1 else max(lo, 0) + 0.05),
                hi - 0.01 if np.isfinite(hi) else 20.0]
        out += [{**base, p.name: v} for v in near]
    return out


def _probe_targets(targets) -> list[float]:
    if isinstance(targets, sp.FiniteSet):
        return [float(t) for t in targets]
    lo, hi = float(targets.start), float(targets.end)
    return [v for v in (-3.0, lo, (lo + hi) / 2 if np.isfinite(lo + hi) else 0.5, hi, 3.0) if np.isfinite(v) and lo <= v <= hi]


@cache
def diagonal(activation: str, loss: str) -> sp.Expr:
    """H_jj of the pairing, stabilised, its parameters symbols: second_order's piece without the defaults."""
    parts = second_order.hessian_parts(activation, loss)
    in_z = second_order._in_logits(parts.diagonal, activation)
    with rewrite.targets_of(LOSSES[loss].targets):
        return rewrite.stabilize(sp.factor_terms(in_z), second_order.PHASES)


def hessian_sources(which=None) -> str:
    """The functions and the table PARAMETRIC_SECOND for ``which`` pairings (default: ``pairings()``)."""
    out, table = [], []
    for act, lo in pairings() if which is None else which:
        name = f"hdiagonal__{act}__{lo}__p".replace("-", "_")
        doc = (f"{act} + {lo}: Hessian diagonal = {sp.sstr(second_order.hessian_parts(act, lo).diagonal)}  (unit j; "
               f"a = f(z)); parameters: " + ", ".join(p.name for p in params_of(act, lo)))
        out.append(function_source(name, f"z, y, shape, dtype{param_keywords(act, lo)}", diagonal(act, lo),
                                   doc=doc, names=second_order.NAMES))
        table.append(f"    ({act!r}, {lo!r}): {name},\n")
    return "".join(out) + "PARAMETRIC_SECOND = {\n" + "".join(table) + "}\n"


on_change(diagonal.cache_clear)
on_change(missing_reason.cache_clear)


def main(argv=None) -> int:
    """Write ``_generated_second.py``: second_order's kernels at the defaults, then these diagonals with the
    parameters as keywords (``python -m derive.compile`` calls this after the first-order modules)."""
    second_order.TARGET.write_text(second_order.generate() + "\n\n" + hessian_sources())
    return print(f"wrote {second_order.TARGET}", file=sys.stderr) or 0


if __name__ == "__main__":
    raise SystemExit(main())
