"""One display name per node, made in one place and used by the step texts."""

from __future__ import annotations

import gradtrace


def _names(expression: str, values: dict[str, float]) -> dict[str, str]:
    trace = gradtrace.trace(expression, values).to_dict()
    return {node["id"]: node["display_name"] for node in trace["nodes"]}


def test_each_kind_of_node_has_its_display_name() -> None:
    trace = gradtrace.trace("(x + y) * max(y, 2)", {"x": 1, "y": 2}).to_dict()
    shown = [node["display_name"] for node in trace["nodes"]]
    assert shown == ["x", "y", "x + y", "2", "max(y, 2)", "f"]


def test_an_unnamed_output_is_not_called_by_a_name_the_program_uses() -> None:
    trace = gradtrace.trace("f = x * 2; f + 1", {"x": 3}).to_dict()
    output = next(n for n in trace["nodes"] if n["id"] == trace["output"])
    assert output["display_name"] == "out"
    seed = trace["steps"][len(trace["nodes"])]["text"]
    assert seed.startswith("dout/dout = 1")
    assert any(step["text"].startswith("dout/df = ") for step in trace["steps"])
    assert not any("df/df" in step["text"] for step in trace["steps"])


def test_long_or_multiline_sources_are_named_by_their_id() -> None:
    long = "(" + " + ".join(["x"] * 20) + ") * 2"
    names = _names(long, {"x": 1})
    # The sum in parentheses is longer than 24 characters: it goes by its id.
    assert names["n1"] == "x + x" and names["n19"] == "n19"
    assert all(len(v) <= 24 for v in names.values())
    multiline = _names("a = (x +\n y)\na * 2", {"x": 1, "y": 2})
    assert multiline == {"n0": "x", "n1": "y", "n2": "a", "n3": "2", "n4": "f"}


def test_step_texts_use_the_display_names() -> None:
    trace = gradtrace.trace("a = x * y\nsin(a) + x", {"x": 1, "y": 2}).to_dict()
    by_id = {n["id"]: n["display_name"] for n in trace["nodes"]}
    forward = {s["node"]: s["text"] for s in trace["steps"] if s["phase"] == "forward"}
    for node in trace["nodes"]:
        if node["kind"] == "op" and node["name"] is None and node["id"] != trace["output"]:
            assert forward[node["id"]].startswith(by_id[node["id"]])
    assert by_id[trace["output"]] == "f"
