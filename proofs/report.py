r"""The proofs as a LaTeX fragment for the full report (``derive.docs.report`` entry point).

    latex_section() -> str   (no preamble; needs amsmath, amssymb and the report's \fiteq)

Every theorem with its statement, status, source text and certificate, and its
checked steps; then every claim of the source texts, named by title and kind,
the refuted ones with their counterexample and corrected statement.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.docs.latex import math_signs
from derive.docs.sources import cite
from proofs import Verdict
from proofs.claims import CLAIMS, QUOTES_TEX, check_claim
from proofs.second_order import curvature_table
from proofs.given import FACTS
from proofs.theorems import run_all
from proofs.translation import kernel_count, sample_table
from proofs.translation import summary as translation_summary

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
    r"""One display per part of the statement (its lines split at ``\\``, then at top-level separators),
    each scaled down to the line width where it is wider (the report's ``\fiteq``): no overfull box."""
    lines = [part for row in re.split(r"\\\\(?![A-Za-z])", formula) for part in _split_top(row)]
    return "\n".join(rf"\fiteq{{{line}}}" for line in lines)


def _leaves(verdict: Verdict) -> list[Verdict]:
    """The leaf steps of a (nested) conjunction of verdicts."""
    if not verdict.conjunction:
        return [verdict]
    return [leaf for d in verdict.details if isinstance(d, Verdict) for leaf in _leaves(d)]


# text-mode relations and arrows of a step's text, set as mathematics
_OPERATORS = ((r"\textless{}=", r"$\le$"), (r"\textgreater{}=", r"$\ge$"), ("!=", r"$\ne$"),
              (r"-\textgreater{}", r"$\to$"), (r"=\textgreater{}", r"$\Rightarrow$"),
              (r"\textless{}", "$<$"), (r"\textgreater{}", "$>$"))
_GREEK = {"sigma": r"\sigma", "phi": r"\varphi", "pi": r"\pi", "delta": r"\delta"}
# the ASCII mathematics of a step's text: sum_k, sqrt 2, S_i, e^{z_k}, 4^-(L+1), C_{t-1}
_MATH = re.compile(r"""sum_(?:\{[^{}]*\}|\w)
                     | sqrt\s?(?:\([^()]*\)|\w+)
                     | (?<![A-Za-z])(?:[A-Za-z]{1,2}|\d+|sigma|phi)'*(?:[_^](?:\{[^{}]*\}|-?\([^()]*\)|-?\w+))+
                     | (?<=[)\]])\^(?:\{[^{}]*\}|-?\w+)""", re.X)


def _math_token(token: str) -> str:
    """One ASCII token as LaTeX mathematics (braces as groups, exponents braced)."""
    if token.startswith("sum_"):
        return r"\sum_{" + token[4:].strip("{}").replace("!=", r"\ne ") + "}"
    if token.startswith("sqrt"):
        inside = token[4:].strip().strip("()")
        return r"\sqrt{" + _GREEK.get(inside, inside) + "}"
    if token.startswith("^"):  # (a - y)^2: the power of a bracket
        token = "{}" + token
    token = re.sub(r"([_^])(-?\([^()]*\)|-?\w+)", r"\1{\2}", token)  # 4^-L -> 4^{-L}
    token = token.replace("!=", r"\ne ")
    return re.sub(r"[A-Za-z]+", lambda m: _GREEK.get(m.group(), m.group()), token)


def _text_tex(s: str) -> str:
    """Text with its relations, arrows, minus signs, primes and Greek letters as mathematics."""
    shown = tex_text(s)
    for ascii_op, math in _OPERATORS:
        shown = shown.replace(ascii_op, math)
    shown = math_signs(shown)
    # a hyphen joins a word to a word (002-linear, sub-optimal); anything else is a minus sign
    shown = re.sub(r"(?<![$\\])(?:(?<![A-Za-z0-9])-|-(?![A-Za-z]))(?!\\infty)", "$-$", shown)
    shown = re.sub(r"(?<=[A-Za-z)])('+)(?![A-Za-z])", r"$\1$", shown)  # gelu'' is a second derivative
    return re.sub(r"\b(sigma|phi|pi)\b", lambda m: f"${_GREEK[m.group()]}$", shown)


def _claim_tex(v: Verdict) -> str:
    """A step's statement: SymPy's LaTeX of the relation where the verdict keeps one (``v.relation``, with
    ``v.note`` as its words), else its text with the ASCII mathematics in it set as mathematics."""
    relation = getattr(v, "relation", None)
    if isinstance(relation, sp.Basic):
        formula = f"${sp.latex(relation)}$"
        note = getattr(v, "note", "")
        return f"{_text_tex(note)}: {formula}" if note else formula
    return _ascii_tex(v.claim)


def _ascii_tex(s: str) -> str:
    """Text written in ASCII mathematics (sum_i a_i, v^T, >=) as LaTeX: its mathematics as mathematics."""
    out, at = [], 0
    for match in _MATH.finditer(s):
        out += [_text_tex(s[at:match.start()]), f"${_math_token(match.group())}$"]
        at = match.end()
    return "".join(out) + _text_tex(s[at:])


def _trivial(v: Verdict) -> bool:
    """A step whose two sides are the same (0 = 0): it proves nothing worth printing."""
    relation = getattr(v, "relation", None)
    if isinstance(relation, sp.Basic):
        return relation == sp.true or (isinstance(relation, sp.Eq) and relation.lhs == relation.rhs)
    sides = v.claim.split(" = ")
    return len(sides) == 2 and sides[0].strip() == sides[1].strip()


def _certificate(tex: str) -> str:
    """A certificate's LaTeX with each of its '; '-separated parts once, and dotted names breakable.

    A certificate with neither ``$`` nor a backslash is plain text (v^T H v >= 0): set as a step's text is.
    """
    if "$" not in tex and "\\" not in tex:
        tex = _ascii_tex(tex)
    parts = [part.rstrip(";") for part in _split_top(tex, seps=("; ",))]
    unique = [part for pos, part in enumerate(parts) if part not in parts[:pos]]
    return re.sub(r"\\texttt\{([^{}]*)\}", lambda m: r"\texttt{" + m.group(1).replace(".", r".\allowbreak{}") + "}",
                  "; ".join(unique))


def _steps(verdict: Verdict, limit: int = 14) -> str:
    steps = [v for v in _leaves(verdict) if not _trivial(v)]
    if not steps:
        return ""
    if len(steps) > limit:
        ok = sum(s.proved for s in steps)
        return f"\\par\\noindent\\small {ok} of {len(steps)} checked steps proved.\\normalsize\n"
    items = "\n".join(f"  \\item {_claim_tex(s)}: \\emph{{{s.status}}}" for s in steps)
    return "\\begin{itemize}\\small\n" + items + "\n\\end{itemize}\n"


def _theorems() -> str:
    out = []
    for r in run_all():
        t = r.theorem
        out.append(f"\\subsection*{{Theorem {t.number}: {tex_text(t.name)}}}")
        sources = "; ".join(cite(seed) for seed in t.seeds)
        # no timings: the report is deterministic
        out.append(f"\\noindent Status: \\textbf{{{r.status}}}." + (f" Source: {sources}." if sources else "") + "\\par")
        if not r.proofs:
            out.append(f"\\noindent {tex_text(r.verdict.reason)}\\par")
        for p in r.proofs:
            out.append(_display(p.statement))
            out.append(f"\\noindent\\emph{{Certificate.}} {_certificate(p.certificate)} "
                       f"(\\emph{{{p.verdict.status}}})\\par")
            out.append(_steps(p.verdict))
    return "\n".join(out)


def _claims() -> str:
    out = ["\\subsection*{The claims of the source texts}",
           "\\noindent Each claim quoted from its source text. A false claim is refuted by a counterexample "
           "evaluated with mpmath at 60 digits; its corrected statement is proved exactly.",
           "\\begin{itemize}"]
    for c in CLAIMS:
        res = check_claim(c.key)
        quote = QUOTES_TEX.get(c.key) or tex_text(c.quote)
        source = cite(c.seed)
        line = (f"\\item \\textbf{{{source[:1].upper() + source[1:]}}} (theorem {c.theorem}): "
                f"``{quote}'' --- \\emph{{{c.verdict}}}")
        if c.verdict != "true":
            line += (f". Counterexample: {c.counterexample} "
                     f"(checked: \\emph{{{res.refutation.status}}}). Corrected: \\(" + c.corrected + "\\)"
                     f" (\\emph{{{res.proof.status}}}).")
        else:
            line += f" (\\emph{{{res.proof.status}}})."
        out.append(line)
    out.append("\\end{itemize}")
    return "\n".join(out)


def _value(v) -> str:
    return "undecided" if v is None else "$" + (r"\infty" if v is sp.oo else sp.latex(v)) + "$"


def _scope(c, s) -> str:
    """For which parameter values the verdicts hold (empty: a pairing without parameters)."""
    if c.scope == s.scope:
        return _text_tex(c.scope)
    return _text_tex(f"convexity {c.scope}; L {s.scope}")


def _curvature() -> str:
    """Convexity in z and the smoothness constant L (with the step 2/L) of every valid pairing."""
    rows = [rf"{tex_text(pairing)} & {c.status} & {_value(s.value)} & {'' if s.step is None else _value(s.step)} & "
            rf"{_scope(c, s)} \\" for pairing, c, s in curvature_table()]
    undecided = [p for p, c, s in curvature_table() if "undecided" in (c.status, s.status)]
    breakable = [tex_text(p).replace("+", r"+\allowbreak{}") for p in undecided]  # leaky_relu+log_cosh: no hyphen
    return "\n".join([
        "\\subsection*{Curvature of every valid pairing}",
        "\\noindent Convex in $z$: a certificate that the Hessian is positive semidefinite for every admissible "
        "target, or a 60-digit counterexample (not convex). $L$ is the supremum of the Hessian's largest eigenvalue "
        "over $z$ and the admissible targets, proved an upper bound and attained (or shown unbounded: $\\infty$); "
        "$2/L$ is the largest stable gradient step. The Hessians are in Section~\\ref{sec:curvature}.",
        "\\begin{longtable}{@{}llll>{\\raggedright\\arraybackslash}p{0.36\\linewidth}@{}}",
        "\\toprule pairing & convexity & $L$ & $2/L$ & for which parameters \\\\ \\midrule \\endhead",
        *rows,
        "\\bottomrule",
        "\\end{longtable}",
        f"\\noindent Undecided ({len(undecided)}): {', '.join(breakable) or 'none'}.\\par",
    ])


def _translation() -> str:
    """How many kernels of each family are proved equal to their derivations (``proofs.translation``)."""
    table = sample_table()  # the whole table takes minutes: python -m proofs --translation
    items = "\n".join(f"  \\item {_text_tex(line)}" for line in translation_summary(table))
    return ("\\subsection*{Kernels proved equal to their derivations}\n"
            "\\noindent Each generated kernel's stabilised expression, with every printer node read as the "
            "mathematics it stands for, is proved equal to the raw derivation by the three-valued equality, "
            "case by case; a clamp ($\\exp(\\min(z, 40))$) is removed for the equality and shown, per format, "
            "to round as the unclamped value does. Checked here: every activation's kernels and a sample of the "
            f"pairings using every rule and every entry ({len(table)} of the {kernel_count()} "
            "kernels); \\texttt{python -m proofs --translation} checks all.\n\\begin{itemize}\\small\n" + items + "\n\\end{itemize}")


def _facts() -> str:
    """The facts the checker takes as given (``proofs.given.FACTS``)."""
    items = "\n".join(f"  \\item \\textbf{{{tex_text(f.key)}}}: {_ascii_tex(f.statement)}" for f in FACTS)
    return ("\\subsection*{Taken as given}\n\\noindent Every step that uses one of these facts cites it; "
            "everything else is checked.\n\\begin{itemize}\\small\n" + items + "\n\\end{itemize}")


def latex_section() -> str:
    """The proofs section: every theorem, the claims of the source texts, curvature, kernels, the givens."""
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
    return "\n".join([intro + _theorems(), _claims(), _curvature(), _translation(), _facts()]) + "\n"
