"""The Jacobian of a program's output, by reverse mode and by forward mode, pass by pass.

The lecture opens with the Jacobian: m outputs and n inputs give an m x n
matrix of partial derivatives. One backward pass seeded with e_i (the unit
vector of output element i) gives row i; one tangent pass seeded with e_j
(input element j) gives column j. So reverse mode needs m passes and forward
mode n, and which is cheaper depends on m against n: a loss (m = 1) takes
one backward pass for every gradient at once. Both fill the same matrix,
checked here against central differences.

The passes are the engine's own (engine.backward with a seed, engine.tangents),
after one forward pass; their arithmetic is counted by modes.py. The m backward
passes run as one (`rows_at_once`: every adjoint a stack of m rows, one per
pass), which gives the rows and adjoints that `reverse_passes` gives running
them one by one (bench/findings.md has why). Every pass keeps each node's
adjoint (or tangent) so that the page can step it. The request is priced
before any op runs (cost.jacobian_estimate), and the deadline is checked per
pass and per op.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from gradtrace import modes
from gradtrace.cost import enforce, enforce_passes, jacobian_estimate
from gradtrace.display import display_names
from gradtrace.engine import backward, forward, tangents
from gradtrace.errors import InvalidValueError, SyntaxTraceError
from gradtrace.gradcheck import EPS, H
from gradtrace.graph import Graph, build_graph, is_data, mark_constants
from gradtrace.jsonform import json_number, json_value
from gradtrace.limits import Deadline, Limits, without_gc
from gradtrace.ops import Op, known_operands, tangent_sum
from gradtrace.parser import parse
from gradtrace.trace import node_records
from gradtrace.values import Value, coerce_values

MODES = ("reverse", "forward")


class Jacobian:
    """The Jacobian of one program at its values: `matrix` (m x n), `blocks`, the passes, the costs.

    `to_dict()` is the JSON body of POST /api/v1/jacobian.
    """

    def __init__(
        self,
        graph: Graph,
        inputs: Mapping[str, Value],
        values: list[Any],
        reverse: tuple[np.ndarray, list[list[Any]]] | None,
        forwards: tuple[np.ndarray, list[list[Any]]] | None,
        numeric: np.ndarray,
        costs: modes.Costs,
        deadline: Deadline,
    ) -> None:
        self.graph = graph
        self.inputs = inputs
        self.values = values
        # Per pass, every node's adjoint (reverse) or tangent (forward), None where none.
        self.adjoints = None if reverse is None else reverse[1]
        self.tangents = None if forwards is None else forwards[1]
        # Each mode's own matrix (rows of one, columns of the other), None if it did not run.
        self.by_rows = None if reverse is None else reverse[0]
        self.by_columns = None if forwards is None else forwards[0]
        # The matrix is reverse mode's when it was asked for, else forward mode's.
        made = reverse if reverse is not None else forwards
        assert made is not None
        matrix = made[0]
        self.matrix = matrix
        self.numeric = numeric
        # How far the two modes' matrices are apart when both were asked for (rounding only).
        self.modes_difference: float | None = None
        if reverse is not None and forwards is not None:
            with np.errstate(all="ignore"):
                apart = np.abs(reverse[0] - forwards[0])
            self.modes_difference = float(np.max(apart)) if apart.size else 0.0
        self.costs = costs
        self.deadline = deadline
        self.output_shape = graph.shape[graph.output]
        self.columns = columns(graph)
        self.m = math.prod(self.output_shape)
        self.n = sum(size for _, _, _, _, size in self.columns)
        # Per input: its block of the matrix in the shape convention (output shape + input shape).
        self.blocks: dict[str, np.ndarray] = {
            name: matrix[:, offset : offset + size].reshape(self.output_shape + shape)
            for name, _, shape, offset, size in self.columns
        }
        with np.errstate(all="ignore"):
            error = np.abs(matrix - numeric)
            self.max_abs_error = float(np.max(error)) if error.size else 0.0
            scale = float(np.max(np.abs(matrix))) if matrix.size else 0.0
            out = np.asarray(values[graph.output])
            level = float(np.max(np.abs(out))) if out.size else 0.0
            rounding = 4.0 * EPS * level if math.isfinite(level) else 0.0
            x_scale = max([1.0] + [float(np.max(np.abs(inputs[name]))) for name, *_ in self.columns])
        # As the gradient check: room for the rounding of f itself (eps |f| / h).
        self.tolerance = 1e-5 + 1e-4 * scale + rounding / (H * x_scale)
        self.ok = math.isfinite(self.max_abs_error) and self.max_abs_error <= self.tolerance

    @property
    def cheaper(self) -> str:
        return modes.cheaper(self.costs)[0]

    @without_gc
    def _reverse_dict(self) -> dict[str, Any] | None:
        if self.adjoints is None:
            return None
        passes = []
        for i, adjoints in enumerate(self.adjoints):
            self.deadline.check()
            passes.append(
                {
                    "index": i,
                    "seed": _element(self.output_shape, i),
                    "row": json_value(self.matrix[i]),
                    "adjoints": _per_node(adjoints),
                }
            )
        return {"passes": passes}

    def _forward_dict(self) -> dict[str, Any] | None:
        if self.tangents is None or self.by_columns is None:
            return None
        seeds = [
            (name, node, flat, shape) for name, node, shape, _, size in self.columns for flat in range(size)
        ]
        passes = []
        for j, (tangent, (name, node, flat, shape)) in enumerate(zip(self.tangents, seeds, strict=True)):
            self.deadline.check()
            passes.append(
                {
                    "index": j,
                    "input": name,
                    "node": f"n{node}",
                    "seed": _element(shape, flat),
                    "column": json_value(self.by_columns[:, j]),
                    "tangents": _per_node(tangent),
                }
            )
        return {"passes": passes}

    def to_dict(self) -> dict[str, Any]:
        """Exactly the JSON body of POST /api/v1/jacobian."""
        g = self.graph
        check_time = self.deadline.check
        ids = [f"n{i}" for i in range(g.size)]
        values = [json_value(v) for v in self.values]
        shapes = [list(s) for s in g.shape]
        nodes = node_records(g, ids, values, None, shapes, display_names(g))
        edges = [
            {"id": f"e{e}", "source": ids[source], "target": ids[target], "index": index}
            for e, (source, target, index) in enumerate(
                zip(g.edge_source, g.edge_target, g.edge_index, strict=True)
            )
        ]
        check_time()
        costs = self.costs
        f = costs.forward
        mode, why = modes.cheaper(costs)
        body: dict[str, Any] = {
            "expression": g.expression,
            "nodes": nodes,
            "edges": edges,
            "output": ids[g.output],
            "output_shape": list(self.output_shape),
            "value": json_value(self.values[g.output]),
            "inputs": [
                {"name": name, "node": ids[node], "shape": list(shape), "offset": offset, "size": size}
                for name, node, shape, offset, size in self.columns
            ],
            "m": self.m,
            "n": self.n,
            "jacobian": json_value(self.matrix),
            "blocks": {name: json_value(block) for name, block in self.blocks.items()},
            "reverse": self._reverse_dict(),
            "forward": self._forward_dict(),
            "costs": {
                "forward": modes.work_dict(f, f, 1),
                "backward_pass": modes.work_dict(costs.backward_pass, f, 1),
                "reverse": modes.work_dict(costs.reverse, f, costs.m),
                "separately": modes.work_dict(costs.separately, f, costs.m * costs.inputs),
                "forward_mode": modes.work_dict(costs.forward_mode, f, costs.n),
                "conclusion": modes.conclusion(costs),
            },
            "repeated": {ids[node]: times for node, times in costs.repeated.items()},
            "cheaper": mode,
            "why": why,
            "check": {
                "numeric": json_value(self.numeric),
                "max_abs_error": json_number(self.max_abs_error),
                "ok": bool(self.ok),
                "tolerance": json_number(self.tolerance),
                "evaluations": 2 * self.n,
                "modes_max_abs_difference": (
                    None if self.modes_difference is None else json_number(self.modes_difference)
                ),
            },
        }
        check_time()
        return body


def columns(graph: Graph) -> list[tuple[str, int, tuple[int, ...], int, int]]:
    """The Jacobian's columns by input, in order: (name, node, shape, offset, size)."""
    result = []
    offset = 0
    for name, node in modes.variables(graph):
        shape = graph.shape[node]
        size = math.prod(shape)
        result.append((name, node, shape, offset, size))
        offset += size
    return result


