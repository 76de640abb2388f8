"""Verdicts and proofs: what a check returns, and how steps combine.

    Verdict(claim, status, reason)   status "proved", "not proved" or "refuted";  bool(v) == v.proved
                                     relation: the SymPy relation checked (printed by sp.latex), note: its words
    all_proved(claim, steps)         the conjunction: proved iff every step is
    Proof(statement, certificate, verdict)   a theorem's LaTeX statement, its certificate, its verdict

>>> all_proved("both", [Verdict("a", "proved", "x"), Verdict("b", "not proved", "y")]).proved
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = ["Verdict", "Proof", "all_proved", "steps_of", "holds_by_refutation", "namer"]


@dataclass(frozen=True)
class Verdict:
    """proved / not proved / refuted, with the reason; ``bool(v)`` is ``v.proved``."""

    claim: str
    status: str  # "proved", "not proved", "refuted"
    reason: str
    certificate: sp.Expr | None = None
    details: tuple = field(default_factory=tuple)
    conjunction: bool = False  # True: proved iff every verdict in ``details`` is
    relation: sp.Basic | None = None  # the relation checked (sp.Le, sp.Eq, ...), for SymPy's printers
    note: str = ""  # words that go with ``relation`` where the claim says more than the relation

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    @property
    def refuted(self) -> bool:
        return self.status == "refuted"

    def __bool__(self) -> bool:
        return self.proved

    def __str__(self) -> str:
        return f"{self.status}: {self.claim} ({self.reason})"


def all_proved(claim: str, verdicts, reason: str = "every step proved") -> Verdict:
    """The conjunction: proved when every verdict is proved; else the first failing one's reason."""
    verdicts = tuple(verdicts)
    for v in verdicts:
        if not v.proved:
            return Verdict(claim, "not proved", f"step not proved: {v}", details=verdicts, conjunction=True)
    return Verdict(claim, "proved", reason, details=verdicts, conjunction=True)


def steps_of(verdict: Verdict) -> list[Verdict]:
    """The leaf steps of a (nested) conjunction."""
    if not verdict.conjunction:
        return [verdict]
    return [leaf for d in verdict.details for leaf in steps_of(d)]


@dataclass(frozen=True)
class Proof:
    """A theorem's statement (LaTeX), its certificate (LaTeX / words) and the checker's verdict."""

    statement: str
    certificate: str
    verdict: Verdict
    notes: tuple[str, ...] = ()


def holds_by_refutation(claim: str, verdict: Verdict) -> Verdict:
    """'not P' is proved when P is refuted by a counterexample."""
    if verdict.refuted:
        return Verdict(claim, "proved", f"the opposite is refuted: {verdict.reason}", details=(verdict,))
    return Verdict(claim, "not proved", f"no counterexample: {verdict.reason}", details=(verdict,))


def _declared(sym) -> str:
    """The assumptions ``sym`` was declared with, e.g. "positive" or "integer, nonnegative"."""
    orig = getattr(sym, "_assumptions_orig", None)
    if orig is None and isinstance(sym, sp.IndexedBase):
        orig = getattr(sym.label, "_assumptions_orig", None) or {k: v for k, v in sym.assumptions0.items() if k == "real"}
    words = [k if v else f"not {k}" for k, v in sorted((orig or {}).items())]
    return ", ".join(words) or "no assumptions"


def _symbols_in(obj) -> set:
    """The Symbols and IndexedBases of ``obj`` (an IndexedBase's label is the base, not a Symbol of its own)."""
    if isinstance(obj, dict):
        return set().union(*(_symbols_in(k) | _symbols_in(v) for k, v in obj.items())) if obj else set()
    if isinstance(obj, (tuple, list)):
        return set().union(*(_symbols_in(v) for v in obj)) if obj else set()
    if isinstance(obj, sp.IndexedBase):
        return {obj}
    if isinstance(obj, sp.Basic):
        bases = obj.atoms(sp.IndexedBase)
        return (obj.atoms(sp.Symbol) - {b.label for b in bases}) | bases
    return set()


def namer(*objects):
    """str for the verdict texts of a check over ``objects``: plain ``sstr``, except that symbols
    sharing a name with another (differing only in assumptions) print as name{assumptions}."""
    syms = [s for s in _symbols_in(objects) if not isinstance(s, sp.Dummy)]
    names = [(type(s), str(s)) for s in syms]
    clash = {s for s in syms if names.count((type(s), str(s))) > 1}

    def show(e) -> str:
        if not clash or not isinstance(e, sp.Basic):
            return sp.sstr(e)
        return sp.sstr(e.xreplace({s: type(s)(f"{s}{{{_declared(s)}}}") for s in clash}))

    show.clash = sorted(f"{s}{{{_declared(s)}}}" for s in clash)
    # a claim text, and the symbols that share a name (printed with their assumptions)
    show.claim = lambda text: text + (f" [same name, different symbols: {', '.join(show.clash)}]" if show.clash else "")
    return show
