"""Hypothesis budgets for the fuzzers: small and fixed in `make test`, large in `make fuzz`.

The profiles are registered by name and applied per test (``@FUZZ``), never loaded
globally, so the other suites' hypothesis settings are left alone. The small profile
is derandomized so that main stays deterministic; the large one explores new seeds
and keeps what it finds in the local example database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# No explain phase: it replaces the failing example's repr with commented blanks.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

settings.register_profile(
    "gradtrace-fuzz-small",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
    phases=_PHASES,
)
settings.register_profile(
    "gradtrace-fuzz-large",
    max_examples=1500,
    deadline=None,
    suppress_health_check=_QUIET,
    phases=_PHASES,
)

BUDGET = "large" if os.environ.get("GRADTRACE_FUZZ", "").lower() == "large" else "small"
FUZZ = settings.get_profile(f"gradtrace-fuzz-{BUDGET}")
if os.environ.get("GRADTRACE_FUZZ_EXAMPLES"):
    # One knob to run a single family harder without editing the profiles.
    FUZZ = settings(FUZZ, max_examples=int(os.environ["GRADTRACE_FUZZ_EXAMPLES"]))

# The slow families (deep nesting, long chains, whole HTTP round trips) get a fraction.
FUZZ_SLOW = settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 5))