def _unit(shape: tuple[int, ...], flat: int, scalar: bool) -> Any:
    """e_flat in `shape`: 1.0 on a scalar graph, else a float64 array (or numpy scalar)."""
    if scalar:
        return 1.0
    seed = np.zeros(shape)
    seed.reshape(-1)[flat] = 1.0
    return seed[()]


def _element(shape: tuple[int, ...], flat: int) -> list[int]:
    return [int(k) for k in np.unravel_index(flat, shape)] if shape else []


def _flat(value: Any, size: int) -> np.ndarray:
    """A gradient or tangent as a flat row of `size` numbers (None: zeros)."""
    if value is None:
        return np.zeros(size)
    return np.reshape(np.asarray(value, dtype=np.float64), -1)


def _kept(numbers: Sequence[Any], shown: list[bool]) -> list[Any]:
    """Each node's adjoint or tangent where the pass gives one to show, else None.

    Only these are kept: a data node's gradient (dW for a constant W) can be far larger
    than everything else, and nothing reads it.
    """
    return [v if keep else None for v, keep in zip(numbers, shown, strict=True)]


def _per_node(numbers: list[Any]) -> list[Any]:
    """Each node's adjoint or tangent as JSON, null where the pass gives it none."""
    return [None if v is None else json_value(v) for v in numbers]


