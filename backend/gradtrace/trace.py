"""The Trace record and its JSON form: nodes, edges, steps, check and warnings.

The engine's numbers are kept as they are (flat lists); the JSON body,
including every step's human text, is built only when `to_dict()` is called,
with non-finite numbers as the strings "NaN", "Infinity" and "-Infinity".
Local Jacobians on the tensor path are built here, and only for edges whose
Jacobian is small enough to send (`max_local_elements`); the others are null.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from gradtrace.display import (
    as_operand,
    display_names,
    enclosed,
    format_number,
    format_value,
    shape_text,
)
from gradtrace.engine import Run
from gradtrace.graph import Graph, data_edges, data_nodes
from gradtrace.limits import Deadline, without_gc

VERSION = 1


def json_number(v: float) -> float | str:
    """A float as JSON wants it: itself if finite, else "NaN", "Infinity" or "-Infinity"."""
    if v - v == 0.0:
        return v
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def json_value(v: Any) -> Any:
    """A float or a float64 array as plain JSON: a number or nested lists of numbers."""
    if type(v) is float:
        return json_number(v)
    array = np.asarray(v, dtype=np.float64)
    if array.ndim == 0:
        return json_number(float(array))
    if bool(np.isfinite(array).all()):
        return array.tolist()
    return _replace_non_finite(array.tolist())


def _json_numbers(numbers: list[float]) -> list[float | str]:
    """Floats as JSON wants them; the list itself when all are finite (only read, never changed)."""
    # A sum is finite only if every term is (an overflow to infinity just takes the
    # long way); v - v is 0.0 exactly for finite floats.
    total = sum(numbers)
    if total - total == 0.0:
        return numbers  # type: ignore[return-value]
    return [v if v - v == 0.0 else json_number(v) for v in numbers]


def _replace_non_finite(items: Any) -> Any:
    """Nested lists of any depth (Jacobians have up to 4 axes), non-finite floats as strings."""
    if isinstance(items, list):
        return [_replace_non_finite(item) for item in items]
    return json_number(items)


@functools.lru_cache(maxsize=256)
def _template_parts(template: str) -> tuple[str, str, str]:
    """An op's template "before{0}between{1}after" as its three literal parts."""
    before, rest = template.split("{0}")
    between, after = rest.split("{1}") if "{1}" in rest else ("", rest)
    return before, between, after


def _first_non_finite(values: list[Any], order: range) -> tuple[int, int]:
    """(first node with a non-finite number, first node with a NaN), -1 when there is none."""
    first = first_nan = -1
    for i in order:
        v = values[i]
        if type(v) is float:
            if v - v == 0.0:
                continue
            bad, nan = True, v != v
        else:
            with np.errstate(all="ignore"):
                finite = np.isfinite(v)
                if bool(np.all(finite)):
                    continue
                bad, nan = True, bool(np.any(np.isnan(v)))
        if bad and first < 0:
            first = i
        if nan:
            first_nan = i
            break
    return first, first_nan


def _sum_is_finite(numbers: list[float]) -> bool:
    """One C-level pass that clears the common case: a finite sum has no NaN or infinity in it."""
    total = sum(numbers)
    return total - total == 0.0


def collect_warnings(graph: Graph, run: Run, reaches: list[bool]) -> list[dict[str, Any]]:
    """Non-finite numbers (where they first appear), ties and kinks, unused inputs and names."""
    warnings: list[dict[str, Any]] = []
    values = run.values
    scalar = graph.scalar
    if not (scalar and _sum_is_finite(values)):
        first, first_nan = _first_non_finite(values, range(graph.size))
        if first >= 0:
            warnings.append(_non_finite(graph, first, "value", values[first]))
            if first_nan >= 0 and first_nan != first:
                warnings.append(_non_finite(graph, first_nan, "value", values[first_nan], first))
    grads = run.grads
    if not (scalar and _sum_is_finite(grads)):
        # Backward runs in reverse order: the first non-finite gradient it computed.
        first = -1
        for i in range(graph.size - 1, -1, -1):
            g = grads[i]
            if graph.kind[i] == "constant" or i in graph.constant_inputs:
                continue  # data needs no gradient: whatever the engine found there is unused
            if type(g) is float:
                if g - g != 0.0:
                    first = i
                    break
            elif not bool(np.all(np.isfinite(g))):
                first = i
                break
        if first >= 0:
            warnings.append(_non_finite(graph, first, "gradient", grads[first]))
    with np.errstate(all="ignore"):
        kinks = [
            (i, op.kink(*[values[a] for a in args])) for i, op, args, _ in graph.ops if op.kink is not None
        ]
    for i, found in kinks:
        if found is not None:
            warnings.append({"node": f"n{i}", "kind": found[0], "message": found[1]})
    for name in graph.unused_values:
        warnings.append(
            {
                "node": None,
                "kind": "unused_input",
                "message": f"'{name}' is given in values but the expression does not use it",
            }
        )
    unreached = [] if all(reaches) else [i for i, reached in enumerate(reaches) if not reached]
    for name, node in graph.inputs.items() if unreached else ():
        if not reaches[node]:
            warnings.append(
                {
                    "node": f"n{node}",
                    "kind": "unused_input",
                    "message": f"'{name}' does not affect the output, so its gradient is 0",
                }
            )
    names = graph.name
    for i in unreached:
        assigned = names[i]
        if assigned is not None and graph.kind[i] != "input":
            warnings.append(
                {
                    "node": f"n{i}",
                    "kind": "unused_value",
                    "message": f"'{assigned}' is computed but does not reach the output, so its gradient is 0",
                }
            )
    return warnings


