"""Lower a syntax tree to a graph: inputs, constants and op nodes in topological order.

The graph is a set of flat lists indexed by node number (no object per node),
so forward and backward are plain loops. Shapes are inferred here, before
anything is computed, so a shape error or an intermediate that is too large
is refused at its place in the expression before any memory is spent. The
walk over the tree is iterative: a chain x + x + ... + x of 100,000 terms is
a deep tree, and Python's stack must not follow it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradtrace.errors import (
    AssignmentError,
    InvalidValueError,
    OutputNotScalarError,
    ShapeError,
    TraceError,
    UndefinedNameError,
    limit_exceeded,
    together,
)
from gradtrace.limits import Limits
from gradtrace.ops import (
    BINARY,
    CONSTANTS,
    OPS,
    POSTFIX,
    UNARY,
    Op,
    Shape,
    ShapeMismatch,
    bind,
    show_shape,
)
from gradtrace.syntax import (
    Assign,
    Binary,
    Call,
    Def,
    Expr,
    Index,
    Name,
    Num,
    Program,
    Span,
    Transpose,
    Unary,
    children,
    free_names,
    index_text,
)
from gradtrace.values import Value


@dataclass
class Group:
    """The nodes one statement, or one call of a def, made: the page can draw them as one box.

    `members` are the op and constant nodes lowered for the statement, in order;
    `inputs` the nodes outside it that its members read (inputs, earlier
    statements); `output` the node the statement computes.
    """

    kind: str  # "statement", or "call": one call of a function the program defines
    name: str | None  # the assigned name (None for a bare expression), or the function's
    span: Span
    members: list[int]
    inputs: list[int]
    output: int


@dataclass
class Graph:
    """Flat, numbered nodes and edges; edges of node i are edge_start[i] .. + arity - 1."""

    expression: str
    kind: list[str] = field(default_factory=list)  # "input" | "constant" | "op"
    op: list[Op | None] = field(default_factory=list)
    args: list[tuple[int, ...]] = field(default_factory=list)
    name: list[str | None] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    span: list[Span] = field(default_factory=list)
    shape: list[Shape] = field(default_factory=list)
    constant: list[float] = field(default_factory=list)  # value of a constant node, else 0.0
    edge_start: list[int] = field(default_factory=list)
    edge_source: list[int] = field(default_factory=list)
    edge_target: list[int] = field(default_factory=list)
    edge_index: list[int] = field(default_factory=list)
    # The op nodes in topological order, for the engine's loops: (node, op, args, first edge).
    ops: list[tuple[int, Op, tuple[int, ...], int]] = field(default_factory=list)
    inputs: dict[str, int] = field(default_factory=dict)  # input name -> node
    unused_values: list[str] = field(default_factory=list)  # given in values, never used
    unused_shapes: dict[str, Shape] = field(default_factory=dict)
    output: int = -1
    reaches: list[bool] = field(default_factory=list)  # whether each node reaches the output
    # Inputs the request names as constants: data like the literals, needing no gradient.
    constant_inputs: set[int] = field(default_factory=set)
    # Inputs read as an index (p[y]): data read when lowering, not nodes; name -> first span.
    index_inputs: dict[str, Span] = field(default_factory=dict)
    scalar: bool = True  # every node holds one number: the fast path applies
    total_elements: int = 0
    # The statements as groups the page can collapse (see Group); inputs belong to none.
    groups: list[Group] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.kind)

    @property
    def n_edges(self) -> int:
        return len(self.edge_source)


def is_data(graph: Graph, i: int) -> bool:
    """Whether node i is data: a number literal, or an input the request names as a constant.

    Data needs no gradient. The engine still computes one for it (version 1 keeps
    every node's `grad`), but nothing reads it: no warning, no drawing, no check.
    """
    return graph.kind[i] == "constant" or i in graph.constant_inputs


def data_nodes(graph: Graph) -> list[int]:
    """Every node that is data (see is_data), in order."""
    named = graph.constant_inputs
    return [i for i, kind in enumerate(graph.kind) if kind == "constant" or i in named]


def data_edges(graph: Graph) -> list[int]:
    """Every edge whose source is data: no gradient is sent along it to anything that reads one."""
    data = set(data_nodes(graph))
    if not data:
        return []
    return [e for e, source in enumerate(graph.edge_source) if source in data]


def mark_constants(graph: Graph, names: Iterable[str], values: Mapping[str, Value]) -> None:
    """Record which inputs the request names as constants; refuse names that are not inputs."""
    for name in names:
        if name in graph.inputs:
            graph.constant_inputs.add(graph.inputs[name])
        elif name in values:
            continue  # given but unused: data that nothing reads
        elif name in graph.name:
            raise InvalidValueError(
                f"'{name}' is named in constants but the program computes it: "
                "only inputs (names given in values) can be constants"
            )
        else:
            raise InvalidValueError(
                f"'{name}' is named in constants but has no value: give it in values"
            )


def reachability(graph: Graph) -> list[bool]:
    """Whether each node reaches the output (one reverse sweep, no recursion).

    Backward visits only these: a statement the output never uses must not send
    0 x (a non-finite local) = NaN into its inputs' gradients.
    """
    reaches = [False] * graph.size
    reaches[graph.output] = True
    args = graph.args
    for i in range(graph.output, -1, -1):
        if reaches[i]:
            for a in args[i]:
                reaches[a] = True
    return reaches


# ---------------------------------------------------------------------------
# Lowering
# ---------------------------------------------------------------------------


#: Calls of the program's functions nested this deep are refused (each level is one Python call).
MAX_CALL_DEPTH = 64


class _Builder:
    def __init__(self, graph: Graph, values: Mapping[str, Value], limits: Limits) -> None:
        self.g = graph
        self.values = values
        self.limits = limits
        self.env: dict[str, int] = {}
        # How deep calls of the program's functions are nested now (each is lowered inline).
        self.calls = 0
        self.defs: dict[str, Def] = {}
        # Every input without a value, found before lowering so that all are reported at once.
        self.missing: dict[str, UndefinedNameError] = {}
        # Without size limits a scalar node needs no accounting at all (the common case).
        self.checking = (
            limits.max_nodes is not None
            or limits.max_tensor_elements is not None
            or limits.max_total_elements is not None
        )

    def check_size(self, shape: Shape, span: Span, args: tuple[int, ...] = ()) -> None:
        g = self.g
        limits = self.limits
        if limits.max_nodes is not None and len(g.kind) >= limits.max_nodes:
            raise limit_exceeded(
                "max_nodes", "the number of nodes", f"over {limits.max_nodes}", limits.max_nodes, span
            )
        size = math.prod(shape)
        if limits.max_tensor_elements is not None and size > limits.max_tensor_elements:
            raise limit_exceeded(
                "max_tensor_elements",
                f"the result here ({show_shape(shape)})",
                f"{size} numbers",
                limits.max_tensor_elements,
                span,
            )
        # The work of a request is every number its trace holds: each node's value and
        # gradient, and each input edge's upstream (this node's size) and downstream
        # (the input's size). So a trace too large to send is refused before computing.
        shapes = g.shape
        g.total_elements += 2 * size + sum(size + math.prod(shapes[a]) for a in args)
        if limits.max_total_elements is not None and g.total_elements > limits.max_total_elements:
            raise limit_exceeded(
                "max_total_elements",
                "the numbers this trace holds up to here (values, gradients, upstream, downstream)",
                f"{g.total_elements}",
                limits.max_total_elements,
                span,
            )

    def add_node(
        self,
        kind: str,
        op: Op | None,
        args: tuple[int, ...],
        label: str,
        span: Span,
        shape: Shape,
        name: str | None = None,
        constant: float = 0.0,
        where: Span | None = None,
    ) -> int:
        g = self.g
        if shape:
            g.scalar = False
            self.check_size(shape, where or span, args)
        elif self.checking:
            # A limit is reported at the operator that would build the node, like a shape error.
            self.check_size(shape, where or span, args)
        index = len(g.kind)
        first_edge = len(g.edge_source)
        g.kind.append(kind)
        g.op.append(op)
        g.args.append(args)
        g.name.append(name)
        g.label.append(label)
        g.span.append(span)
        g.shape.append(shape)
        g.constant.append(constant)
        g.edge_start.append(first_edge)
        if op is not None:
            g.ops.append((index, op, args, first_edge))
        for k, source in enumerate(args):
            g.edge_source.append(source)
            g.edge_target.append(index)
            g.edge_index.append(k)
        return index

    def resolve(self, node: Name, assigned: dict[str, int], statement: int) -> int:
        name = node.name
        found = self.env.get(name)
        if found is not None:
            return found
        if name in assigned:
            where = assigned[name]
            when = "later" if where > statement else "in this same statement"
            raise UndefinedNameError(
                f"'{name}' is used before it is assigned (it is assigned {when}): "
                "assign a name before using it",
                node.span,
            )
        if name in self.values:
            value = self.values[name]
            shape: Shape = () if isinstance(value, float) else tuple(value.shape)
            index = self.add_node("input", None, (), name, node.span, shape, name=name)
            self.g.inputs[name] = index
            self.env[name] = index
            return index
        if name in CONSTANTS:
            # pi and e: a named number, data like a literal (an input of that name wins).
            number = CONSTANTS[name][0]
            return self.add_node("constant", None, (), name, node.span, (), constant=number)
        raise self.missing.get(name) or no_value(name, node.span)

    def leaf(self, node: Expr, assigned: dict[str, int], statement: int) -> int:
        """The node of a name or a literal (a negative literal is one constant); -1 otherwise."""
        if isinstance(node, Name):
            found = self.env.get(node.name)
            return found if found is not None else self.resolve(node, assigned, statement)
        if isinstance(node, Num):
            return self.add_node("constant", None, (), node.text, node.span, (), constant=node.value)
        if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Num):
            # A negative literal is one constant, as a reader sees it.
            literal = node.operand
            return self.add_node(
                "constant", None, (), "-" + literal.text, node.span, (), constant=-literal.value
            )
        return -1

    def build_op(self, node: Expr, args: tuple[int, ...]) -> int:
        """The op node of an operator or a call, its shape inferred from its arguments'."""
        where: Span
        if isinstance(node, Binary):
            op, where = OPS[BINARY[node.op]], node.op_span
        elif isinstance(node, Call):
            op, where = OPS[node.op or node.func], node.name_span
            if node.keywords:
                # A static parameter (axis=0): a shape error is about it, so it is pointed at.
                op, where = bind(op, {k.name: k.value for k in node.keywords}), node.keywords[0].span
        elif isinstance(node, Index):
            op, where = self.index_op(node), node.op_span
        elif isinstance(node, Unary):
            op, where = OPS[UNARY[node.op]], node.op_span
        elif isinstance(node, Transpose):
            op, where = OPS[POSTFIX[".T"]], node.op_span
        else:
            raise AssertionError(f"not an operation: {node!r}")
        shapes = self.g.shape
        try:
            shape = op.shape(*[shapes[a] for a in args])
        except ShapeMismatch as error:
            source = self.g.expression[node.span[0] : node.span[1]]
            if len(source) > 40:
                source = source[:37] + "..."
            raise ShapeError(f"{source}: {error}", where) from None
        return self.add_node("op", op, args, op.label, node.span, shape, where=where)

    def index_op(self, node: Index) -> Op:
        """The index op bound to what the brackets hold; an input's name reads its value now.

        An input used as an index is data (a class label): it is read here, before anything
        runs, so the shape is known and a bad index is refused at its place.
        """
        items: list[Any] = []
        for item in node.items:
            if item.name is None:
                items.append(item.start if item.single else slice(item.start, item.stop))
                continue
            name = item.name
            if name in self.env or name not in self.values:
                if name not in self.env:
                    raise self.missing.get(name) or no_value(name, item.span)
                raise InvalidValueError(
                    f"'{name}' is computed here, so it cannot be an index: an index is a whole "
                    "number, or an input given in values (a class label)",
                    item.span,
                )
            value = self.values[name]
            if not isinstance(value, float) or not value.is_integer():
                shown = f"{value:g}" if isinstance(value, float) else f"of shape {show_shape(value.shape)}"
                raise InvalidValueError(
                    f"'{name}' is {shown}, but an index is one whole number (0, 1, 2...)", item.span
                )
            self.g.index_inputs[name] = item.span
            items.append(int(value))
        shown = ", ".join(index_text(item) for item in node.items)
        return bind(OPS[POSTFIX["[]"]], {"index": tuple(items)}, shown={"index": shown})

    def check_assignment(self, name: str, name_span: Span, seen: set[str]) -> None:
        """An assigned name is neither an input nor assigned before."""
        if name in self.values:
            raise AssignmentError(
                f"'{name}' is an input (it has a value), so it cannot also be assigned: "
                "choose another name",
                name_span,
            )
        if name in seen:
            raise AssignmentError(
                f"'{name}' is assigned twice: a name is assigned at most once", name_span
            )
        seen.add(name)

    def lower(self, expr: Expr, assigned: dict[str, int], statement: int) -> int:
        """The node of an expression: an iterative post-order walk (trees can be very deep)."""
        results: list[int] = []
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                arity = len(children(node))
                args = tuple(results[-arity:])
                del results[-arity:]
                if isinstance(node, Call) and node.defined:
                    results.append(self.inline(node, args))
                else:
                    results.append(self.build_op(node, args))
                continue
            index = self.leaf(node, assigned, statement)
            if index >= 0:
                results.append(index)
                continue
            if isinstance(node, Call) and node.defined:
                # A call of a def: its arguments first, then its body inline (see inline).
                stack.append((node, True))
                for part in reversed(node.args):
                    stack.append((part, False))
                continue
            stack.append((node, True))
            for part in reversed(children(node)):
                stack.append((part, False))
        assert len(results) == 1
        return results[0]

    def inline(self, call: Call, args: tuple[int, ...]) -> int:
        """A call of a def, lowered as its body's primitives with its parameters bound to the
        arguments' nodes: the engine and every op stay as they are. Its nodes are one group."""
        definition = self.defs[call.func]
        if self.calls >= MAX_CALL_DEPTH:
            raise limit_exceeded(
                "max_depth", "calls of functions inside functions", f"over {MAX_CALL_DEPTH} deep",
                MAX_CALL_DEPTH, call.name_span,
            )
        saved = self.env
        self.env = dict(zip(definition.params, args, strict=True))
        self.calls += 1
        first = self.g.size
        try:
            output = self.lower(definition.body, {}, -1)
        finally:
            self.env = saved
            self.calls -= 1
        add_group(self.g, "call", call.func, call.span, first, output)
        return output


def add_group(graph: Graph, kind: str, name: str | None, span: Span, first: int, output: int) -> None:
    """Record the nodes made since `first` as one group, if it made its own output and another."""
    kinds = graph.kind
    if output < first or kinds[output] == "input":
        return  # `a = x`: the statement made no node of its own
    members = [i for i in range(first, graph.size) if kinds[i] != "input"]
    if len(members) < 2:
        return  # one node is its own box, and its op's edges are its gate already
    inside = set(members)
    inputs = sorted({a for i in members for a in graph.args[i] if a not in inside})
    graph.groups.append(Group(kind, name, span, members, inputs, output))


def no_value(name: str, span: Span) -> UndefinedNameError:
    return UndefinedNameError(
        f"'{name}' has no value: give it in values, or assign it before this line", span
    )


def build_graph(
    expression: str,
    program: Program,
    values: Mapping[str, Value],
    limits: Limits,
    vector_output: bool = False,
) -> Graph:
    """The graph of a parsed program, with names checked and shapes inferred.

    The output must hold one number, unless `vector_output` (a Jacobian's program).

    The first problem met stops the lowering; every input without a value is
    reported with it (the error's `problems`).
    """
    graph = Graph(expression)
    builder = _Builder(graph, values, limits)
    builder.missing = {
        name: no_value(name, span)
        for name, span in free_names(program).items()
        if name not in values and name not in CONSTANTS
    }
    statements = program.statements
    assigned: dict[str, int] = {}
    for number, statement in enumerate(statements):
        if isinstance(statement, Assign):
            assigned.setdefault(statement.name, number)
    seen: set[str] = set()
    try:
        last = -1
        for number, statement in enumerate(statements):
            first = graph.size
            if isinstance(statement, Def):
                builder.defs[statement.name] = statement
                continue
            if isinstance(statement, Assign):
                name: str | None = statement.name
                builder.check_assignment(statement.name, statement.name_span, seen)
                last = builder.lower(statement.value, assigned, number)
                if graph.name[last] is None and graph.kind[last] != "input":
                    graph.name[last] = statement.name
                builder.env[statement.name] = last
            else:
                name = None
                last = builder.lower(statement, assigned, number)
            add_group(graph, "statement", name, statement.span, first, last)
        if last != graph.size - 1:
            # The output is an earlier value (`a = x * 2; b = y; a`): an identity node
            # makes it the last node, so the first backward step seeds the output.
            final = statements[-1]
            alias = final.name if isinstance(final, Assign) else None
            last = builder.add_node(
                "op", OPS["identity"], (last,), "=", final.span, graph.shape[last], name=alias
            )
        graph.output = last
        shape = graph.shape[last]
        if math.prod(shape) != 1 and not vector_output:
            final = statements[-1]
            raise OutputNotScalarError(
                f"the output has shape {show_shape(shape)} ({math.prod(shape)} numbers), but "
                "backpropagation starts from a single number: wrap it in sum(...) or mean(...), "
                "or ask POST /api/v1/jacobian for its whole Jacobian (one backward pass per "
                "output element)",
                final.span,
            )
    except TraceError as error:
        others = [m for m in builder.missing.values() if m is not error]
        if others:
            error = together([error, *others])
        raise error.locate(expression) from None
    graph.reaches = reachability(graph)
    graph.unused_values = [name for name in values if name not in graph.inputs]
    graph.unused_shapes = {name: np.shape(values[name]) for name in graph.unused_values}
    return graph