def with_locals(graph: Graph, values: list[Any]) -> Graph:
    """The graph whose one-input elementwise ops carry their local, computed once from the
    forward pass's values, so that each of the many passes multiplies by it instead of
    computing it again (as the scalar path keeps its locals). The numbers are the same:
    the op's VJP is upstream x local(out, a), its JVP local(out, a) x tangent."""
    if graph.scalar:
        return graph  # the scalar rule's locals are kept already
    ops = []
    for node, op, args, e in graph.ops:
        rule = op.extra.get("local")
        if rule is not None:
            with np.errstate(all="ignore"):
                local = rule(values[node], values[args[0]])
            op = dataclasses.replace(
                op,
                vjp=lambda g, out, a, local=local: (g * local,),
                jvp=lambda t, out, a, local=local: tangent_sum(out, None if t[0] is None else local * t[0]),
            )
        ops.append((node, op, args, e))
    return dataclasses.replace(graph, ops=ops)


def reverse_passes(
    graph: Graph, values: list[Any], locals_: list[float] | None, deadline: Deadline
) -> tuple[np.ndarray, list[list[Any]]]:
    """Row i of the Jacobian from one backward pass seeded with e_i, for every output element i;
    and each pass's adjoints (node by node). The engine's passes one by one, as the lecture
    runs them: what `rows_at_once` must give."""
    cols = columns(graph)
    out_shape = graph.shape[graph.output]
    m = math.prod(out_shape)
    n = sum(c[4] for c in cols)
    rows = np.zeros((m, n))
    # A pass sends each node's adjoint where it reaches the output and is not data.
    shown = [r and not is_data(graph, i) for i, r in enumerate(graph.reaches)]
    passes = []
    for i in range(m):
        deadline.check()
        grads, _ = backward(graph, values, locals_, deadline, _unit(out_shape, i, graph.scalar))
        for _, node, _, offset, size in cols:
            rows[i, offset : offset + size] = _flat(grads[node], size)
        passes.append(_kept(grads, shown))
    return rows, passes


