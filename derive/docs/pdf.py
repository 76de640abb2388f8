r"""From the report's .tex to its PDF: pdflatex until the references settle, a fixed date, the log checked.

    compile_pdf(tex, progress) -> report.pdf, or None without pdflatex
    source_date() -> seconds since 1970: SOURCE_DATE_EPOCH, else the commit date of the source, else its files'

The date printed on the title page and stored in the PDF (``/CreationDate``,
``/ModDate``) is ``source_date()``, passed to pdflatex as ``SOURCE_DATE_EPOCH``
with ``FORCE_SOURCE_DATE=1``: two builds of the same source give the same
date. Every overfull box in the log is reported on the progress stream.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["compile_pdf", "source_date", "date_text", "overfull_boxes", "MAX_PASSES"]

MAX_PASSES = 4
_PAGES = re.compile(r"Output written on .*? \((\d+) pages?")
_OVERFULL = re.compile(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\) (.*)$", re.M)
_SOURCE = Path(__file__).resolve().parents[1]  # the derive package


def source_date() -> int:
    """The report's date: $SOURCE_DATE_EPOCH (reproducible builds), else the last commit of this source
    tree, else the newest modification time of the package's modules."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given.isdigit():
        return int(given)
    git = shutil.which("git")
    if git is not None:
        done = subprocess.run([git, "log", "-1", "--format=%ct"], cwd=_SOURCE, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip().isdigit():
            return int(done.stdout.strip())
    return int(max(path.stat().st_mtime for path in _SOURCE.rglob("*.py")))


def date_text(epoch: int) -> str:
    """2026-11-30 (UTC)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def overfull_boxes(log: str) -> list[str]:
    """Each 'Overfull \\hbox (21.4pt too wide) ...' line of a LaTeX log."""
    return [match.group(0) for match in _OVERFULL.finditer(log)]


def compile_pdf(tex: Path, progress, epoch: int | None = None) -> Path | None:
    """pdflatex ``tex`` in its folder until the contents are stable; None, with one line, when pdflatex is missing."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        progress(
            f"pdflatex is not on the PATH: wrote {tex} but no PDF "
            "(Debian: apt-get install texlive-latex-base texlive-latex-recommended)"
        )
        return None
    epoch = source_date() if epoch is None else epoch
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "FORCE_SOURCE_DATE": "1"}
    command = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name]
    state = [tex.with_suffix(".aux"), tex.with_suffix(".toc")]
    previous = None
    for run in range(1, MAX_PASSES + 1):
        progress(f"pdflatex, pass {run}")
        done = subprocess.run(command, cwd=tex.parent, capture_output=True, text=True, errors="replace", env=env)
        if done.returncode != 0:
            log = "\n".join(done.stdout.splitlines()[-25:])
            raise RuntimeError(f"pdflatex failed on {tex} (exit {done.returncode}):\n{log}")
        # Contents and references are right once a pass leaves the .aux and .toc unchanged.
        current = b"".join(path.read_bytes() for path in state if path.exists())
        if current == previous:
            break
        previous = current
    for box in overfull_boxes(tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")):
        progress(f"warning: {box}")
    pdf = tex.with_suffix(".pdf")
    pages = _PAGES.search(done.stdout)
    progress(f"wrote {pdf}" + (f" ({pages.group(1)} pages)" if pages else ""))
    return pdf
