"""How many inputs each fuzz and bad-input family tried, and how long the answers took.

The numbers are printed at the end of the run (for the hardening report); nothing here
asserts on time, since the machine is shared and timings are noisy.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

COUNTS: dict[str, int] = defaultdict(int)
OUTCOMES: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
SECONDS: dict[str, list[float]] = defaultdict(list)
_printed = False


def count(family: str, outcome: str = "tried") -> None:
    COUNTS[family] += 1
    OUTCOMES[family][outcome] += 1


@contextmanager
def timed(family: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        SECONDS[family].append(time.perf_counter() - start)


def _quantile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(write_line: object) -> None:
    """Print the tally once per session, whichever suite's conftest asks first."""
    global _printed
    if _printed or not COUNTS:
        return
    _printed = True
    emit = write_line  # the terminal reporter's write_line
    assert callable(emit)
    emit("")
    emit("gradtrace fuzz / hardening tally (inputs tried per family; answer times)")
    for family in sorted(COUNTS):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(OUTCOMES[family].items()))
        line = f"  {family:<32} {COUNTS[family]:>6}  ({outcomes})"
        times = SECONDS.get(family)
        if times:
            line += f"  p50 {_quantile(times, 0.5) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
        emit(line)
