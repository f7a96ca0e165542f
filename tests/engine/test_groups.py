"""Statement groups: which statement made each node, for the page to collapse it into one box."""

from __future__ import annotations

import gradtrace

NETWORK = "z = W @ x + b; h = sigmoid(z); s = u @ h"
VALUES = {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, 1.0], "b": [0.0, 1.0], "u": [1.0, -1.0]}


def test_each_statement_is_a_group_of_the_nodes_it_made() -> None:
    body = gradtrace.trace(NETWORK, VALUES).to_dict()
    groups = body["groups"]
    # h and s made one node each: one node is its own box, and no group.
    assert [(g["id"], g["kind"], g["name"]) for g in groups] == [("g0", "statement", "z")]
    nodes = {n["id"]: n for n in body["nodes"]}
    z = groups[0]
    # W @ x and + are z's; W, x and b are inputs, which belong to no group.
    assert [nodes[i]["label"] for i in z["nodes"]] == ["@", "+"]
    assert sorted(nodes[i]["name"] for i in z["inputs"]) == ["W", "b", "x"]
    assert z["output"] == z["nodes"][-1] and nodes[z["output"]]["name"] == "z"
    assert body["expression"][slice(*z["span"])] == "z = W @ x + b"
    for node in body["nodes"]:
        member = [g["id"] for g in groups if node["id"] in g["nodes"]]
        assert node.get("group") == (member[0] if member else None)
        if node["kind"] == "input":
            assert "group" not in node


def test_a_statement_that_makes_no_node_is_no_group() -> None:
    body = gradtrace.trace("a = x; b = a * 2; b", {"x": 3.0}).to_dict()
    assert [g["name"] for g in body["groups"]] == ["b"]
    # The literal 2 is b's too: collapsing b hides it.
    b = body["groups"][0]
    labels = {n["id"]: n["label"] for n in body["nodes"]}
    assert sorted(labels[i] for i in b["nodes"]) == ["*", "2"]
