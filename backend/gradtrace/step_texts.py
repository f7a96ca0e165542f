"""The step texts: what each forward and backward step says, in the lecture's words.

Forward: "name = symbolic = numbers = value". Backward: the node's gradient
(summed over its consumers where it has several), then each input edge's
[downstream] = [upstream] x [local], ending with the op's short intuition.
Nodes are written by their display names (display.py), numbers in the one
number format (docs/number-format.md).
"""

from __future__ import annotations

import functools
from typing import Any

from gradtrace.display import as_operand, enclosed, format_number, format_value, shape_text
from gradtrace.engine import Run
from gradtrace.graph import Graph, data_edges, data_nodes
from gradtrace.limits import Deadline


@functools.lru_cache(maxsize=256)
def _template_parts(template: str) -> tuple[str, str, str]:
    """An op's template "before{0}between{1}after" as its three literal parts."""
    before, rest = template.split("{0}")
    between, after = rest.split("{1}") if "{1}" in rest else ("", rest)
    return before, between, after


def build_steps(
    graph: Graph,
    run: Run,
    display: list[str],
    ids: list[str],
    eids: list[str],
    locals_: list[Any],
    deadline: Deadline,
) -> list[dict[str, Any]]:
    """Forward steps in topological order, then backward steps in reverse, with their texts.

    Built as whole lists (one comprehension per piece of text) rather than per
    step: a 100,000-op program has 200,000 steps.
    """
    g = graph
    n = g.size
    ops = g.op
    names = g.name
    args_of = g.args
    sources = g.edge_source
    # As an operator's operand, an unnamed operator result needs parentheses, and
    # so does anything that starts with a minus (see display.as_operand).
    wrapped = [
        f"({d})"
        if name is None and op is not None and op.operator and not enclosed(d)
        else as_operand(d)
        for d, name, op in zip(display, names, ops, strict=True)
    ]
    subjects = [
        w if (" " not in w and "(" not in w) or enclosed(w) else f"({w})" for w in wrapped
    ]
    if g.scalar:
        vals = [format_number(v) for v in run.values]
        grads = [format_number(v) for v in run.grads]
        # Where a local is exactly 1, the downstream is exactly the upstream (x 1.0
        # changes no float), so their texts are known: most edges of +, max and relu.
        local_text = ["1" if v == 1.0 else format_number(v) for v in locals_]
        downs = [
            grads[target] if local == 1.0 else format_number(v)
            for v, local, target in zip(run.downstream, locals_, g.edge_target, strict=True)
        ]
    else:
        vals = [format_value(v) for v in run.values]
        grads = [format_value(v) for v in run.grads]
        downs = [format_value(v) for v in run.downstream]
        local_text = [
            format_value(v) if v is not None else shape_text(g.shape[t] + g.shape[s])
            for v, s, t in zip(locals_, sources, g.edge_target, strict=True)
        ]
    operands = [as_operand(v) for v in vals]
    starts = g.edge_start
    edge_lists = [eids[e : e + len(a)] for e, a in zip(starts, args_of, strict=True)]

    deadline.check()
    # Forward: "name = symbolic = numbers = value".
    forward_texts: list[str] = []
    add = forward_texts.append
    for i, (kind, name, op, args) in enumerate(zip(g.kind, names, ops, args_of, strict=True)):
        if op is None:
            if kind == "input":
                add(f"{name} = {vals[i]} (input)")
            else:
                add(f"{name} = {g.label[i]} (constant)" if name else f"{g.label[i]} (constant)")
            continue
        before, between, after = _template_parts(op.template)
        pieces, numbers = (wrapped, operands) if op.operator else (display, vals)
        if len(args) == 1:
            a = args[0]
            symbolic = f"{before}{pieces[a]}{after}"
            numeric = f"{before}{numbers[a]}{after}"
        else:
            a, b = args
            symbolic = f"{before}{pieces[a]}{between}{pieces[b]}{after}"
            numeric = f"{before}{numbers[a]}{between}{numbers[b]}{after}"
        if numeric != symbolic:
            text = f"{symbolic} = {numeric} = {vals[i]}"
        else:
            text = f"{symbolic} = {vals[i]}"
        add(f"{name} = {text}" if name else text)

    deadline.check()
    # Backward: the node's gradient (summed over its consumers), then each input edge's
    # [downstream] = [upstream] x [local].
    out_node = g.output
    f = display[out_node]
    heads = [f"d{f}/d{subject} = {grad}" for subject, grad in zip(subjects, grads, strict=True)]
    gathered: dict[int, list[int]] = {}
    for e, source in enumerate(sources):
        gathered.setdefault(source, []).append(e)
    reaches = g.reaches
    unreached = [] if all(reaches) else [i for i in range(n) if not reaches[i]]
    for i, used in gathered.items():
        count = len(used)
        if 1 < count <= 6 and reaches[i]:
            # The common fan-out, written here: _gathered_head says the same.
            terms = " + ".join([downs[e] for e in used])
            heads[i] = (
                f"d{f}/d{subjects[i]} = {terms} = {grads[i]} "
                f"(gradients sum at outward branches: {count} consumers)"
            )
        elif count > 1:
            heads[i] = _gathered_head(f, subjects[i], grads[i], downs, used, reaches[i])
    for i in unreached:
        heads[i] = _gathered_head(f, subjects[i], grads[i], downs, gathered.get(i, []), False)
    heads[out_node] = f"d{f}/d{f} = 1 (the seed: the output's gradient with respect to itself)"
    parts = [
        f"d{f}/d{subjects[source]} += {as_operand(grads[target])} x {as_operand(local)} = {down}"
        for source, target, local, down in zip(sources, g.edge_target, local_text, downs, strict=True)
    ]
    for i in data_nodes(g):
        heads[i] = f"d{f}/d{subjects[i]}: {subjects[i]} is a constant, and a constant needs no gradient"
    for e in data_edges(g):
        parts[e] = f"{subjects[sources[e]]} is a constant: no gradient to send it"
    backward_texts = heads
    for i, (op, e, args) in enumerate(zip(ops, starts, args_of, strict=True)):
        if op is None:
            continue
        hint = f" ({op.short_intuition})" if op.short_intuition else ""
        if len(args) == 1:
            backward_texts[i] = f"{heads[i]}; [downstream] = [upstream] x [local]: {parts[e]}{hint}"
        else:
            backward_texts[i] = (
                f"{heads[i]}; [downstream] = [upstream] x [local]: {parts[e]}, {parts[e + 1]}{hint}"
            )

    steps = [
        {"index": i, "phase": "forward", "node": ids[i], "edges": edge_lists[i], "text": text}
        for i, text in enumerate(forward_texts)
    ]
    steps += [
        {
            "index": n + k,
            "phase": "backward",
            "node": ids[i],
            "edges": edge_lists[i],
            "text": backward_texts[i],
        }
        for k, i in enumerate(range(n - 1, -1, -1))
    ]
    return steps


def _gathered_head(
    f: str, subject: str, grad: str, downs: list[str], used: list[int], reaches: bool
) -> str:
    """The head of a backward step whose gradient is a sum over several consumers."""
    head = f"d{f}/d{subject}"
    if not reaches:
        return f"{head} = {grad} (it does not reach the output)"
    terms = [downs[e] for e in used]
    if len(terms) > 6:
        terms = terms[:5] + [f"... ({len(used)} terms)"]
    return (
        f"{head} = {' + '.join(terms)} = {grad} "
        f"(gradients sum at outward branches: {len(used)} consumers)"
    )
