"""Why backpropagation is efficient: the arithmetic of each way to get derivatives, counted.

The lecture's closing argument, in numbers read off the graph (never timed,
never estimated): every op's `work` in the registry says what its forward,
its VJP and its JVP count at the shapes it has (multiplications, additions,
other evaluations; an n x k by k x m matmul is 2nkm FLOPs), and this module
adds them up for four ways of computing the derivatives of the output:

- the forward pass, once;
- reverse mode: one backward pass per output element (one in all for a loss),
  every gradient at once, each node's δ computed once and shared;
- each input separately, the lecture's incorrect way: for each input, the
  chain rule along that input's own paths with nothing shared, so the common
  prefix (∂s/∂h · ∂h/∂z for W and again for b) is computed again per input;
- forward mode: one tangent pass per input element.

Locals are taken as known (the forward pass computes them once, as the scalar
engine does); a pass counts its products upstream x local (or local x
tangent) and the additions where gradients meet at a branch or tangents meet
at an op. Only what is needed is counted: gradients of nodes that reach the
output and depend on an input that is not data, tangents of nodes that reach
the output. `repeated` says which nodes' gradients the incorrect way computes
more than once, and how many times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gradtrace.graph import Graph, is_data
from gradtrace.limits import Deadline
from gradtrace.ops import ADD, NO_WORK, OpWork, Work


@dataclass(frozen=True)
class Costs:
    """The four counts, and for the page the nodes the incorrect way computes again."""

    forward: Work  # one forward pass
    backward_pass: Work  # one backward pass (reverse mode does one per output element)
    reverse: Work  # m backward passes: the whole Jacobian by reverse mode
    separately: Work  # the incorrect way, for every output element
    forward_mode: Work  # n tangent passes: the whole Jacobian by forward mode
    m: int  # output elements
    n: int  # input elements (of the inputs that are not data)
    inputs: int  # inputs that are not data
    repeated: dict[int, int]  # node -> times the incorrect way computes its gradient (> 1)


def variables(graph: Graph) -> list[tuple[str, int]]:
    """The inputs whose derivatives are wanted (all but data), in the order of `graph.inputs`."""
    return [(name, node) for name, node in graph.inputs.items() if not is_data(graph, node)]


def descendants(graph: Graph, sources: list[int]) -> list[bool]:
    """Whether each node depends on one of `sources` (itself included): one sweep in order."""
    reached = [False] * graph.size
    for source in sources:
        reached[source] = True
    for node, _, args, _ in graph.ops:
        if any(reached[a] for a in args):
            reached[node] = True
    return reached


def _op_work(graph: Graph, node: int) -> OpWork:
    op = graph.op[node]
    assert op is not None and op.work is not None, f"op {op and op.name} has no work rule"
    return op.work(graph.shape[node], *[graph.shape[a] for a in graph.args[node]])


def backward_work(graph: Graph, live: list[bool], works: list[OpWork | None]) -> Work:
    """One backward pass over the live nodes: each live edge's VJP, and the additions where
    c > 1 gradients meet at a node (c - 1 per element)."""
    total = NO_WORK
    consumers = [0] * graph.size
    for node, _, args, _ in graph.ops:
        if not live[node]:
            continue
        work = works[node]
        assert work is not None
        for k, source in enumerate(args):
            if live[source]:
                total = total + work.vjp[k]
                consumers[source] += 1
    for node, count in enumerate(consumers):
        if count > 1:
            total = total + ADD * ((count - 1) * math.prod(graph.shape[node]))
    return total


def tangent_work(graph: Graph, live: list[bool], works: list[OpWork | None]) -> Work:
    """One tangent pass over the live nodes: each live edge's JVP term, and the additions
    where c > 1 terms meet at an op (c - 1 per element of its output)."""
    total = NO_WORK
    for node, _, args, _ in graph.ops:
        if not live[node]:
            continue
        work = works[node]
        assert work is not None
        terms = 0
        for k, source in enumerate(args):
            if live[source]:
                total = total + work.jvp[k]
                terms += 1
        if terms > 1:
            total = total + ADD * ((terms - 1) * math.prod(graph.shape[node]))
    return total


def count(graph: Graph, deadline: Deadline | None = None) -> Costs:
    """The four counts of `graph` (see the module's docstring), from its shapes alone.

    The graph is walked once per input (its own paths), the deadline checked before each.
    """
    check_time = deadline.check if deadline is not None else tuple
    works: list[OpWork | None] = [None] * graph.size
    forward = NO_WORK
    for node, _, _, _ in graph.ops:
        works[node] = _op_work(graph, node)
        forward = forward + works[node].forward  # type: ignore[union-attr]
    reaches = graph.reaches
    wanted = variables(graph)
    m = math.prod(graph.shape[graph.output])
    n = sum(math.prod(graph.shape[node]) for _, node in wanted)

    needed = descendants(graph, [node for _, node in wanted])
    backward_pass = backward_work(graph, [r and d for r, d in zip(reaches, needed, strict=True)], works)

    separately = NO_WORK
    forward_mode = NO_WORK
    computed = [0] * graph.size
    for _, node in wanted:
        check_time()
        own = [r and d for r, d in zip(reaches, descendants(graph, [node]), strict=True)]
        separately = separately + backward_work(graph, own, works)
        forward_mode = forward_mode + tangent_work(graph, own, works) * math.prod(graph.shape[node])
        for i, on_path in enumerate(own):
            computed[i] += on_path
    # The output's own gradient is the seed: nothing is computed for it.
    repeated = {i: times for i, times in enumerate(computed) if times > 1 and i != graph.output}
    return Costs(
        forward=forward,
        backward_pass=backward_pass,
        reverse=backward_pass * m,
        separately=separately * m,
        forward_mode=forward_mode,
        m=m,
        n=n,
        inputs=len(wanted),
        repeated=repeated,
    )


def _times(work: Work, forward: Work) -> float | None:
    return None if forward.flops == 0 else work.flops / forward.flops


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}es" if word.endswith("s") else f"{count} {word}s"


def work_dict(work: Work, forward: Work, passes: int) -> dict[str, int | float | None]:
    """One count as JSON: its arithmetic, its passes, and how many forward passes it is worth."""
    ratio = _times(work, forward)
    return {
        "multiplications": work.multiplications,
        "additions": work.additions,
        "functions": work.functions,
        "flops": work.flops,
        "passes": passes,
        "times_forward": None if ratio is None else round(ratio, 4),
    }


def _x(work: Work, forward: Work) -> str:
    ratio = _times(work, forward)
    return f"{work.flops} FLOPs" if ratio is None else f"{ratio:.1f}x the forward pass"


def conclusion(costs: Costs) -> str:
    """The counts in one sentence, as the page's chart says it."""
    f = costs.forward
    passes = "one backward pass" if costs.m == 1 else f"{costs.m} backward passes"
    return (
        f"forward pass: {f.flops} FLOPs; reverse mode: {passes}, {_x(costs.reverse, f)}; "
        f"each input separately: {_x(costs.separately, f)}; "
        f"forward mode: {_plural(costs.n, 'tangent pass')}, {_x(costs.forward_mode, f)}"
    )


def cheaper(costs: Costs) -> tuple[str, str]:
    """Which mode computes the whole Jacobian with less arithmetic here, and why (m against n)."""
    reverse, forward = costs.reverse.flops, costs.forward_mode.flops
    mode = "forward" if forward < reverse else "reverse"
    rows = _plural(costs.m, "output element")
    columns = _plural(costs.n, "input element")
    if costs.m == costs.n:
        shape = f"as many outputs as inputs ({costs.m})"
    elif costs.m < costs.n:
        shape = f"fewer outputs than inputs ({costs.m} < {costs.n})"
    else:
        shape = f"more outputs than inputs ({costs.m} > {costs.n})"
    why = (
        f"{rows} against {columns}: {shape}. Reverse mode makes one backward pass per output "
        f"element ({costs.m}, {reverse} FLOPs), forward mode one tangent pass per input element "
        f"({costs.n}, {forward} FLOPs), so {mode} mode is cheaper here"
    )
    if reverse == forward:
        why += " (the two cost the same; reverse is named)"
    return mode, why + "."
