"""Hypothesis profiles for the suite, chosen by DERIVE_HYPOTHESIS_PROFILE.

- ``ci`` (default): 10 generated examples per property plus the pinned ``@example``
  edge points, derandomized (the same examples on every run), no deadline, and the
  first failure only (a failing ``@example`` ends the test without generating more).
- ``thorough``: 300 generated examples per property, random, no deadline.

    DERIVE_HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties_*.py
"""

import os

from hypothesis import HealthCheck, Phase, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
# no "explain" phase: it re-runs the slow mpmath oracle hundreds of times to annotate a failure
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

# report_multiple_bugs=False: a failing @example ends the test at once, no generation or shrinking after it
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, print_blob=True,
                          report_multiple_bugs=False, phases=_PHASES, suppress_health_check=_QUIET)
settings.register_profile("thorough", max_examples=300, deadline=None, print_blob=True,
                          phases=_PHASES, suppress_health_check=_QUIET)

PROFILE = os.environ.get("DERIVE_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "thorough"):
    raise ValueError(f"DERIVE_HYPOTHESIS_PROFILE={PROFILE!r}; known profiles: ci, thorough")
settings.load_profile(PROFILE)
