"""Checks that a trace or an error obeys the public contract, whatever input produced it.

The fuzzers and the bad-input tables call these on every answer: a 200's trace must be
well-formed JSON (non-finite numbers as strings), self-consistent and pass the engine's
own invariants; a 4xx must carry the documented error form with a place that points
into the expression.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

try:  # The engine's invariants, once they exist; the contract checks below stand alone.
    from tests.engine.invariants import assert_trace_invariants as _engine_invariants
except ImportError:  # pragma: no cover - only before the engine lands
    _engine_invariants = None

NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
ERROR_KEYS = {"type", "message", "span", "line", "column"}


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"bare {name} in JSON: non-finite numbers must be strings")


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as a browser would: NaN/Infinity literals are not JSON."""
    return json.loads(text, parse_constant=_reject_constant)


def decode(value: Any) -> np.ndarray:
    """A trace number or nested list, with the non-finite strings read back."""

    def conv(v: Any) -> Any:
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, str):
            assert v in NONFINITE, f"unexpected string in a number's place: {v!r}"
            return NONFINITE[v]
        assert isinstance(v, int | float) and not isinstance(v, bool), f"not a number: {v!r}"
        return float(v)

    return np.asarray(conv(value), dtype=np.float64)


def _check_span(span: Any, expression: str) -> None:
    assert isinstance(span, list) and len(span) == 2, span
    start, end = span
    assert isinstance(start, int) and isinstance(end, int), span
    assert 0 <= start <= end <= len(expression), (span, len(expression))


def check_trace(trace: dict[str, Any], expression: str, values: dict[str, Any] | None = None) -> None:
    """Everything the contract promises about a 200's body."""
    strict_json(json.dumps(trace, allow_nan=False))
    assert trace["version"] == 1
    assert trace["expression"] == expression
    nodes = {n["id"]: n for n in trace["nodes"]}
    assert len(nodes) == len(trace["nodes"]), "node ids repeat"
    edges = {e["id"]: e for e in trace["edges"]}
    assert len(edges) == len(trace["edges"]), "edge ids repeat"
    assert trace["output"] in nodes
    output = nodes[trace["output"]]
    out_value = decode(output["value"])
    assert out_value.size == 1, "the output must hold exactly one number"
    np.testing.assert_array_equal(decode(trace["value"]).reshape(-1), out_value.reshape(-1))
    np.testing.assert_array_equal(decode(output["grad"]).reshape(-1), [1.0])

    nonfinite = False  # a non-finite value, or a non-finite gradient that something needs
    for node in trace["nodes"]:
        assert node["kind"] in ("input", "constant", "op"), node["kind"]
        shape = tuple(node["shape"])
        value, grad = decode(node["value"]), decode(node["grad"])
        assert value.shape == shape, (node["id"], value.shape, shape)
        assert grad.shape == shape, (node["id"], grad.shape, shape)
        finite_value, finite_grad = bool(np.all(np.isfinite(value))), bool(np.all(np.isfinite(grad)))
        # Data (a literal, a named constant) needs no gradient: whatever the engine
        # computed for it is unused, and no warning is owed.
        nonfinite |= not finite_value or (not finite_grad and not node.get("constant"))
        if node["kind"] == "constant":
            assert node.get("constant") is True, node["id"]
        if node.get("span") is not None:
            _check_span(node["span"], expression)

    inputs = {n["name"]: n for n in trace["nodes"] if n["kind"] == "input"}
    assert set(inputs) <= set(trace["gradients"]), (set(trace["gradients"]), set(inputs))
    for name, grad in trace["gradients"].items():
        g = decode(grad)
        if name not in inputs:
            # A value given but never used: the output does not depend on it.
            assert values is None or name in values, name
            assert not np.any(g), (name, g)
            continue
        assert g.shape == tuple(inputs[name]["shape"]), name
        np.testing.assert_array_equal(g, decode(inputs[name]["grad"]))
        if values is not None and name in values:
            assert g.shape == np.shape(values[name]), (name, g.shape)

    for edge in trace["edges"]:
        assert edge["source"] in nodes and edge["target"] in nodes, edge["id"]
        source, target = nodes[edge["source"]], nodes[edge["target"]]
        assert tuple(edge["local_shape"]) == tuple(target["shape"]) + tuple(source["shape"])
        assert decode(edge["downstream"]).shape == tuple(source["shape"])
        assert decode(edge["upstream"]).shape == tuple(target["shape"])
        if edge["local"] is not None:
            assert decode(edge["local"]).shape == tuple(edge["local_shape"])

    phases = [s["phase"] for s in trace["steps"]]
    assert phases.count("forward") == len(nodes) and phases.count("backward") == len(nodes)
    assert phases == sorted(phases, key=lambda p: p != "forward"), "forward steps come first"
    if nonfinite and not trace["warnings"]:
        raise AssertionError("a non-finite number appeared in the trace without a warning")
    for warning in trace["warnings"]:
        assert warning["node"] is None or warning["node"] in nodes
        assert isinstance(warning["message"], str) and warning["message"]

    if _engine_invariants is not None:
        try:
            _engine_invariants(trace)
        except AssertionError as error:
            if "gradients sum at outward branches" in str(error) and sums_hold_within_rounding(trace):
                raise AssertionError(f"outward-branch sum differs only by rounding: {error}") from error
            raise


