"""The Trace record: what every node and edge carried, and its JSON body.

The engine's numbers are kept as they are (flat lists); the JSON body is
built only when `to_dict()` is called, from this record, the warnings
(trace_warnings.py) and the step texts (step_texts.py), with every number
converted once by jsonform.py. Local Jacobians on the tensor path are built
here, and only for edges whose Jacobian is small enough to send
(`max_local_elements`); the others are null.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from gradtrace.display import display_names
from gradtrace.engine import Run
from gradtrace.graph import Graph, data_nodes
from gradtrace.jsonform import json_number, json_numbers, json_value
from gradtrace.limits import Deadline, without_gc
from gradtrace.step_texts import build_steps
from gradtrace.trace_warnings import collect_warnings

VERSION = 1


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
            values: list[Any] = json_numbers(run.values)
            grads: list[Any] = json_numbers(run.grads)
            downs: list[Any] = json_numbers(run.downstream)
            locs: list[Any] = json_numbers(local_values)
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
        nodes = node_records(g, ids, values, grads, shapes, self.display_names)
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
        texts = build_steps(g, run, self.display_names, ids, eids, local_values, self.deadline)
        check_time()
        return {
            "version": VERSION,
            "expression": g.expression,
            "output": ids[g.output],
            "value": json_number(self.value),
            "gradients": {name: json_value(v) for name, v in self.gradients.items()},
            "nodes": nodes,
            "edges": edges,
            "steps": texts,
            "check": self._check_dict(),
            "warnings": warnings,
            "groups": group_records(g, ids, self._group_gates(local_values)),
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

    def _group_gates(self, local_values: list[Any]) -> list[dict[str, Any]]:
        """Each group as one composite gate, as the lecture's sigmoid gate: its upstream (the
        output's grad) and, per input, its local gradient d(output)/d(input) and downstream.

        The local is the chain rule over the group's own edges, by reverse accumulation of
        their local Jacobians (already built for the edges): null when one of them is too
        large to send, or when it would be larger than max_local_elements itself. The
        downstream is the sum of the input's edges into the group (the members' gradients
        come from inside the group only, so it equals upstream times local).
        """
        g = self.graph
        run = self.run
        limit = self.max_local_elements
        sizes = [math.prod(shape) for shape in g.shape]
        gates = []
        for group in g.groups:
            self.deadline.check()
            out = group.output
            inside = set(group.members)
            downstream: dict[int, Any] = {}
            for i in group.members:
                e = g.edge_start[i]
                for k, a in enumerate(g.args[i]):
                    if a not in inside:
                        part = run.downstream[e + k]
                        downstream[a] = part if a not in downstream else downstream[a] + part
            local = _composite_local(g, group.members, out, local_values, sizes, limit)
            gates.append(
                {
                    "upstream": json_value(run.grads[out]),
                    "wires": [
                        {
                            "source": f"n{a}",
                            "local": None if local is None or local.get(a) is None else json_value(local[a]),
                            "local_shape": list(g.shape[out] + g.shape[a]),
                            "downstream": json_value(downstream[a]),
                        }
                        for a in group.inputs
                    ],
                }
            )
        return gates

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
                self.deadline.check()  # before every op's Jacobians, as the passes do
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


def node_records(
    g: Graph,
    ids: list[str],
    values: list[Any],
    grads: list[Any] | None,
    shapes: list[list[int]] | None,
    shown_names: list[str],
) -> list[dict[str, Any]]:
    """The trace's nodes as JSON, numbers already converted; without `grad` when grads is None
    (a Jacobian's graph, whose gradients are per pass)."""
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
            "grad": None if grads is None else grads[i],
            "span": [span[0], span[1]],
            "display_name": shown,
        }
        for i, (node_id, kind, op_name, name, label, value, span, shown) in enumerate(
            zip(ids, g.kind, opnames, g.name, g.label, values, g.span, shown_names, strict=True)
        )
    ]
    if grads is None:
        for node in nodes:
            del node["grad"]
    for i in data_nodes(g):
        nodes[i]["constant"] = True
    for k, group in enumerate(g.groups):
        group_id = f"g{k}"
        for i in group.members:
            # The innermost group: a call's nodes are its statement's too, and calls come first.
            nodes[i].setdefault("group", group_id)
    return nodes


def _composite_local(
    g: Graph, members: list[int], out: int, local_values: list[Any], sizes: list[int], limit: int
) -> dict[int, Any] | None:
    """d(out)/d(each node the members read), by reverse accumulation over the members' edges;
    None when an edge's Jacobian was not built or a product would pass `limit` elements."""
    out_size = sizes[out]
    if any(out_size * sizes[i] > limit for i in members):
        return None
    scalar = g.scalar
    adjoint: dict[int, Any] = {out: 1.0 if scalar else np.eye(out_size)}
    with np.errstate(all="ignore"):
        for i in reversed(members):
            through = adjoint.get(i)
            if through is None:
                continue
            e = g.edge_start[i]
            for k, a in enumerate(g.args[i]):
                local = local_values[e + k]
                if local is None or out_size * sizes[a] > limit:
                    return None
                part = through * local if scalar else through @ np.reshape(local, (sizes[i], sizes[a]))
                adjoint[a] = part if a not in adjoint else adjoint[a] + part
    if scalar:
        return adjoint
    return {a: np.reshape(j, g.shape[out] + g.shape[a]) for a, j in adjoint.items()}


def group_records(g: Graph, ids: list[str], gates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements, and the calls of defs, as groups the page can collapse into one box
    (see graph.Group), each with its composite gate (see Trace._group_gates)."""
    return [
        {
            "id": f"g{k}",
            "kind": group.kind,
            "name": group.name,
            "span": [group.span[0], group.span[1]],
            "nodes": [ids[i] for i in group.members],
            "inputs": [ids[i] for i in group.inputs],
            "output": ids[group.output],
            **gate,
        }
        for k, (group, gate) in enumerate(zip(g.groups, gates, strict=True))
    ]


def _check_row(row: dict[str, Any]) -> dict[str, Any]:
    """One element of the numeric check as JSON: its numbers, non-finite ones as strings."""
    return {key: json_number(v) if type(v) is float else v for key, v in row.items()}
