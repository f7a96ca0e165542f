"""The cost model: what a trace will cost, read from the lowered graph's shapes before any op runs.

A request is priced before anything is computed, so one that is too expensive
is refused with a 422 naming the budget it is over, instead of being cut off
by the clock after seconds of work or answered with a response too large to
hold. Four sums, each against a limit of `Limits`:

- elements (`max_total_elements`): every number the trace holds and sends:
  each node's value and gradient, each edge's upstream and downstream, and
  every local Jacobian small enough to be sent (`max_local_elements`);
- FLOPs (`max_flops`): the forward pass (an n x k by k x m matmul counts
  2nkm, a dot of two n-vectors 2n, softmax, log_softmax and logsumexp 5 per
  element of their argument, any other op one per element of its result or
  of its arguments, whichever is more), the
  backward pass (twice the forward: a VJP is two products for matmul, a
  multiply per element and argument elsewhere), and every local Jacobian that
  is built (its elements, each written once);
- gradient check work (`max_check_evaluations`): two forward passes per
  checked input element (inputs named as constants are not checked), each
  counted as its nodes, its numbers or its FLOPs, whichever is the most;
- response bytes (`max_response_bytes`): an upper bound of the JSON body,
  with every number at its longest (25 bytes: `-2.2250738585072014e-308,`)
  and every step text at its longest for the names and shapes it shows.

The bound on bytes is what bounds memory: the Python lists a trace builds
before encoding take about twice the bytes of its JSON.

A Jacobian request (`jacobian_estimate`) is priced the same way, with its
passes in the count: m backward passes and n tangent passes (each twice the
forward's FLOPs, each keeping every node's adjoint or tangent to send), the
numeric Jacobian (2n forward passes), and the matrix itself, four times (the
reverse and forward matrices, the numeric one, the blocks). Its passes are
bounded on their own too (`max_jacobian_passes`).

These are prices, upper bounds to refuse work before it starts; the exact
arithmetic of each mode, for teaching, is counted by modes.py from the
registry's `work` rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from gradtrace.display import MAX_ELEMENTS, edge_items, shown_items
from gradtrace.errors import limit_exceeded
from gradtrace.gradcheck import checked_inputs
from gradtrace.graph import Graph
from gradtrace.limits import Limits
from gradtrace.ops import Shape
from gradtrace.values import Value

#: The longest JSON number (a negative subnormal with 17 digits and its exponent), with its comma.
NUMBER_BYTES = 25
#: The longest text of one number in a step (docs/number-format.md), as an operand: "(-1.235e-308)".
NUMBER_TEXT_BYTES = 13
#: Displayed names of unnamed results are at most 24 characters of the expression, or "n12345".
DISPLAY_BYTES = 26
# The fixed parts of one node, edge and step object, and of one warning (ids, keys, punctuation,
# the longest kind, op name and label, the longest warning message), rounded up.
NODE_BYTES = 160
EDGE_BYTES = 150
STEP_BYTES = 110
WARNING_BYTES = 400
# One element's row of the check: its keys, an index of two numbers, and eight numbers.
CHECK_ROW_BYTES = 140 + 8 * NUMBER_BYTES
# The fixed text of a forward and a backward step, beyond the names and numbers they show.
FORWARD_TEXT_BYTES = 40
BACKWARD_TEXT_BYTES = 160
# A group's fixed parts (keys, kind, span, its gate's keys), one wire of its gate, one id in a list.
GROUP_BYTES = 200
GROUP_WIRE_BYTES = 90
ID_BYTES = 10


@dataclass(frozen=True)
class Cost:
    """What one trace will cost, by the model above."""

    elements: int
    local_elements: int
    flops: int
    check_evaluations: int
    response_bytes: int
    nodes: int


def _size(shape: Shape) -> int:
    return math.prod(shape)


def forward_flops(op_name: str, out: Shape, args: list[Shape]) -> int:
    """FLOPs of one op's forward computation, from its shapes alone."""
    if op_name == "matmul":
        a, b = args
        n = a[0] if len(a) == 2 else 1
        k = a[-1]
        m = b[1] if len(b) == 2 else 1
        return 2 * n * k * m
    if op_name == "dot":
        return 2 * _size(args[0])
    if op_name in ("softmax", "log_softmax", "logsumexp"):
        # An exp, a share of a sum and a division (or a log) per element of the argument.
        return 5 * _size(args[0])
    return max(_size(out), sum(_size(a) for a in args))


