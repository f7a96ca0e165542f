"""gradtrace timed phase by phase, for the scalar benchmark.

The public API runs the whole flow in one call; to say where the time goes, this module
calls the engine's own steps one at a time, in the order `gradtrace.trace` does. It is
the one place in bench/ that knows the engine's internals: if they move, only this file
changes.
"""

from __future__ import annotations

import math
from typing import Any

import gradtrace
from bench.programs import Program
from bench.timing import timed

DESCRIPTION = "parse (tokens and syntax tree), forward, backward, recording (the Trace), JSON."


def encode(trace: Any) -> bytes:
    """The JSON bytes the API sends for a Trace."""
    from gradtrace.api.encoding import dumps

    return dumps(trace.to_dict())


def whole(text: str, values: dict[str, float]) -> bytes:
    """Text to JSON through the public API, as `POST /api/v1/trace` does it."""
    return encode(gradtrace.trace(text, values))


def time_phases(text: str, values: dict[str, float]) -> dict[str, float]:
    """Seconds per phase: gradtrace_parse, _forward, _backward, _record and _json."""
    raise NotImplementedError("the engine's phases are not wired in yet")


def validate(program: Program) -> None:
    """gradtrace's value and input gradients equal the float tape's (a wrong engine is fast)."""
    from bench.baselines import tape_gradients

    value, grads = tape_gradients(program)
    t = gradtrace.trace(program.text, program.values)
    if not math.isclose(float(t.value), value, rel_tol=1e-12, abs_tol=1e-12):
        raise AssertionError(f"gradtrace's value {t.value} is not the tape's {value}")
    for name, g in grads.items():
        if not math.isclose(float(t.gradients[name]), g, rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"d/d{name}: gradtrace {t.gradients[name]}, tape {g}")


__all__ = ["DESCRIPTION", "encode", "time_phases", "timed", "validate", "whole"]
