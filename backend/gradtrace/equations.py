"""The lowered graph as a list of equations, one line per node, in topological order.

    x = input
    y = input
    n2 = add(x, y)
    n3 = constant 2
    f = mul(n2, n3)

A node is written by the name it was given or assigned to, else by its id;
tensors carry their shape as a comment (`W = input  # [2, 3]`). It is what
`gradtrace trace --equations` prints and what the tests show when a trace
breaks an invariant: the program as the engine sees it, after lowering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gradtrace.graph import Graph
from gradtrace.ops import show_param, show_shape


def _lines(
    names: Sequence[str | None],
    kinds: Sequence[str],
    ops: Sequence[str | None],
    labels: Sequence[str],
    args: Sequence[Sequence[int]],
    shapes: Sequence[Sequence[int]],
    params: Sequence[Sequence[str]] | None = None,
) -> list[str]:
    refs = [name if name is not None else f"n{i}" for i, name in enumerate(names)]
    lines = []
    for i, (kind, op, shape) in enumerate(zip(kinds, ops, shapes, strict=True)):
        if op is not None:
            parts = [refs[a] for a in args[i]] + list(params[i] if params else ())
            right = f"{op}({', '.join(parts)})"
        elif kind == "input":
            right = "input"
        else:
            right = f"constant {labels[i]}"
        line = f"{refs[i]} = {right}"
        lines.append(f"{line}  # {show_shape(tuple(shape))}" if shape else line)
    return lines


def equations(graph: Graph) -> list[str]:
    """One equation per node: `name = input`, `n3 = constant 2`, `z = matmul(W, x)`,
    a static parameter as a keyword: `s = sum_axis(A, axis=0)`, `n2 = index(p, index=[0, :])`."""
    ops = [op.name if op is not None else None for op in graph.op]
    params = [
        [f"{k}=[{show_param(v)}]" if isinstance(v, tuple) else f"{k}={v}" for k, v in op.params.items()]
        if op is not None
        else []
        for op in graph.op
    ]
    return _lines(graph.name, graph.kind, ops, graph.label, graph.args, graph.shape, params)


def trace_equations(trace: dict[str, Any]) -> list[str]:
    """The same equations, read back from a trace's JSON body (nodes and edges)."""
    index = {node["id"]: i for i, node in enumerate(trace["nodes"])}
    args: list[list[int]] = [[] for _ in trace["nodes"]]
    for edge in sorted(trace["edges"], key=lambda e: e["index"]):
        args[index[edge["target"]]].append(index[edge["source"]])
    nodes = trace["nodes"]
    return _lines(
        [n["name"] for n in nodes], [n["kind"] for n in nodes], [n["op"] for n in nodes],
        [n["label"] for n in nodes], args, [n["shape"] for n in nodes],
    )


def format_equations(graph: Graph) -> str:
    """The equations as text, one per line, the output marked."""
    lines = equations(graph)
    if 0 <= graph.output < len(lines):
        lines[graph.output] += "  <- output"
    return "\n".join(lines)
