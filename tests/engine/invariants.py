"""assert_trace_invariants: what every trace's JSON must satisfy, checked on every trace the tests make.

- gradients sum at outward branches: a node's grad is the sum of the
  downstream of the edges whose source it is; the output's grad is 1;
- downstream = tensordot(upstream, local, ndim(target)) wherever local is given;
- shapes agree (values, grads, upstream, downstream, local_shape);
- forward steps are a topological order, backward steps are its reverse, and the
  first backward step is the output's (the seed);
- every step's edges are its node's input edges.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from gradtrace.equations import trace_equations

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode(value: Any) -> np.ndarray:
    """A JSON number or nested list (with the non-finite strings) as a float64 array."""
    if isinstance(value, str):
        return np.asarray(NON_FINITE[value])
    if isinstance(value, list):
        return np.asarray([decode(v) for v in value], dtype=np.float64)
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return np.asarray(float(value))


def _close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


def assert_trace_invariants(trace: dict[str, Any]) -> None:
    """Raise AssertionError if the trace breaks the contract's invariants; its message shows the program."""
    try:
        _assert_invariants(trace)
    except AssertionError as error:
        try:
            program = "\n  ".join(trace_equations(trace))
        except Exception:  # a trace too broken to print: the first message says why
            raise error from None
        raise AssertionError(f"{error}\n\nthe trace's graph, as equations:\n  {program}") from None


def _assert_invariants(trace: dict[str, Any]) -> None:
    # Plain JSON: the strict encoder refuses NaN and Infinity floats.
    json.dumps(trace, allow_nan=False)
    assert trace["version"] == 1
    nodes = {node["id"]: node for node in trace["nodes"]}
    edges = {edge["id"]: edge for edge in trace["edges"]}
    assert len(nodes) == len(trace["nodes"]) and len(edges) == len(trace["edges"])
    assert trace["output"] in nodes
    output = nodes[trace["output"]]
    assert math.prod(output["shape"]) == 1
    np.testing.assert_array_equal(decode(output["grad"]), np.ones(output["shape"]))
    np.testing.assert_allclose(
        decode(trace["value"]), decode(output["value"]).reshape(()), equal_nan=True
    )

    for node in trace["nodes"]:
        shape = tuple(node["shape"])
        assert decode(node["value"]).shape == shape, node["id"]
        assert decode(node["grad"]).shape == shape, node["id"]
        assert node["kind"] in ("input", "constant", "op")
        assert (node["op"] is None) == (node["kind"] != "op")
        start, end = node["span"]
        assert 0 <= start <= end <= len(trace["expression"])

    inputs_of: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    sums: dict[str, np.ndarray] = {}
    magnitudes: dict[str, np.ndarray] = {}  # sum of |downstream|: the scale of rounding
    for edge in trace["edges"]:
        source = nodes[edge["source"]]
        target = nodes[edge["target"]]
        inputs_of[target["id"]].append(edge["id"])
        upstream = decode(edge["upstream"])
        downstream = decode(edge["downstream"])
        _close(upstream, decode(target["grad"]), f"{edge['id']} upstream == target grad")
        assert downstream.shape == tuple(source["shape"]), edge["id"]
        assert edge["local_shape"] == target["shape"] + source["shape"], edge["id"]
        if edge["local"] is not None:
            local = decode(edge["local"])
            assert local.shape == tuple(edge["local_shape"]), edge["id"]
            with np.errstate(all="ignore"):
                expected = np.tensordot(upstream, local, axes=upstream.ndim)
            if np.all(np.isfinite(upstream)) and np.all(np.isfinite(local)):
                _close(downstream, expected, f"{edge['id']} downstream == upstream x local")
        previous = sums.get(source["id"])
        with np.errstate(all="ignore"):
            sums[source["id"]] = downstream if previous is None else previous + downstream
            scale = np.abs(downstream)
            magnitudes[source["id"]] = scale if previous is None else magnitudes[source["id"]] + scale

    for node_id, node in nodes.items():
        if node_id == trace["output"]:
            continue
        grad = decode(node["grad"])
        total = sums.get(node_id, np.zeros(grad.shape))
        if np.all(np.isfinite(total)):
            # Summed in another order, terms that cancel (1/x - x/x**2) leave rounding
            # error of the size of the terms, not of their sum.
            scale = magnitudes.get(node_id, np.zeros(grad.shape))
            assert grad.shape == total.shape, node_id
            error = np.abs(grad - total)
            assert np.all(error <= 1e-9 * scale + 1e-12 + 1e-9 * np.abs(total)), (
                f"{node_id}: gradients sum at outward branches: {grad} != {total}"
            )
        # An edge's index is its argument position: consecutive from 0 per target.
    for node_id, edge_ids in inputs_of.items():
        assert [edges[e]["index"] for e in edge_ids] == list(range(len(edge_ids))), node_id

    steps = trace["steps"]
    assert [step["index"] for step in steps] == list(range(len(steps)))
    forward = [step for step in steps if step["phase"] == "forward"]
    backward = [step for step in steps if step["phase"] == "backward"]
    assert steps == forward + backward, "forward steps come first"
    order = [step["node"] for step in forward]
    assert sorted(order) == sorted(nodes), "one forward step per node"
    assert [step["node"] for step in backward] == order[::-1], "backward is forward reversed"
    assert backward[0]["node"] == trace["output"], "the first backward step seeds the output"
    position = {node_id: k for k, node_id in enumerate(order)}
    for edge in trace["edges"]:
        assert position[edge["source"]] < position[edge["target"]], "topological order"
    for step in steps:
        assert step["edges"] == inputs_of[step["node"]], step
        assert isinstance(step["text"], str) and step["text"]

    for warning in trace["warnings"]:
        assert set(warning) >= {"node", "kind", "message"}
        assert warning["node"] is None or warning["node"] in nodes
