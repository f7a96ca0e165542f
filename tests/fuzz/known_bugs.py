"""Bugs the fuzzers found whose fix has not landed: recognised, so a run reports them as xfail.

Each entry also has a strict xfail case in test_regressions.py, which turns red once the
fix lands; then the entry here goes too. Recognition is narrow on purpose: an exception's
exact signature, or a failure that disappears when the statements the output never uses
are taken away. (BUG-1, BUG-2, BUG-3 and BUG-8 were here until their fixes landed; a new one is
added as KNOWN[id] plus a SIGNATURES entry, or DEAD_CODE_BUG.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

#: Open bugs by id: what they are.
KNOWN: dict[str, str] = {}

#: Open bugs recognised by the exception they raise: (id, predicate).
SIGNATURES: list[tuple[str, Callable[[BaseException], bool]]] = []

#: The open bug, if any, whose failures vanish when dead statements are removed.
DEAD_CODE_BUG: str | None = None

SEEN: dict[str, int] = {}


def tolerate(bug: str) -> None:
    """Count a known bug's failure and let the run go on (no shrinking, full budget)."""
    SEEN[bug] = SEEN.get(bug, 0) + 1


def reports_known_bugs(test: Callable[..., Any]) -> Callable[..., Any]:
    """Around a hypothesis test: once all its examples ran, xfail it if a known bug showed."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        SEEN.clear()
        test(*args, **kwargs)
        if SEEN:
            seen = ", ".join(f"{bug} x{n}: {KNOWN[bug]}" for bug, n in sorted(SEEN.items()))
            SEEN.clear()
            pytest.xfail(f"known bugs (see test_regressions.py): {seen}")

    return wrapper


def run_tolerating(check: Callable[[], Any], without_dead_code: Callable[[], Any] | None = None) -> Any:
    """Run a check; a failure that is a known bug's becomes an xfail, anything else is raised."""
    try:
        return check()
    except Exception as error:
        for bug, matches in SIGNATURES:
            if matches(error):
                return tolerate(bug)
        if isinstance(error, AssertionError) and without_dead_code is not None and DEAD_CODE_BUG:
            try:
                without_dead_code()
            except BaseException:
                raise error from None
            return tolerate(DEAD_CODE_BUG)
        raise