def rows_at_once(
    graph: Graph, values: list[Any], locals_: list[float] | None, deadline: Deadline
) -> tuple[np.ndarray, list[list[Any]]]:
    """What `reverse_passes` gives (every row, every pass's adjoints), from one backward pass
    seeded with all m unit vectors at once: the m x m identity, row i being pass i's seed.

    The engine's loop, with every adjoint carrying a leading axis of m rows, so that each
    op's VJP runs once for the m passes (its "rows_vjp"; an op without one runs its VJP row
    by row). Row i of every adjoint is what pass i alone gives. Two savings a pass alone
    cannot make, since a trace sends every node's gradient: nothing is sent along an edge
    whose source is data or does not reach the output (W's gradient dW in W @ x, as large
    as W, is never computed), and no zero is made for a node that gets nothing. On scalar
    graphs (one output number, one pass) the engine's own pass runs.
    """
    if graph.scalar:
        return reverse_passes(graph, values, locals_, deadline)
    out_shape = graph.shape[graph.output]
    m = math.prod(out_shape)
    shown = [r and not is_data(graph, i) for i, r in enumerate(graph.reaches)]
    grads: list[Any] = [None] * graph.size  # None: no pass sends this node anything
    grads[graph.output] = np.eye(m).reshape((m, *out_shape))
    with np.errstate(all="ignore"):
        for node, op, args, _ in reversed(graph.ops):  # reverse topological order
            wanted = tuple(shown[a] for a in args)
            if not shown[node] or not any(wanted):
                continue
            deadline.check()
            downstream = _rows_vjp(op, grads[node], node, args, values, wanted, graph)
            for source, d in zip(args, downstream, strict=True):
                if d is not None:  # gradients sum at outward branches (never in place: d may be shared)
                    grads[source] = d if grads[source] is None else grads[source] + d
    kept = [(k, grad) for k, grad in enumerate(grads) if shown[k] and grad is not None]
    for _, grad in kept:
        # As the engine's sums from a zero gradient, where a -0.0 downstream reads 0.0. In
        # place: each adjoint is an array this pass made (ops.unbroadcast_rows), or the seed.
        np.add(grad, 0.0, out=grad)
    rows = np.zeros((m, sum(c[4] for c in columns(graph))))
    for _, node, _, offset, size in columns(graph):
        if grads[node] is not None:
            rows[:, offset : offset + size] = np.reshape(grads[node], (m, size))
    passes = []
    for i in range(m):
        deadline.check()
        adjoints: list[Any] = [None] * graph.size
        for k, grad in kept:
            adjoints[k] = grad[i]
        passes.append(adjoints)
    return rows, passes


def _rows_vjp(
    op: Op, upstream: Any, node: int, args: tuple[int, ...], values: list[Any], wanted: tuple[bool, ...], graph: Graph
) -> Sequence[Any]:
    """One node's downstream rows for its m upstream rows (None where not wanted): the op's
    rows VJP (ops.unbroadcast_rows says what it is), else its VJP row by row."""
    out, operands = values[node], [values[a] for a in args]
    rule = op.extra.get("rows_vjp")
    if rule is not None:
        rows: Sequence[Any] = rule(wanted, upstream, out, *operands)
        return rows
    per_row = [op.vjp(g, out, *operands) for g in upstream]
    return [
        np.stack([np.broadcast_to(row[k], graph.shape[a]) for row in per_row]) if wanted[k] else None
        for k, a in enumerate(args)
    ]


def forward_passes(
    graph: Graph, values: list[Any], locals_: list[float] | None, deadline: Deadline
) -> tuple[np.ndarray, list[list[Any]]]:
    """Column j of the Jacobian from one tangent pass seeded with e_j, for every input element j;
    and each pass's tangents (node by node)."""
    cols = columns(graph)
    m = math.prod(graph.shape[graph.output])
    n = sum(c[4] for c in cols)
    # Filled a column at a time, so held as columns (rows of its transpose): each write is contiguous.
    by_columns = np.zeros((n, m))
    passes = []
    j = 0
    for _, node, shape, _, size in cols:
        for flat in range(size):
            deadline.check()
            tangent = tangents(graph, values, locals_, {node: _unit(shape, flat, graph.scalar)}, deadline)
            by_columns[j] = _flat(tangent[graph.output], m)
            passes.append(tangent)  # None already where the seed or the output does not reach
            j += 1
    return by_columns.T, passes


