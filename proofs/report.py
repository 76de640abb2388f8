"""The proofs as a LaTeX fragment for the full report (``derive.docs.report`` entry point).

    latex_section() -> str   (no preamble; needs only amsmath, amssymb, booktabs, longtable)

Every theorem with its statement, status, time and certificate; then every seed
claim, the refuted ones with their counterexample and corrected statement.
"""

from __future__ import annotations

from proofs.certificate import steps_of
from proofs.claims import CLAIMS, QUOTES_TEX, check_claim
from proofs.theorems import run_all

_ESCAPES = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "&": r"\&", "%": r"\%", "#": r"\#",
            "{": r"\{", "}": r"\}", "~": r"\~{}", "$": r"\$",
            "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def tex_text(s: str) -> str:
    """Plain text made safe for LaTeX text mode."""
    return "".join(_ESCAPES.get(ch, ch) for ch in s)


def _split_top(formula: str, seps=(r";\ ", r";\quad ", r";\quad", r"\qquad ")) -> list[str]:
    """Split a display formula at separators outside every brace group (one line each)."""
    parts, depth, start, pos = [], 0, 0, 0
    while pos < len(formula):
        ch = formula[pos]
        if ch == "\\" and pos + 1 < len(formula) and formula[pos + 1] in "{}":
            pos += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            sep = next((s for s in seps if formula.startswith(s, pos)), None)
            if sep:
                parts.append(formula[start:pos] + (";" if sep.startswith(";") else ""))
                pos += len(sep)
                start = pos
                continue
        pos += 1
    parts.append(formula[start:])
    return [p.strip() for p in parts if p.strip()]


def _display(formula: str) -> str:
    lines = _split_top(formula)
    return "\\begin{gather*}\n" + " \\\\\n".join(lines) + "\n\\end{gather*}"


def _steps(verdict, limit: int = 14) -> str:
    steps = steps_of(verdict)
    if not steps:
        return ""
    if len(steps) > limit:
        ok = sum(s.proved for s in steps)
        return f"\\par\\noindent\\small {ok} of {len(steps)} checked steps proved.\\normalsize\n"
    items = "\n".join(f"  \\item {tex_text(s.claim)}: \\emph{{{s.status}}}" for s in steps)
    return "\\begin{itemize}\\small\n" + items + "\n\\end{itemize}\n"


def _theorems() -> str:
    out = []
    for r in run_all():
        t = r.theorem
        out.append(f"\\subsection*{{Theorem {t.number}: {tex_text(t.name)}}}")
        seeds = ", ".join(t.seeds)
        out.append(f"\\noindent Status: \\textbf{{{r.status}}}. Seeds: {seeds}.\\par")  # no timings: the report is deterministic
        if not r.proofs:
            out.append(f"\\noindent {tex_text(r.verdict.reason)}\\par")
        for p in r.proofs:
            out.append(_display(p.statement))
            out.append(f"\\noindent\\emph{{Certificate.}} {p.certificate} "
                       f"(\\emph{{{p.verdict.status}}})\\par")
            out.append(_steps(p.verdict))
    return "\n".join(out)


def _claims() -> str:
    out = ["\\subsection*{The seed documents' claims}",
           "\\noindent A false claim is refuted by a counterexample evaluated with mpmath at 60 digits; "
           "its corrected statement is proved exactly.",
           "\\begin{itemize}"]
    for c in CLAIMS:
        res = check_claim(c.key)
        quote = QUOTES_TEX.get(c.key) or tex_text(c.quote)
        line = f"\\item \\textbf{{Seed {c.seed}}} (theorem {c.theorem}): ``{quote}'' --- \\emph{{{c.verdict}}}"
        if c.verdict != "true":
            line += (f". Counterexample: {c.counterexample} "
                     f"(checked: \\emph{{{res.refutation.status}}}). Corrected: \\(" + c.corrected + "\\)"
                     f" (\\emph{{{res.proof.status}}}).")
        else:
            line += f" (\\emph{{{res.proof.status}}})."
        out.append(line)
    out.append("\\end{itemize}")
    return "\n".join(out)


def latex_section() -> str:
    """The proofs section: theorems 1-11 and the seed claims."""
    intro = (
        "\\section{Proofs}\n"
        "Each bound $f \\le c$ on a domain $D$ is proved by a certificate $g$: SymPy shows $c - f - g = 0$ "
        "exactly (expand, cancel, simplify, also after rewriting in $\\exp$) and $g \\ge 0$ on $D$ by "
        "structural rules only (squares, sums and products of parts of known sign, nonnegative constants, "
        "affine forms of a domain atom on its interval, increasing functions of an atom, Piecewise branches "
        "where they apply). Equality is three-valued: proved or unknown; only a counterexample whose gap is "
        "certified to 60 digits refutes. Enclosures of extrema without closed form use interval arithmetic "
        "(\\texttt{mpmath.iv}).\n"
    )
    return intro + _theorems() + "\n" + _claims() + "\n"
