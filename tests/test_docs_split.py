"""derive/docs: each module under 400 lines, named for its concern; the softmax facts proved by ``proofs`` are
not checked again by the report (it names them and includes the proofs section)."""

from __future__ import annotations

import ast
from pathlib import Path

import derive.docs

DOCS = Path(derive.docs.__file__).parent


def test_every_docs_module_is_under_400_lines():
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in DOCS.glob("*.py")}
    assert {"report.py", "tables.py", "theory.py", "pdf.py", "sources.py"} <= set(sizes)
    assert all(lines < 400 for lines in sizes.values()), sizes


def test_the_report_does_not_recheck_what_proofs_proves():
    for path in DOCS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "explicit_jacobian_matches" not in names, path.name  # the n x n Jacobian: theorem 6's business
        assert not any(m.split(".")[0] == "proofs" for m in modules), path.name  # derive never imports proofs