def _value_text(shape: Shape) -> int:
    """The longest text a step shows for a value of this shape (display.format_value): up to
    MAX_ELEMENTS numbers written out as nested lists, else each long axis cut around "…"."""
    size = _size(shape)
    if not shape:
        return NUMBER_TEXT_BYTES
    if size <= MAX_ELEMENTS:
        # Each number with its ", ", and a pair of brackets around each row and the whole.
        return (NUMBER_TEXT_BYTES + 2) * size + 2 * (size + 1)
    edge = edge_items(len(shape))
    entries = math.prod(shown_items(n, edge) for n in shape)
    # Each entry (a number, or "…" in three bytes) with its ", ", and at most one
    # pair of brackets per entry.
    return (NUMBER_TEXT_BYTES + 2) * entries + 2 * (entries + 1)


def _text_bytes(graph: Graph, shown: list[int], f_len: int) -> int:
    """An upper bound of all step texts: forward "name = symbolic = numbers = value", backward
    "df/dsubject = terms = grad; [downstream] = [upstream] x [local]: parts"."""
    total = 0
    names = graph.name
    value_text = [_value_text(shape) for shape in graph.shape]
    local_text = [
        _value_text(graph.shape[t] + graph.shape[s])
        for s, t in zip(graph.edge_source, graph.edge_target, strict=True)
    ]
    consumers = [0] * graph.size
    for source in graph.edge_source:
        consumers[source] += 1
    for i in range(graph.size):
        args = graph.args[i]
        own = shown[i]
        # Forward: its name, each argument's name (twice: symbol and number), its value.
        mine = value_text[i]
        forward = FORWARD_TEXT_BYTES + len(names[i] or "") + len(graph.label[i]) + own
        forward += sum(shown[a] + value_text[a] for a in args) + 2 * mine
        # Backward head: df/d(subject) = up to 6 terms = grad; then one part per input edge.
        terms = min(consumers[i], 6)
        backward = BACKWARD_TEXT_BYTES + 2 * f_len + own + (terms + 2) * mine
        e = graph.edge_start[i]
        for k, a in enumerate(args):
            backward += f_len + shown[a] + mine + local_text[e + k] + value_text[a] + 20
        total += forward + backward
    return total


def group_cost(graph: Graph, max_local_elements: int) -> tuple[int, int]:
    """Bytes and FLOPs of the groups (trace.py's `groups`): each lists its members and inputs,
    and its composite gate sends per input a local (when small enough) and a downstream, the
    local found by a product per member edge (out x target by target x source)."""
    sizes = [_size(s) for s in graph.shape]
    total = 0
    flops = 0
    for group in graph.groups:
        out = sizes[group.output]
        total += GROUP_BYTES + len(group.name or "") + ID_BYTES * (2 * len(group.members) + len(group.inputs))
        total += NUMBER_BYTES * out
        # As trace.py finds it: only when every member's local Jacobian was built and sent.
        small = all(
            out * sizes[i] <= max_local_elements
            and all(sizes[i] * sizes[a] <= max_local_elements for a in graph.args[i])
            for i in group.members
        )
        for a in group.inputs:
            local = out * sizes[a] if small and out * sizes[a] <= max_local_elements else 0
            total += GROUP_WIRE_BYTES + NUMBER_BYTES * (local + sizes[a]) + 8 * len(graph.shape[a])
        if small:
            for i in group.members:
                flops += sum(out * sizes[i] * sizes[a] for a in graph.args[i])
    return total, flops


