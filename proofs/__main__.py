"""``python -m proofs`` / ``derive prove``: check every theorem and seed claim, print the tables.

    exit 0 iff every theorem is proved and every claim's evidence matches its verdict
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

import sympy as sp

from derive.cli import reader_may_leave
from proofs.certificate import steps_of
from proofs.claims import CLAIMS, check_claim
from proofs.second_order import curvature_table
from proofs.given import FACTS
from proofs.report import latex_section
from proofs import theorems, translation, translation_second


def _table(rows, widths):
    lines = []
    for row in rows:
        cells = [textwrap.wrap(str(c), w) or [""] for c, w in zip(row, widths)]
        for k in range(max(map(len, cells))):
            lines.append("  ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def _evidence(verdict: str) -> str:
    """What was checked for a claim with this verdict (the 'checked' column)."""
    return "proved" if verdict == "true" else "refuted, correction proved"


def main(argv=None, prog=None) -> int:
    """Check everything; print (name, statement, status, seconds); non-zero exit on any failure."""
    prog = prog or ("python -m proofs" if Path(sys.argv[0]).parent.name == "proofs" else "derive prove")
    parser = argparse.ArgumentParser(prog=prog, description="check every theorem and seed claim")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every step's verdict")
    parser.add_argument("--latex", action="store_true", help="print the LaTeX report section instead")
    parser.add_argument("--curvature", action="store_true",
                        help="also decide convexity and the smoothness constant L of every valid pairing (slower)")
    parser.add_argument("--translation", action="store_true",
                        help="also prove every generated kernel equal to its derivation (first and second order: "
                             "about 15 + 18 min of CPU on one core; a 30 s CPU budget per kernel)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    start = time.perf_counter()
    if args.latex:
        print(latex_section())
        return 0

    results = theorems.run_all()
    rows = [("#", "name", "statement", "status", "seconds")]
    rows += [(r.theorem.number, r.theorem.name, r.theorem.summary, r.status, f"{r.seconds:.2f}") for r in results]
    print(_table(rows, (2, 16, 62, 10, 7)))
    failed = [r for r in results if not r.verdict.proved]
    for r in failed if not args.verbose else results:
        print(f"\n{r.theorem.number} {r.theorem.name}: {r.verdict.reason}")
        if args.verbose:
            for p in r.proofs:
                for v in steps_of(p.verdict):
                    print(f"    {v}")

    claim_rows = [("seed", "claim", "verdict", "checked")]
    bad = []
    for c in CLAIMS:
        res = check_claim(c.key)
        evidence = _evidence(c.verdict) if res.consistent else "INCONSISTENT"
        if not res.consistent:
            bad.append(res)
        claim_rows.append((c.seed, c.quote, c.verdict, evidence))
    print("\nseed claims; checked: the evidence matches the verdict (a true claim proved; a false or partly "
          "true one refuted by a 60-digit counterexample and its correction proved)")
    print(_table(claim_rows, (4, 62, 11, 20)))
    for res in bad:
        print(f"\n{res.claim.key}: proof: {res.proof}; refutation: {res.refutation}")

    if args.curvature:
        print("\ncurvature of every valid pairing (convex in z? L = sup of the Hessian's largest eigenvalue; step 2/L)")
        print(_table([("pairing", "convexity", "L", "2/L")] + [
            (name, c.status, "undecided" if s.value is None else sp.sstr(s.value), "" if s.step is None else sp.sstr(s.step))
            for name, c, s in curvature_table()], (22, 12, 10, 8)))
        undecided = [name for name, c, s in curvature_table() if "undecided" in (c.status, s.status)]
        print(f"undecided ({len(undecided)}): {', '.join(undecided)}")
    else:
        print("\ncurvature of every valid pairing: python -m proofs --curvature")

    if args.translation:
        print("\nkernels proved equal to their derivations (proofs.translation; clamps: same rounding per format)")
        print("\n".join(translation.summary() + translation_second.summary()))
    else:
        print("\nkernels proved equal to their derivations: python -m proofs --translation")

    print("\ntaken as given (proofs.given; every step that uses one cites it):")
    print(_table([(f.key, f.statement) for f in FACTS], (20, 90)))

    total = time.perf_counter() - start
    proved = sum(r.verdict.proved for r in results)
    print(f"\n{proved}/{len(results)} theorems proved, {len(CLAIMS) - len(bad)}/{len(CLAIMS)} claims checked, {total:.2f} s")
    return 0 if not failed and not bad else 1


def run(argv=None) -> int:
    """main, quiet when the reader of stdout leaves early (``python -m proofs | head``)."""
    return reader_may_leave(main, argv)


if __name__ == "__main__":
    sys.exit(run())
