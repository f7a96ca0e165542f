"""Node and edge numbers come from one shared table of ints (memory locality for backward)."""

from __future__ import annotations

import gradtrace
from gradtrace import graph as graph_module


def _program(n: int) -> tuple[str, dict[str, float]]:
    lines = ["v0 = x * y"] + [f"v{i} = tanh(v{i - 1}) + x" if i % 2 else f"v{i} = v{i - 1} * y" for i in range(1, n)]
    return "\n".join(lines), {"x": 0.5, "y": -1.5}


def test_every_number_in_the_op_program_is_the_shared_tables_object() -> None:
    text, values = _program(300)
    graph = gradtrace.trace(text, values).graph
    table = graph_module._numbers(graph.n_edges + graph.size)
    for node, _rule, s0, s1, e in graph.prog:
        assert node is table[node] and e is table[e] and s0 is table[s0]
        assert s1 < 0 or s1 is table[s1]
    assert all(source is table[source] for source in graph.edge_source)


def test_the_table_grows_past_its_size_and_keeps_each_number_at_its_place() -> None:
    before = graph_module._numbers(0)
    wanted = len(before) + 10
    text, values = _program(wanted)
    graph = gradtrace.trace(text, values).graph
    table = graph_module._numbers(0)
    assert len(table) > graph.n_edges
    assert table == list(range(len(table)))
    # The table that was replaced still holds the right numbers for a reader that kept it.
    assert before == list(range(len(before)))