def _non_finite(graph: Graph, i: int, what: str, v: Any, after: int = -1) -> dict[str, Any]:
    """A warning for the first non-finite value or gradient, or (after >= 0) for the
    first NaN of the forward pass that follows an infinity at node `after`."""
    shown = format_value(v) if isinstance(v, float) or np.size(v) <= 4 else "a non-finite number"
    start, end = graph.span[i]
    where: str = graph.name[i] or graph.expression[start : min(end, start + 30)]
    if after >= 0:
        # inf - inf or 0 * inf: the infinity was the first non-finite value, this is the first NaN.
        first = f"the first NaN (not a number) in the forward pass (its first non-finite value is n{after}'s, above)"
    else:
        first = f"the first non-finite {what} in the {'forward' if what == 'value' else 'backward'} pass"
        if isinstance(v, float) and v != v:
            first += " (NaN: not a number)"
    return {"node": f"n{i}", "kind": "non_finite", "message": f"the {what} of {where} (n{i}) is {shown}: {first}"}


class Trace:
    """The result of one trace: `value`, `gradients` and the full record behind `to_dict()`."""

    def __init__(
        self,
        graph: Graph,
        run: Run,
        warnings: list[dict[str, Any]] | None,
        check: dict[str, dict[str, Any]] | None,
        max_local_elements: int,
        deadline: Deadline | None = None,
    ) -> None:
        self.graph = graph
        # The request's cooperative deadline also covers building the JSON body.
        self.deadline = deadline if deadline is not None else Deadline(None)
        self.run = run
        self._warnings = warnings
        self.check = check
        self.max_local_elements = max_local_elements
        self.reaches = graph.reaches
        self.expression = graph.expression
        out = run.values[graph.output]
        self.value: float = out if type(out) is float else float(np.reshape(out, -1)[0])
        self.gradients: dict[str, Any] = {}
        for name, node in graph.inputs.items():
            grad = run.grads[node]
            self.gradients[name] = grad if type(grad) is float else (
                float(grad) if np.ndim(grad) == 0 else np.asarray(grad)
            )
        for name in graph.unused_values:
            shape = graph.unused_shapes.get(name, ())
            self.gradients[name] = np.zeros(shape) if shape else 0.0

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Non-finite numbers, ties and kinks, unused inputs: computed on first use.

        Lazy because on large tensors the scan for non-finite numbers reads every
        value and gradient once more, and a caller that only wants gradients
        should not pay for it.
        """
        if self._warnings is None:
            self._warnings = collect_warnings(self.graph, self.run, self.reaches)
        return self._warnings

    @warnings.setter
    def warnings(self, value: list[dict[str, Any]]) -> None:
        self._warnings = value

    @functools.cached_property
    def display_names(self) -> list[str]:
        """Each node's display name (see `display.display_names`)."""
        return display_names(self.graph)

    @property
    def output(self) -> str:
        return f"n{self.graph.output}"

    def _repr_html_(self) -> str:
        """In a notebook a Trace shows as the interactive player (see gradtrace.notebook)."""
        from gradtrace.notebook import player_html

        return player_html(self)

    # -- JSON ------------------------------------------------------------
    @without_gc
    def to_dict(self) -> dict[str, Any]:
        """Exactly the JSON body of POST /api/v1/trace."""
        g = self.graph
        run = self.run
        n = g.size
        check_time = self.deadline.check
        check_time()
        ids = [f"n{i}" for i in range(n)]
        eids = [f"e{e}" for e in range(g.n_edges)]
        local_values = self._locals()
        check_time()
        if g.scalar:
            values: list[Any] = _json_numbers(run.values)
            grads: list[Any] = _json_numbers(run.grads)
            downs: list[Any] = _json_numbers(run.downstream)
            locs: list[Any] = _json_numbers(local_values)
            shapes: list[list[int]] | None = None
            local_shapes: list[list[int]] | None = None
        else:
            values = [json_value(v) for v in run.values]
            grads = [json_value(v) for v in run.grads]
            downs = [json_value(v) for v in run.downstream]
            locs = [None if v is None else json_value(v) for v in local_values]
            shapes = [list(s) for s in g.shape]
            local_shapes = [
                list(g.shape[t] + g.shape[s]) for s, t in zip(g.edge_source, g.edge_target, strict=True)
            ]
        opnames = [op.name if op is not None else None for op in g.op]
        nodes = [
            {
                "id": node_id,
                "kind": kind,
                "op": op_name,
                "name": name,
                "label": label,
                "shape": [] if shapes is None else shapes[i],
                "value": value,
                "grad": grad,
                "span": [span[0], span[1]],
                "display_name": shown,
            }
            for i, (node_id, kind, op_name, name, label, value, grad, span, shown) in enumerate(
                zip(
                    ids, g.kind, opnames, g.name, g.label, values, grads, g.span,
                    self.display_names, strict=True,
                )
            )
        ]
        for i in data_nodes(g):
            nodes[i]["constant"] = True
        check_time()
        edges = [
            {
                "id": edge_id,
                "source": ids[source],
                "target": ids[target],
                "index": index,
                "upstream": grads[target],
                "local": local,
                "local_shape": [] if local_shapes is None else local_shapes[e],
                "downstream": down,
            }
            for e, (edge_id, source, target, index, local, down) in enumerate(
                zip(eids, g.edge_source, g.edge_target, g.edge_index, locs, downs, strict=True)
            )
        ]
        check_time()
        warnings = list(self.warnings)
        steps = self._steps(ids, eids, local_values)
        check_time()
        return {
            "version": VERSION,
            "expression": g.expression,
            "output": ids[g.output],
            "value": json_number(self.value),
            "gradients": {name: json_value(v) for name, v in self.gradients.items()},
            "nodes": nodes,
            "edges": edges,
            "steps": steps,
            "check": self._check_dict(),
            "warnings": warnings,
        }

    def _check_dict(self) -> dict[str, Any] | None:
        if self.check is None:
            return None
        return {
            name: {
                "numeric": json_value(entry["numeric"]),
                "max_abs_error": json_number(float(entry["max_abs_error"])),
                "ok": bool(entry["ok"]),
                "tolerance": json_number(float(entry["tolerance"])),
                "evaluations": int(entry["evaluations"]),
                "elements": [_check_row(row) for row in entry["elements"]],
            }
            for name, entry in self.check.items()
        }

    def _locals(self) -> list[Any]:
        """Per edge: the local Jacobian, or None where it is larger than max_local_elements."""
        g = self.graph
        if self.run.locals is not None:
            return self.run.locals
        result: list[Any] = [None] * g.n_edges
        values = self.run.values
        limit = self.max_local_elements
        with np.errstate(all="ignore"):
            for i, op in enumerate(g.op):
                if op is None:
                    continue
                if i % 64 == 0:
                    self.deadline.check()
                args = g.args[i]
                out_size = math.prod(g.shape[i])
                wanted = [out_size * math.prod(g.shape[a]) <= limit for a in args]
                if not any(wanted):
                    continue
                jacobians = op.jacobian(values[i], *[values[a] for a in args])
                e = g.edge_start[i]
                for k in range(len(args)):
                    if wanted[k]:
                        result[e + k] = np.asarray(jacobians[k], dtype=np.float64).reshape(
                            g.shape[i] + g.shape[args[k]]
                        )
        return result

    # -- steps -----------------------------------------------------------
    def _steps(self, ids: list[str], eids: list[str], locals_: list[Any]) -> list[dict[str, Any]]:
        """Forward steps in topological order, then backward steps in reverse, with their texts.

        Built as whole lists (one comprehension per piece of text) rather than per
        step: a 100,000-op program has 200,000 steps.
        """
        g = self.graph
        run = self.run
        n = g.size
        display = self.display_names
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

        self.deadline.check()
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

        self.deadline.check()
        # Backward: the node's gradient (summed over its consumers), then each input edge's
        # [downstream] = [upstream] x [local].
        out_node = g.output
        f = display[out_node]
        heads = [f"d{f}/d{subject} = {grad}" for subject, grad in zip(subjects, grads, strict=True)]
        gathered: dict[int, list[int]] = {}
        for e, source in enumerate(sources):
            gathered.setdefault(source, []).append(e)
        reaches = self.reaches
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


def _check_row(row: dict[str, Any]) -> dict[str, Any]:
    """One element of the numeric check as JSON: its numbers, non-finite ones as strings."""
    return {key: json_number(v) if type(v) is float else v for key, v in row.items()}


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
