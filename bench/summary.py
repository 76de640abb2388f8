"""The benchmark's verdict against issue 15's floors, from the rows of one run.

    Summary().add(Result(...)) ...; print(summary.report())

Floors: every row at or below PyTorch (derive/torch <= 1); every memory-bound kernel (no transcendental
function in the code that runs: ``memory_bound``) within 2x the memory floor at the large size; the peak
extra memory of a call at most the per-thread blocks. Lists what misses, worst first.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from derive.kernels import _generated as gen
from derive.kernels.blocks import BLOCK, ROW_BLOCK

# Calls that cost more than a memory pass: transcendental ufuncs, the normal CDF, the softmax rows (exp).
_TRANSCENDENTAL = re.compile(r"np\.(exp|expm1|exp2|log|log1p|log2|tanh|sinh|cosh|power|erf)\b|bits\.(log_)?ndtr"
                             r"|rows\.(?!row_sum\b|row_dot\b)")  # rows.row_sum/row_dot: the dots of a loss's row sum


def memory_bound(act: str, loss: str, what: str) -> bool:
    """True when the generated kernel of ``what`` calls no transcendental function (read off its source)."""
    fns = gen.PAIRS.get((act, loss))
    if fns is None:  # class-index targets: softmax rows
        return False
    return not _TRANSCENDENTAL.search(inspect.getsource(fns[what == "delta"]))


@dataclass
class Result:
    name: str  # e.g. "sigmoid+bce delta"
    dtype: str
    size: str
    derive: float  # median seconds
    torch: float
    floor: float
    extra_mb: float
    memory_bound: bool


@dataclass
class Summary:
    threads: int
    results: list = field(default_factory=list)

    def add(self, r: Result):
        self.results.append(r)

    def report(self) -> str:
        lines = ["", "Against issue 15's floors (this run):"]
        groups = {}
        for r in self.results:
            groups.setdefault((r.size, r.dtype), []).append(r)
        for (size, dtype), rs in groups.items():
            miss = sorted((r for r in rs if r.derive > r.torch), key=lambda r: -r.derive / r.torch)
            lines.append(f"  at or below PyTorch, {size} {dtype}: {len(rs) - len(miss)}/{len(rs)}"
                         + (f"; misses: {_list(miss, lambda r: r.derive / r.torch)}" if miss else ""))
        mem = [r for r in self.results if r.memory_bound and r.size == "large"]
        if mem:
            miss = sorted((r for r in mem if r.derive > 2 * r.floor), key=lambda r: -r.derive / r.floor)
            lines.append(f"  memory-bound kernels within 2x the floor, large: {len(mem) - len(miss)}/{len(mem)}"
                         + (f"; misses (x floor): {_list(miss, lambda r: r.derive / r.floor)}" if miss else ""))
        worst = max(self.results, key=lambda r: r.extra_mb, default=None)
        if worst is not None:
            lines.append(f"  peak extra memory per call: at most {worst.extra_mb:.1f} MB ({worst.name} {worst.dtype}"
                         f" {worst.size}), beyond the output and the per-thread block buffers ({BLOCK >> 20} MB per operand,"
                         f" {ROW_BLOCK >> 20} MB for rows, {self.threads} threads), which are made once and kept")
        return "\n".join(lines)


def _list(rs, ratio, most=12):
    shown = ", ".join(f"{r.name} {r.dtype} {ratio(r):.2f}" for r in rs[:most])
    return shown + (f" (+{len(rs) - most} more)" if len(rs) > most else "")
