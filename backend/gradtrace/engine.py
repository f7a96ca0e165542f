"""Forward and backward over the graph, without recursion; records what each edge carried.

Two paths share one graph. When every node holds one number (the common case
in class) values, locals and gradients are Python floats in flat lists, and
each op's scalar rule returns its value together with its local derivatives,
so backward is one multiply-add per edge: [downstream] = [upstream] x [local].
Otherwise every node is a float64 numpy value and backward calls each op's
VJP; the local Jacobians are not built here at all (the trace builds the ones
small enough to send).

Gradients sum at outward branches in exactly one place: the `g + d` into the
source's gradient in backward (a source's first gradient is its downstream number).
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradtrace.graph import Graph, Value
from gradtrace.limits import Deadline, without_gc

# Nodes per slice between two deadline checks: the check is then free per node. The
# scalar backward also fetches each slice's locals before walking it (see there).
_BLOCK = 512


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
        self.locals = locals_  # scalar path only; None on the tensor path
        self.grads = grads
        self.downstream = downstream


def _blocks(items: list[Any], deadline: Deadline) -> list[list[Any]]:
    if not deadline.active or len(items) <= _BLOCK:
        return [items]
    return [items[k : k + _BLOCK] for k in range(0, len(items), _BLOCK)]


def _initial_values(graph: Graph, inputs: Mapping[str, Value]) -> list[Any]:
    """Every node's slot: constants' numbers, inputs' values, ops' placeholders."""
    values: list[Any] = list(graph.constant)
    for name, node in graph.inputs.items():
        values[node] = inputs[name]
    return values


# The scalar passes pause the cyclic collector by hand (see limits.paused_gc for why
# they pause it at all): a trace of a hundred ops lasts a few tens of microseconds, and
# the decorator's wrapper, context manager and their frames were a tenth of that.


def forward_scalar(
    graph: Graph, inputs: Mapping[str, Value], deadline: Deadline
) -> tuple[list[float], list[float]]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        values: list[float] = _initial_values(graph, inputs)
        locals_ = [0.0] * len(graph.edge_source)
        prog = graph.prog
        for block in _blocks(prog, deadline) if len(prog) > _BLOCK else (prog,):
            deadline.check()
            for i, rule, s0, s1, e in block:
                if s1 < 0:
                    values[i], locals_[e] = rule(values[s0])
                else:
                    values[i], locals_[e], locals_[e + 1] = rule(values[s0], values[s1])
        return values, locals_
    finally:
        if enabled:
            gc.enable()


def backward_scalar(
    graph: Graph, locals_: list[float], deadline: Deadline
) -> tuple[list[float], list[float]]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        # Every gradient starts as this one zero object, so `is zero` tells a node's first
        # gradient from a sum (most nodes have one consumer). A first gradient is then the
        # downstream object itself rather than a new float 0.0 + d: `d or zero` is bit for
        # bit 0.0 + d (-0.0 becomes 0.0, a NaN stays the same NaN) and allocates nothing.
        # On large graphs each float that stays alive is a fresh cache line to write.
        zero = 0.0
        grads = [zero] * len(graph.kind)
        grads[graph.output] = 1.0
        downstream = [zero] * len(locals_)
        prog = graph.prog
        reaches = graph.reaches
        if not all(reaches):
            # Nodes that do not reach the output keep gradient 0 and send nothing back.
            prog = [item for item in prog if reaches[item[0]]]
        size = len(prog)
        step = _BLOCK if size > _BLOCK else max(size, 1)
        for stop in range(size, 0, -step):
            if step == size:
                block = prog
            else:
                block = prog[stop - step if stop > step else 0 : stop]
                # The walk reads each local once, a float object the forward pass left
                # somewhere in memory, and the interpreter waits for each in turn; copying
                # the block's locals (a C loop that touches every one) fetches them all
                # at once, and the slice brings the block's op tuples in as well.
                fetched = locals_[block[0][4] : block[-1][4] + 2]
                del fetched
            deadline.check()
            for i, _rule, s0, s1, e in reversed(block):
                upstream = grads[i]
                downstream[e] = d = upstream * locals_[e]
                g = grads[s0]
                grads[s0] = (d or zero) if g is zero else g + d
                if s1 >= 0:
                    e += 1
                    downstream[e] = d = upstream * locals_[e]
                    g = grads[s1]
                    grads[s1] = (d or zero) if g is zero else g + d
        return grads, downstream
    finally:
        if enabled:
            gc.enable()


@without_gc
def forward_tensor(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> list[Any]:
    values = _initial_values(graph, inputs)
    for i, kind in enumerate(graph.kind):
        if kind != "op" and isinstance(values[i], float):
            values[i] = np.float64(values[i])
    deadline.check()
    with np.errstate(all="ignore"):
        for i, op in enumerate(graph.op):
            if op is None:
                continue
            if i % 64 == 0:
                deadline.check()
            values[i] = op.forward(*[values[a] for a in graph.args[i]])
    return values


@without_gc
def backward_tensor(
    graph: Graph, values: list[Any], deadline: Deadline
) -> tuple[list[Any], list[Any]]:
    grads: list[Any] = [None] * graph.size
    grads[graph.output] = np.ones(graph.shape[graph.output])[()]
    downstream: list[Any] = [None] * graph.n_edges
    shapes = graph.shape
    reaches = graph.reaches
    with np.errstate(all="ignore"):
        for i in range(graph.size - 1, -1, -1):
            upstream = grads[i]
            if upstream is None:
                # Nothing downstream of the output uses this node: its gradient is 0.
                upstream = grads[i] = np.zeros(shapes[i])[()]
            op = graph.op[i]
            if op is None:
                continue
            if not reaches[i]:
                # It sends nothing back: a zero, not 0 x (a non-finite local) = NaN.
                e = graph.edge_start[i]
                for k, source in enumerate(graph.args[i]):
                    downstream[e + k] = np.zeros(shapes[source])[()]
                    if grads[source] is None:
                        grads[source] = np.zeros(shapes[source])[()]
                continue
            if i % 64 == 0:
                deadline.check()
            args = graph.args[i]
            parts = op.vjp(upstream, values[i], *[values[a] for a in args])
            e = graph.edge_start[i]
            for k, source in enumerate(args):
                d = parts[k]
                if np.shape(d) != shapes[source]:
                    d = np.broadcast_to(d, shapes[source])
                downstream[e + k] = d
                previous = grads[source]
                grads[source] = d if previous is None else previous + d
    return grads, downstream


def run(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> Run:
    """Forward then backward: values, grads and every edge's downstream (and locals on scalars)."""
    if graph.scalar:
        values, locals_ = forward_scalar(graph, inputs, deadline)
        grads, downstream = backward_scalar(graph, locals_, deadline)
        return Run(values, locals_, grads, downstream)
    values = forward_tensor(graph, inputs, deadline)
    grads_t, downstream_t = backward_tensor(graph, values, deadline)
    return Run(values, None, grads_t, downstream_t)


def output_value(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> float:
    """The output's value only: what the numeric gradient check evaluates many times."""
    if graph.scalar:
        values: list[Any] = forward_scalar(graph, inputs, deadline)[0]
    else:
        values = forward_tensor(graph, inputs, deadline)
    return float(np.reshape(values[graph.output], -1)[0])
