r"""Figures of the report: each elementwise activation f and its derivative f', as vector PDF.

    shaded: saturation, the tails where |f'(z)| < SATURATION;   dashed: sup f' where SymPy finds it exactly

The curves are evaluated with the generated kernels (``derive.kernels``) when
they exist, else with ``lambdify`` of the catalogue's SymPy expressions. The
bound is the maximum over the activation's range of f' written through its
output (sigmoid: max a(1 - a) = 1/4, tanh: max 1 - a^2 = 1); ``proofs``
certifies it. Matplotlib's object API is used (no pyplot state) and the PDF
carries no creation date, so the same input gives the same bytes.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import numpy as np
import sympy as sp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from derive.symbolic.catalogue import ACTIVATIONS, Activation
from derive.symbolic.functions import expand_named
from derive.symbolic.symbols import as_, zs

__all__ = ["SATURATION", "Z_RANGE", "derivative_bound", "saturated_tails", "evaluate", "activation_figure", "write_figures"]

SATURATION = 0.05  # |f'| below this: the gradient through the unit has (nearly) vanished
Z_RANGE = (-6.0, 6.0)
PDF_METADATA = {"CreationDate": None, "ModDate": None}


def elementwise() -> list[Activation]:
    """The catalogue's elementwise activations, in catalogue order."""
    return [act for act in ACTIVATIONS.values() if act.elementwise]


def derivative_bound(act: Activation) -> sp.Expr | None:
    """max over the range of f'(a) when f' is a function of the output a alone and smooth, else None."""
    prime = act.prime(as_, zs)
    if prime.free_symbols != {as_} or prime.has(sp.Piecewise):
        return None
    return sp.maximum(prime, as_, act.range)


def _lambdified(act: Activation):
    f = expand_named(act.f(zs))
    prime = expand_named(act.prime(act.f(zs), zs))
    modules = ["scipy", "numpy"]
    return sp.lambdify(zs, f, modules), sp.lambdify(zs, prime, modules)


def evaluate(act: Activation, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """(f(grid), f'(grid), source): from ``derive.kernels`` if it is there, else lambdify."""
    try:
        kernels = import_module("derive.kernels")
    except ModuleNotFoundError as err:
        if err.name != "derive.kernels":
            raise
        f, prime = _lambdified(act)
        source = "lambdify"
    else:
        kernel = kernels.activation(act.name)
        f, prime = kernel, kernel.derivative
        source = "derive.kernels"
    values = np.broadcast_to(np.asarray(f(grid), dtype=float), grid.shape)
    slopes = np.broadcast_to(np.asarray(prime(grid), dtype=float), grid.shape)
    return values, slopes, source


def saturated_tails(slopes: np.ndarray) -> np.ndarray:
    """Mask of the runs with |f'| < SATURATION that reach either end of the grid.

    Saturation is the tail where the gradient has died; a stationary point
    inside the grid (silu's minimum) is not one.
    """
    small = np.abs(slopes) < SATURATION
    tails = np.zeros_like(small)
    left = np.argmin(small) if not small.all() else small.size  # first index where |f'| is not small
    right = np.argmin(small[::-1]) if not small.all() else small.size
    tails[:left] = True
    tails[small.size - right :] = True
    return tails


def activation_figure(act: Activation, path: Path, points: int = 1201) -> str:
    """Draw f, f', the bound on f' and the saturated region of ``act`` to ``path``; return the source used."""
    grid = np.linspace(*Z_RANGE, points)
    values, slopes, source = evaluate(act, grid)
    fig = Figure(figsize=(3.2, 2.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    saturated = saturated_tails(slopes)
    if saturated.any():
        ax.fill_between(
            grid, 0, 1, where=saturated, transform=ax.get_xaxis_transform(),
            color="0.85", linewidth=0, label=f"saturated: $|f'| < {SATURATION}$",
        )
    ax.plot(grid, values, color="C0", linewidth=1.4, label="$f(z)$")
    ax.plot(grid, slopes, color="C3", linewidth=1.4, label="$f'(z)$")
    bound = derivative_bound(act)
    if bound is not None:
        ax.axhline(float(bound), color="C3", linestyle="--", linewidth=0.9, label=f"$f' \\leq {sp.latex(bound)}$")
    ax.axhline(0, color="0.4", linewidth=0.5)
    ax.set_xlim(*Z_RANGE)
    ax.set_ylim(-1.5, 3.0)
    ax.set_xlabel("$z$")
    ax.set_title(act.name, fontsize=10)
    # A framed legend: the saturation swatch must not vanish into a shaded tail.
    ax.legend(fontsize=6.5, loc="upper left", frameon=True, framealpha=1.0, edgecolor="0.8")
    fig.tight_layout(pad=0.3)
    fig.savefig(path, format="pdf", metadata=PDF_METADATA)
    return source


def write_figures(directory: Path) -> dict[str, Path]:
    """One PDF per elementwise activation under ``directory``: {name: path}."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for act in elementwise():
        path = directory / f"{act.name}.pdf"
        activation_figure(act, path)
        paths[act.name] = path
    return paths
