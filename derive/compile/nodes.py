"""The nodes the rewrite rules produce and the printers know: operations kept whole until printed.

SymPy would regroup p - q or p / q, or has no name for a row-wise softmax; these
``Function`` classes hold such an operation as one node, so the printer emits it
as one call in the order written.

>>> from sympy import Symbol
>>> p, q = Symbol("p"), Symbol("q")
>>> Quotient(p, 1 + q).args
(p, q + 1)
"""

from __future__ import annotations

from sympy import Function, Symbol

__all__ = [
    "Clip", "Minus", "Quotient", "Over", "step", "copysign", "RowSum", "softmax", "softmax_residual", "softmax_vjp",
    "softmax_vjp_residual", "softmax_vjp_clipped_residual", "log_softmax", "log1m_softmax", "softmax_odds_vjp",
    "xlog_softmax", "xlog1m_softmax", "softmax_cce", "ROW_FUNCTIONS", "Bound", "BOUNDS", "LogProduct", "SignedExp", "log_ndtr",
]


def _node(name: str, nargs: int, doc: str) -> type:
    """A SymPy function class that never evaluates: it is printed as one call."""
    return type(name, (Function,), {"nargs": nargs, "__doc__": doc, "__module__": __name__})


# fmt: off
Clip = _node("Clip", 3, "clip(x, lo, hi) = min(max(x, lo), hi).")
Minus = _node("Minus", 2, "Minus(p, q) = p - q, kept apart so that no later step regroups it: (1 - y) - s, "
                          "not (1 - s) - y.")
Quotient = _node("Quotient", 2, "Quotient(p, q) = p / q, kept whole: x * Quotient(e, 1 + e) divides before it "
                                "multiplies (x e can overflow).")
Over = _node("Over", 2, "Over(p, k) = p / k for an integer k, as p * (1/k) in float32 and float64 (what XLA and "
                        "PyTorch compute too) and p / k in wider formats: a clamped line whose ends those hit exactly "
                        "(``derive.compile.patterns.clamp_of``).")
step = _node("step", 1, "step(x) = 1 where the sign bit of x is clear (x >= +0), else 0: consistent with copysign.")
copysign = _node("copysign", 2, "copysign(p, x) = |p| with the sign (bit) of x. The rules make it of magnitudes "
                                "p >= +0 only, and the kernels rely on that: they set x's sign bit into p's "
                                "(``derive.kernels.bits.copysign``).")
RowSum = _node("RowSum", 1, "sum over the last axis (the units), kept as a length-1 axis.")
softmax = _node("softmax", 1, "softmax(z)_i = e^{z_i - max z} / sum_k e^{z_k - max z} over the last axis.")
log_softmax = _node("log_softmax", 1, "log softmax(z)_i = z_i - logsumexp(z).")
log1m_softmax = _node("log1m_softmax", 1, "log(1 - softmax(z)_i) = logsumexp_{k != i} z_k - logsumexp(z).")
xlog_softmax = _node("xlog_softmax", 2, "xlog_softmax(w, z) = w log softmax(z), 0 where w = 0; finite wherever the "
                                        "product is (a row spanning the float range: log a_i below -max).")
xlog1m_softmax = _node("xlog1m_softmax", 2, "xlog1m_softmax(w, z) = w log(1 - softmax(z)), 0 where w = 0; finite "
                                            "wherever the product is.")
softmax_cce = _node("softmax_cce", 2, "softmax_cce(w, z) = -sum_k w_k log softmax(z)_k over the last axis, kept as a "
                                      "length-1 axis: sum(w) log(sum_k e^{d_k}) - sum_k w_k d_k, d = z - max z, both "
                                      "terms >= 0 for w >= 0; finite wherever the value is.")
softmax_residual = _node("softmax_residual", 2, "softmax_residual(z, y) = softmax(z) - y, with the top class's "
                                                "1 - a_t never rounded to 0.")
softmax_vjp = _node("softmax_vjp", 2, "softmax_vjp(z, g) = a (g - sum(a g)), a = softmax(z): the softmax Jacobian "
                                      "applied to g.")
softmax_vjp_residual = _node("softmax_vjp_residual", 2, "softmax_vjp_residual(z, y) = softmax_vjp(z, softmax(z) - y), "
                                                        "with a_j - a_t as expm1(z_j - z_t)/sum e.")
softmax_vjp_clipped_residual = _node("softmax_vjp_clipped_residual", 2,
                                     "softmax_vjp_clipped_residual(z, y) = softmax_vjp(z, clip(softmax(z) - y, -1, 1)), "
                                     "differences kept exact.")
softmax_odds_vjp = _node("softmax_odds_vjp", 2,
                         "softmax_odds_vjp(z, y)_j = p_j - a_j sum_i p_i, p_i = -y_i + (1 - y_i) a_i / (1 - a_i), "
                         "a = softmax(z): the softmax vector-Jacobian product of bce's a_i dC/da_i, evaluated in log "
                         "space (log a, log(1 - a)), so the top class's odds, e^{1000} at [1000, 0, -1000], never appear.")
LogProduct = _node("LogProduct", 3, "LogProduct(p, r, v) = p r, v the same value in log space (v = sign(p r) e^{log|p| + "
                              "log|r|}): printed as p r with v on the lanes where |p| < tiny and |r| > 1 only "
                              "(derive.kernels.bits.patch), where p underflows and p r need not.")
SignedExp = _node("SignedExp", 2, "SignedExp(s, l) = s e^l, kept whole: SymPy would write e^{l + log|r|} as |r| e^l, "
                                  "and e^l underflows where the product does not.")
log_ndtr = _node("log_ndtr", 1, "log_ndtr(x) = log Phi(x), finite where Phi(x) underflows (scipy.special.log_ndtr).")
# fmt: on


# functions of whole rows: a kernel calling one is evaluated on whole rows only (derive.kernels.blocks)
ROW_FUNCTIONS = (softmax, log_softmax, log1m_softmax, xlog_softmax, xlog1m_softmax, softmax_cce, softmax_odds_vjp, softmax_residual, softmax_vjp,
                 softmax_vjp_residual, softmax_vjp_clipped_residual, RowSum)


class Bound(Symbol):
    """A clamp or threshold whose value depends on the floating-point format: ``Bound("tanh_clamp")``.

    The NumPy kernels read it as ``bits.bound(name, dtype)`` (from ``np.finfo``: 374 in float64, 5702 in
    long double for tanh_clamp), ``proofs.translation`` checks each clamp with its value per format
    (``derive.kernels.bits.format_bounds``). Names: sigmoid_saturation, tanh_clamp, gauss_clip, gauss_log_clip,
    tiny (the least normal number)."""

    def __new__(cls, name):
        if name not in _BOUND_NAMES:
            raise ValueError(f"unknown bound {name!r}; the bounds are {', '.join(_BOUND_NAMES)}")
        return super().__new__(cls, name, positive=True)


_BOUND_NAMES = ("sigmoid_saturation", "tanh_clamp", "gauss_clip", "gauss_log_clip", "tiny")
BOUNDS = {name: Bound(name) for name in _BOUND_NAMES}
