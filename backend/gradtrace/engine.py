"""Forward and backward over the graph, as the lecture's `ComputationalGraph` runs them.

    for node in order:                    # fprop: topological order
        value[node] = op(node).forward(*values of its inputs)
    grad[output] = 1                      # or e_i, for row i of a Jacobian
    for node in reversed(order):          # bprop: reverse order
        for edge in inputs(node):
            edge.downstream = upstream x local          # op(node)'s vjp
            grad[edge.source] += edge.downstream        # gradients sum at outward branches

Forward mode is the fprop loop again with a tangent beside each value: the
seeded input's tangent is e_j, every other input's none, and

    for node in order:                    # topological order, values known
        tangent[node] = sum over edges of local x tangent[edge.source]   # op(node)'s jvp

so one tangent pass gives column j of the Jacobian, as one backward pass
gives a row. All three loops are written once, below. Scalar and tensor
graphs differ only in how an op is applied (`apply_op`), how a node's
downstream gradients are computed (`backprop_op`) and how its tangent is
(`tangent_op`): when every node holds one number, values, locals, gradients
and tangents are Python floats, the op's scalar rule returns its value
together with its local derivatives, and each downstream or tangent term is
one multiply; otherwise values are float64 numpy arrays, the downstream is
the op's VJP and the tangent its JVP, neither of which builds the local
Jacobian (the record builds the ones small enough to send). No loop
recurses, so a 100,000-node chain is no deeper for Python than a 3-node one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradtrace.graph import Graph
from gradtrace.limits import Deadline
from gradtrace.ops import Op
from gradtrace.values import Value


class Run:
    """The numbers of one forward and backward pass, indexed by node and by edge."""

    __slots__ = ("values", "locals", "grads", "downstream")

    def __init__(
        self,
        values: list[Any],
        locals_: list[float] | None,
        grads: list[Any],
        downstream: list[Any],
    ) -> None:
        self.values = values
        self.locals = locals_  # per edge, scalar graphs only; None on tensors
        self.grads = grads
        self.downstream = downstream


def _initial_values(graph: Graph, inputs: Mapping[str, Value]) -> list[Any]:
    """Every node's slot: constants' numbers, inputs' values, ops' placeholders."""
    values: list[Any] = list(graph.constant)
    for name, node in graph.inputs.items():
        values[node] = inputs[name]
    if not graph.scalar:
        values = [np.float64(v) if type(v) is float else v for v in values]
    return values


def _zeros(graph: Graph, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """A zero of each shape: Python floats on scalar graphs, numpy values otherwise."""
    if graph.scalar:
        return [0.0] * len(shapes)
    return [np.zeros(shape)[()] for shape in shapes]


def apply_op(op: Op, args: tuple[int, ...], e: int, values: list[Any], locals_: list[float] | None) -> Any:
    """fprop of one node: its value; on scalars also each input edge's local, into locals_[e:].

    The one place where the forward pass applies an op.
    """
    if locals_ is None:
        return op.forward(*[values[a] for a in args])
    assert op.scalar is not None
    # The scalar rule gives the value and the local derivatives in one call. Ops
    # take one or two arguments, and naming the two cases keeps this call, made
    # once per op, free of a generic *-unpacking (bench/findings.md has the cost).
    if len(args) == 1:
        value, locals_[e] = op.scalar(values[args[0]])
    else:
        value, locals_[e], locals_[e + 1] = op.scalar(values[args[0]], values[args[1]])
    return value


def backprop_op(
    op: Op,
    upstream: Any,
    node: int,
    args: tuple[int, ...],
    e: int,
    values: list[Any],
    locals_: list[float] | None,
) -> Sequence[Any]:
    """bprop of one node: per input edge, [downstream] = [upstream] x [local].

    The one place where the backward pass applies an op. On tensors the op's
    VJP computes the product without building the local Jacobian.
    """
    if locals_ is None:
        return op.vjp(upstream, values[node], *[values[a] for a in args])
    if len(args) == 1:
        return (upstream * locals_[e],)
    return (upstream * locals_[e], upstream * locals_[e + 1])


def tangent_op(
    op: Op,
    tangents: Sequence[Any],
    node: int,
    args: tuple[int, ...],
    e: int,
    values: list[Any],
    locals_: list[float] | None,
) -> Any:
    """One node of a tangent pass: sum over its input edges of [local] x [tangent] (None: none).

    The one place where forward mode applies an op. On tensors the op's JVP
    computes the sum without building the local Jacobian.
    """
    if locals_ is None:
        assert op.jvp is not None
        return op.jvp(tangents, values[node], *[values[a] for a in args])
    total = 0.0
    for k, t in enumerate(tangents):
        if t is not None:
            total += locals_[e + k] * t
    return total


def forward(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> tuple[list[Any], list[float] | None]:
    """Every node's value, in topological order (and on scalars every edge's local)."""
    values = _initial_values(graph, inputs)
    locals_ = [0.0] * graph.n_edges if graph.scalar else None
    with np.errstate(all="ignore"):
        for node, op, args, e in graph.ops:  # topological order
            deadline.check()
            values[node] = apply_op(op, args, e, values, locals_)
    return values, locals_


def backward(
    graph: Graph,
    values: list[Any],
    locals_: list[float] | None,
    deadline: Deadline,
    seed: Any = None,
) -> tuple[list[Any], list[Any]]:
    """Every node's gradient and every edge's downstream, in reverse topological order.

    `seed` is the output's own gradient: 1 (None) for a one-number output, or e_i,
    the unit vector of output element i, for row i of a Jacobian.
    """
    grads = _zeros(graph, graph.shape)
    if seed is not None:
        grads[graph.output] = seed
    else:
        grads[graph.output] = 1.0 if graph.scalar else np.ones(graph.shape[graph.output])[()]
    downstream = _zeros(graph, [graph.shape[source] for source in graph.edge_source])
    reaches = graph.reaches
    with np.errstate(all="ignore"):
        for node, op, args, e in reversed(graph.ops):  # reverse topological order
            if not reaches[node]:
                continue  # it sends nothing back: its gradient is 0, not 0 x (a local) = NaN
            deadline.check()
            upstream = grads[node]
            for k, d in enumerate(backprop_op(op, upstream, node, args, e, values, locals_)):
                source = args[k]
                downstream[e + k] = d
                grads[source] = grads[source] + d  # gradients sum at outward branches
    return grads, downstream


def tangents(
    graph: Graph,
    values: list[Any],
    locals_: list[float] | None,
    seeds: Mapping[int, Any],
    deadline: Deadline,
) -> list[Any]:
    """Every node's tangent in one forward-mode pass, in topological order.

    `seeds` gives the tangent of the seeded inputs (e_j for column j of a Jacobian);
    every other input carries none (None), and so does every node that no seeded
    input reaches or that does not reach the output: it is skipped, as the
    backward pass skips what does not reach the output.
    """
    tangent: list[Any] = [None] * graph.size
    for node, seed in seeds.items():
        tangent[node] = seed
    reaches = graph.reaches
    with np.errstate(all="ignore"):
        for node, op, args, e in graph.ops:  # topological order: a tangent beside each value
            incoming = [tangent[a] for a in args]
            if not reaches[node] or all(t is None for t in incoming):
                continue  # the output does not need it, or nothing seeded reaches it
            deadline.check()
            tangent[node] = tangent_op(op, incoming, node, args, e, values, locals_)
    return tangent


def run(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> Run:
    """Forward then backward: values, grads and every edge's downstream (and locals on scalars)."""
    values, locals_ = forward(graph, inputs, deadline)
    grads, downstream = backward(graph, values, locals_, deadline)
    return Run(values, locals_, grads, downstream)


def output_value(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> float:
    """The output's value only: what the numeric gradient check evaluates many times."""
    values, _ = forward(graph, inputs, deadline)
    return float(np.reshape(values[graph.output], -1)[0])