def numeric_jacobian(graph: Graph, inputs: Mapping[str, Value], deadline: Deadline) -> np.ndarray:
    """Central differences of every output element for every input element: 2n forward passes."""
    cols = columns(graph)
    m = math.prod(graph.shape[graph.output])
    matrix = np.zeros((m, sum(c[4] for c in cols)))
    shifted = dict(inputs)
    j = 0
    for name, _, shape, _, size in cols:
        original = inputs[name]
        work = np.array(original, dtype=np.float64)
        for flat in range(size):
            deadline.check()
            x = float(work.reshape(-1)[flat])
            h = H * max(1.0, abs(x)) if math.isfinite(x) else H
            sides = []
            for step in (h, -h):
                moved = work.copy()
                moved.reshape(-1)[flat] = x + step
                shifted[name] = float(moved) if not shape else moved
                out, _ = forward(graph, shifted, deadline)
                sides.append(_flat(out[graph.output], m))
            with np.errstate(all="ignore"):
                matrix[:, j] = (sides[0] - sides[1]) / (2.0 * h)
            j += 1
        shifted[name] = original
    return matrix


def _modes(wanted: Iterable[str] | None) -> tuple[bool, bool]:
    if wanted is None:
        return True, True
    if isinstance(wanted, str):
        raise InvalidValueError('modes must be a list, such as ["reverse", "forward"], not one string')
    chosen = list(wanted)
    unknown = [mode for mode in chosen if mode not in MODES]
    if unknown or not chosen:
        raise InvalidValueError(
            f"modes must be a non-empty list of \"reverse\" and \"forward\"; got {chosen!r}"
        )
    return "reverse" in chosen, "forward" in chosen


def prepare(
    expression: str, values: Mapping[str, Any], constants: Iterable[str], limits: Limits
) -> tuple[Graph, dict[str, Value]]:
    """Parse and lower a program whose output may hold many numbers, its data marked."""
    if not isinstance(expression, str):
        raise SyntaxTraceError("the expression must be a string")
    program = parse(expression, limits.max_depth, limits.max_statements, limits.max_expression_length)
    inputs = coerce_values(program, values, limits)
    graph = build_graph(expression, program, inputs, limits, vector_output=True)
    if isinstance(constants, str):
        raise InvalidValueError("constants must be a list of input names, not one string")
    mark_constants(graph, constants, inputs)
    return graph, inputs


@without_gc
def jacobian(
    expression: str,
    values: Mapping[str, Any],
    constants: Iterable[str] = (),
    modes_: Iterable[str] | None = None,
    limits: Limits | None = None,
) -> Jacobian:
    """The Jacobian of the program's output with respect to every input that is not data.

    `modes_` picks "reverse" (m backward passes), "forward" (n tangent passes) or
    both (None, the default); the matrix is reverse mode's when it was asked for.
    """
    reverse, forward_mode = _modes(modes_)
    applied = limits if limits is not None else Limits.unlimited()
    deadline = applied.deadline()
    graph, inputs = prepare(expression, values, constants, applied)
    m = math.prod(graph.shape[graph.output])
    n = sum(size for *_, size in columns(graph))
    enforce_passes((m if reverse else 0) + (n if forward_mode else 0), applied)
    # The counting walks the graph once per input: within the numeric check's bound (2n
    # passes of at least its nodes), so it is priced before it runs too.
    enforce(jacobian_estimate(graph, n, reverse, forward_mode), applied)
    counted = modes.count(graph, deadline)

    node_values, locals_ = forward(graph, inputs, deadline)  # fprop once; every pass reuses it
    linear = with_locals(graph, node_values)
    with known_operands(node_values):  # the passes only read the values: scan each once
        by_rows = rows_at_once(graph, node_values, locals_, deadline) if reverse else None
        by_columns = forward_passes(linear, node_values, locals_, deadline) if forward_mode else None
    numeric = numeric_jacobian(graph, inputs, deadline)
    return Jacobian(graph, inputs, node_values, by_rows, by_columns, numeric, counted, deadline)
