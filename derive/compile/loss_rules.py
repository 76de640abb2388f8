"""Stability rules of the losses added to the catalogue after the first round (see ``derive.compile.rewrite``).

Each is a ``Rule(phase, query, value)``; ``rewrite.RULES`` appends ``RULES`` to its own.
"""

from __future__ import annotations

from derive.compile.rule import Rule

RULES: tuple[Rule, ...] = tuple(v for v in tuple(globals().values()) if isinstance(v, Rule))
