"""Limits: how much one trace may cost, so a public server stays responsive.

`Limits()` holds the server's defaults. The Python API passes `limits=None`,
which becomes `Limits.unlimited()`: only the nesting depth stays bounded,
because the parser recurses once per level and Python's stack is finite.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gradtrace.errors import limit_exceeded

# Parser frames per nesting level are 2, so this stays well inside Python's
# default recursion limit of 1000 even when called from deep inside a test runner.
SAFE_MAX_DEPTH = 250


@dataclass(frozen=True)
class Limits:
    """Every limit of a trace; None means no limit."""

    # A program's size, three ways that agree: max_nodes is what the page draws
    # within its budgets (docs/benchmarks.md, the page on large graphs); written
    # one op per statement, such a program has as many statements and about 24
    # characters a node, so neither of the others refuses it first.
    max_expression_length: int | None = 120_000
    max_depth: int = 200
    max_statements: int | None = 5_000
    max_nodes: int | None = 5_000
    max_tensor_elements: int | None = 1_000_000
    max_total_elements: int | None = 10_000_000
    max_local_elements: int = 4096
    max_input_elements: int | None = 100_000
    max_seconds: float | None = 5.0
    max_check_evaluations: int | None = 2_000_000
    max_flops: int | None = 1_000_000_000
    max_response_bytes: int | None = 16 * 1024 * 1024
    max_jacobian_passes: int | None = 1024

    @classmethod
    def unlimited(cls) -> Limits:
        """No limits but the ones the Python process needs for its own safety."""
        return cls(
            max_expression_length=None,
            max_depth=SAFE_MAX_DEPTH,
            max_statements=None,
            max_nodes=None,
            max_tensor_elements=None,
            max_total_elements=None,
            max_input_elements=None,
            max_seconds=None,
            max_check_evaluations=None,
            max_flops=None,
            max_response_bytes=None,
            max_jacobian_passes=None,
        )

    def deadline(self) -> Deadline:
        """A cooperative deadline that starts now."""
        return Deadline(self.max_seconds)


class Deadline:
    """Checked before every op of both passes; raises limit_exceeded (max_seconds) once past."""

    __slots__ = ("seconds", "end", "check")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.perf_counter() + seconds
        # Without a limit the check is a builtin that does nothing (calling `tuple`
        # returns the empty tuple), so the passes pay almost nothing for checking.
        self.check: Callable[[], object] = tuple if seconds is None else self._check

    @property
    def active(self) -> bool:
        return self.end is not None

    def _check(self) -> None:
        if self.end is not None and time.perf_counter() > self.end:
            raise limit_exceeded(
                "max_seconds", "the time spent on this trace", f"over {self.seconds} s", f"{self.seconds} s"
            )


class paused_gc:  # noqa: N801 - used as a decorator and a context manager, like contextlib's
    """Pause the cyclic garbage collector while a trace builds its (acyclic) lists.

    A trace allocates hundreds of thousands of small objects; each allocation burst
    would trigger collections that walk every live object in the process. Nothing
    the engine builds holds a reference cycle, so reference counting frees it all.
    Only the caller that found the collector enabled turns it back on.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


F = TypeVar("F", bound=Callable[..., Any])


def without_gc(func: F) -> F:
    """Run `func` with the cyclic garbage collector paused (see paused_gc)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
