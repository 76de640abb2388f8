"""A time budget for a proof: SymPy's simplification has no limit of its own, and a verdict must come back."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["Undecided", "deadline"]


class Undecided(Exception):
    """A proof that did not finish within its time."""


@contextmanager
def deadline(seconds: float):
    """Raise ``Undecided`` in the block after ``seconds`` (main thread only: elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_):
        raise Undecided

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
