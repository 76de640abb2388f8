"""A time budget for a proof: SymPy's simplification has no limit of its own, and a verdict must come back.

The budget is this process's CPU time (user + system: ``ITIMER_PROF``), not the wall clock: on a machine shared
with other work a proof gets the same budget, so a verdict does not depend on the load (the suite and
``python -m proofs --translation`` run with several workers).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["Undecided", "deadline"]


class Undecided(Exception):
    """A proof that did not finish within its time."""


@contextmanager
def deadline(seconds: float):
    """Raise ``Undecided`` in the block after ``seconds`` of CPU time (main thread only: elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_):
        raise Undecided

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
