"""gradtrace timed phase by phase, for the scalar benchmark.

The public API runs the whole flow in one call; to say where the time goes, this module
calls the engine's own steps one at a time, in the order `gradtrace.trace` does. It is
the one place in bench/ that knows the engine's internals: if they move, only this file
changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson

import gradtrace
from bench.programs import Program
from bench.timing import timed
from gradtrace.engine import Run, backward, forward
from gradtrace.graph import build_graph
from gradtrace.limits import Limits, paused_gc
from gradtrace.parser import parse
from gradtrace.trace import Trace
from gradtrace.trace_warnings import collect_warnings
from gradtrace.values import coerce_values

DESCRIPTION = (
    "parse = tokens and syntax tree (`parser.parse`); lower = inputs checked and graph built "
    "(`graph.build_graph`); forward and backward = `engine.forward` and "
    "`engine.backward`; recording = the `Trace` that `gradtrace.trace()` returns "
    "(`trace.Trace` and `collect_warnings`: what each node and edge carried, kept as flat "
    "lists); JSON encoding = `Trace.to_dict()` (the contract's nodes, edges and steps, step "
    "texts included) then the API's encoder (`api.encoding.dumps_trace`) to bytes."
)


def _dumps() -> Callable[[Any], bytes]:
    """The encoder `POST /api/v1/trace` uses for a Trace's dict (plain orjson as a fallback)."""
    try:
        from gradtrace.api import encoding
    except ImportError:
        return orjson.dumps
    found: Callable[[Any], bytes] = getattr(encoding, "dumps_trace", None) or encoding.dumps
    return found


def encode(trace: Any) -> bytes:
    """The JSON bytes the API sends for a Trace."""
    return _dumps()(trace.to_dict())


def whole(text: str, values: dict[str, float]) -> bytes:
    """Text to JSON through the public API, as `POST /api/v1/trace` does it."""
    return encode(gradtrace.trace(text, values))


def time_phases(text: str, values: dict[str, float], clock: str = "wall") -> dict[str, float]:
    """Seconds per phase, the steps of `gradtrace.trace` one at a time (scalar programs).

    parse: tokens and syntax tree; lower: the inputs checked and the graph built (shapes,
    topological order); forward and backward: the engine's scalar passes; record: the
    Trace that `gradtrace.trace` returns, with its warnings; to_dict: the contract's
    nodes, edges and steps as Python objects; json: the bytes the API sends.
    """
    dumps = _dumps()
    limits = Limits.unlimited()
    deadline = limits.deadline()
    out: dict[str, float] = {}
    out["gradtrace_parse"], program = timed(
        lambda: _paused(
            lambda: parse(text, limits.max_depth, limits.max_statements, limits.max_expression_length)
        ),
        clock,
    )
    out["gradtrace_lower"], (inputs, graph) = timed(
        lambda: _paused(lambda: _lower(text, program, values, limits)), clock
    )
    if not graph.scalar:
        raise ValueError("the scalar benchmark needs a program whose every node is one number")
    out["gradtrace_forward"], (vals, locals_) = timed(
        lambda: _paused(lambda: forward(graph, inputs, deadline)), clock
    )
    out["gradtrace_backward"], (grads, downstream) = timed(
        lambda: _paused(lambda: backward(graph, vals, locals_, deadline)), clock
    )
    run = Run(vals, locals_, grads, downstream)
    out["gradtrace_record"], result = timed(lambda: _paused(lambda: _record(graph, run, limits)), clock)
    out["gradtrace_to_dict"], body = timed(result.to_dict, clock)
    out["gradtrace_json"], _ = timed(lambda: dumps(body), clock)
    return out


def time_engine(text: str, values: dict[str, float], clock: str = "wall") -> tuple[float, Any]:
    """Seconds of forward + backward + recording timed as one block, as the target names them.

    Parsing and lowering run first, untimed. One block has one clock reading and one
    collection before it, as micrograd's forward and backward have in the same loop;
    timed phase by phase (`time_phases`), each phase starts with cold caches after a
    collection of its own, which at N = 100 weighs as much as the phase.
    Returns the seconds and the Trace (freed by the caller, outside the timing).
    """
    limits = Limits.unlimited()
    deadline = limits.deadline()
    program = parse(text, limits.max_depth, limits.max_statements, limits.max_expression_length)
    inputs, graph = _lower(text, program, values, limits)

    def run() -> Trace:
        # The collector paused as `gradtrace.trace()` pauses it (limits.paused_gc).
        with paused_gc():
            vals, locals_ = forward(graph, inputs, deadline)
            grads, downstream = backward(graph, vals, locals_, deadline)
            return _record(graph, Run(vals, locals_, grads, downstream), limits)

    return timed(run, clock)


def _paused(fn: Callable[[], Any]) -> Any:
    """fn() with the collector paused, as `gradtrace.trace()` runs every phase."""
    with paused_gc():
        return fn()


def _lower(text: str, program: Any, values: dict[str, float], limits: Limits) -> tuple[Any, Any]:
    inputs = coerce_values(program, values, limits)
    return inputs, build_graph(text, program, inputs, limits)


def _record(graph: Any, run: Run, limits: Limits) -> Trace:
    result = Trace(graph, run, [], None, limits.max_local_elements)
    result.warnings = collect_warnings(graph, run, result.reaches)
    return result


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