def sums_hold_within_rounding(trace: dict[str, Any]) -> bool:
    """Whether every node's grad is the sum of its outward downstreams, up to the rounding
    error of adding those terms in any order (eps times the sum of their magnitudes)."""
    terms: dict[str, list[np.ndarray]] = {}
    for edge in trace["edges"]:
        terms.setdefault(edge["source"], []).append(decode(edge["downstream"]))
    for node in trace["nodes"]:
        parts = terms.get(node["id"])
        if not parts:
            continue
        grad = decode(node["grad"])
        magnitude = sum(np.abs(p) for p in parts)
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(magnitude))):
            continue
        if np.any(np.abs(grad - sum(parts)) > 1e-9 * magnitude + 1e-12):
            return False
    return True


def check_error_detail(detail: dict[str, Any], expression: str | None) -> None:
    """The documented error form: type, message, and a place in the expression when it has one."""
    # The contract allows new optional fields (the engine adds `limit` to limit errors).
    assert ERROR_KEYS <= set(detail), set(detail)
    assert isinstance(detail["type"], str) and detail["type"], detail
    assert isinstance(detail["message"], str) and detail["message"], detail
    span = detail["span"]
    if span is None:
        assert detail["line"] is None and detail["column"] is None, detail
        return
    if expression is None:
        return
    _check_span(span, expression)
    start = span[0]
    line = expression.count("\n", 0, start) + 1
    column = start - (expression.rfind("\n", 0, start) + 1) + 1
    assert (detail["line"], detail["column"]) == (line, column), (detail, line, column)


def check_trace_error(error: Any, expression: str) -> None:
    """A TraceError raised by the Python API carries the same fields as the 422 body."""
    detail = error.to_dict()
    check_error_detail(detail, expression)
    assert (detail["type"], detail["message"]) == (error.type, error.message)
    span = None if error.span is None else list(error.span)
    assert detail["span"] == span


def check_response(response: Any, expression: str | None, values: dict[str, Any] | None = None) -> Any:
    """A 200 with a valid trace, or a 4xx with a JSON body that says what is wrong."""
    status = response.status_code
    assert status == 200 or 400 <= status < 500, (status, response.text[:500])
    body = strict_json(response.content)
    if status == 200:
        assert expression is not None
        check_trace(body, expression, values)
    elif status == 422 and isinstance(body.get("detail"), dict):
        check_error_detail(body["detail"], expression)
    else:
        assert "detail" in body, body
    return body