def estimate(graph: Graph, inputs: Mapping[str, Value], check: bool, max_local_elements: int) -> Cost:
    """The cost of tracing `graph` at these inputs (shapes only: no value is read)."""
    shapes = graph.shape
    sizes = [_size(s) for s in shapes]
    flops = 0
    elements = 0
    local_elements = 0
    numbers = 0  # numbers written into the JSON body
    local_bytes = 0
    for i, op in enumerate(graph.op):
        out = sizes[i]
        elements += 2 * out
        numbers += 2 * out
        if op is None:
            continue
        args = graph.args[i]
        arg_shapes = [shapes[a] for a in args]
        forward = forward_flops(op.name, shapes[i], arg_shapes)
        flops += 3 * forward  # forward, and twice that backward
        jacobians = [out * sizes[a] for a in args]
        sent = [j if j <= max_local_elements else 0 for j in jacobians]
        if any(sent):
            # The op builds every argument's Jacobian at once, sent or not.
            flops += sum(jacobians)
        for a, jac in zip(args, sent, strict=True):
            elements += out + sizes[a] + jac
            local_elements += jac
            numbers += out + sizes[a] + jac
            if graph.scalar:
                local_bytes += NUMBER_BYTES
            else:
                local_bytes += 4 if not jac else 0  # null
    per_pass = max(graph.size, sum(sizes), flops // 3)
    group_bytes, group_flops = group_cost(graph, max_local_elements)
    flops += group_flops
    checked = sum(sizes[graph.inputs[name]] for name in checked_inputs(graph))
    check_evaluations = 2 * checked * per_pass if check else 0

    names = graph.name
    shown = [DISPLAY_BYTES if name is None else max(len(name), DISPLAY_BYTES) for name in names]
    shown = [max(s, len(graph.label[i])) if graph.kind[i] == "constant" else s for i, s in enumerate(shown)]
    f_len = max(len(names[graph.output] or ""), 3)  # the output's name, or "f" or "out"
    given = sum(int(math.prod(getattr(v, "shape", ()))) for v in inputs.values())
    gradient_bytes = sum(len(name) + 8 for name in inputs) + NUMBER_BYTES * given
    # Per input element: its numeric gradient, and its row of the check (8 numbers and keys).
    check_bytes = (
        (NUMBER_BYTES + CHECK_ROW_BYTES) * given + sum(len(name) + 120 for name in inputs)
        if check
        else 0
    )
    shape_bytes = sum(8 * len(s) + 4 for s in shapes) + sum(
        8 * (len(shapes[t]) + len(shapes[s])) + 4
        for s, t in zip(graph.edge_source, graph.edge_target, strict=True)
    )
    # Each node's label, name and display name (its name, or at most 24 characters, or its id).
    label_bytes = sum(len(label) for label in graph.label) + sum(len(n or "") for n in names) + sum(shown)
    # Each op may warn of a kink (or tie) and of a note on its shapes (.T of a vector).
    kinks = sum((op.kink is not None) + (op.note is not None) for _, op, _, _ in graph.ops)
    warnings = kinks + len(graph.unused_values) + 2 * len(graph.inputs) + 3
    response_bytes = (
        200
        + 6 * len(graph.expression)  # echoed, each character escaped at worst
        + NUMBER_BYTES * numbers
        + local_bytes
        + NODE_BYTES * graph.size
        + EDGE_BYTES * graph.n_edges
        + 2 * STEP_BYTES * graph.size
        + shape_bytes
        + label_bytes
        + _text_bytes(graph, shown, f_len)
        + WARNING_BYTES * warnings
        + gradient_bytes
        + check_bytes
        + group_bytes
    )
    return Cost(
        elements=elements,
        local_elements=local_elements,
        flops=flops,
        check_evaluations=check_evaluations,
        response_bytes=response_bytes,
        nodes=graph.size,
    )


def jacobian_estimate(graph: Graph, n: int, reverse: bool, forward: bool) -> Cost:
    """The cost of a Jacobian of `graph` with n input elements, by the modes asked for."""
    sizes = [_size(s) for s in graph.shape]
    m = sizes[graph.output]
    held = sum(sizes)
    forward_pass = sum(
        forward_flops(op.name, graph.shape[i], [graph.shape[a] for a in graph.args[i]])
        for i, op, _, _ in graph.ops
    )
    passes = (m if reverse else 0) + (n if forward else 0)
    # Working set of one backward pass: gradients and every edge's downstream.
    working = held + sum(sizes[s] for s in graph.edge_source)
    matrices = 4 * m * n
    stored = (m * (held + n) if reverse else 0) + (n * (held + m) if forward else 0)
    elements = held + working + stored + matrices
    per_pass = max(graph.size, held, forward_pass)
    flops = forward_pass + 2 * forward_pass * passes + 2 * n * forward_pass
    names = sum(len(name or "") + len(label) + DISPLAY_BYTES for name, label in zip(graph.name, graph.label, strict=True))
    response_bytes = (
        2000  # the fixed keys, the costs, why, check
        + 6 * len(graph.expression)
        + NODE_BYTES * graph.size
        + EDGE_BYTES * graph.n_edges
        + names
        + sum(8 * len(s) + 4 for s in graph.shape)
        + 300 * len(graph.inputs)
        + 30 * graph.size  # repeated
        + 200 * passes  # each pass's keys and seed
        + 5 * graph.size * passes  # a null per node and pass at least
        + NUMBER_BYTES * (held + stored + matrices)
    )
    return Cost(
        elements=elements,
        local_elements=0,
        flops=flops,
        check_evaluations=2 * n * per_pass,
        response_bytes=response_bytes,
        nodes=graph.size,
    )


def enforce_passes(passes: int, limits: Limits) -> None:
    """Refuse a Jacobian of more passes than max_jacobian_passes (m backward + n tangent)."""
    if limits.max_jacobian_passes is not None and passes > limits.max_jacobian_passes:
        raise limit_exceeded(
            "max_jacobian_passes",
            "the passes of this Jacobian (one backward pass per output element, one tangent "
            "pass per input element, for the modes asked for)",
            f"{passes} passes",
            limits.max_jacobian_passes,
        )


def enforce(cost: Cost, limits: Limits) -> None:
    """Refuse a trace whose cost is over one of the budgets, naming it (a 422 limit_exceeded)."""
    if limits.max_total_elements is not None and cost.elements > limits.max_total_elements:
        raise limit_exceeded(
            "max_total_elements",
            "the numbers this trace holds and sends (values, gradients, upstream, downstream, "
            "local Jacobians that are sent)",
            cost.elements,
            limits.max_total_elements,
        )
    if limits.max_flops is not None and cost.flops > limits.max_flops:
        raise limit_exceeded(
            "max_flops",
            "the floating-point work of this trace (forward, backward and local Jacobians)",
            f"{cost.flops} FLOPs",
            limits.max_flops,
        )
    if limits.max_check_evaluations is not None and cost.check_evaluations > limits.max_check_evaluations:
        raise limit_exceeded(
            "max_check_evaluations",
            "the numeric check (2 forward passes per input element)",
            f"{cost.check_evaluations} evaluations (nodes, numbers or FLOPs)",
            limits.max_check_evaluations,
        )
    if limits.max_response_bytes is not None and cost.response_bytes > limits.max_response_bytes:
        raise limit_exceeded(
            "max_response_bytes",
            "the response this trace would need, at most",
            f"{cost.response_bytes} bytes",
            limits.max_response_bytes,
        )
