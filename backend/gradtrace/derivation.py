"""By hand: the chain rule from the output to one variable, path by path, as the lecture writes it.

The lecture derives ds/db by breaking the program into pieces and multiplying
their Jacobians along the way from s down to b:

    ds/db = ds/dh . dh/dz . dz/db = u^T . diag(f'(z)) . I

This module writes that derivation for any input or named intermediate v of
a trace: every path from the output down to v, each as a product of local
Jacobians in the program's names, then in each factor's closed form from the
registry (`Op.closed_form`), then in numbers; the sum over the paths where v
has several consumers (gradients sum at outward branches); the shared prefix
δ, the local error signal at the node where the paths to several inputs part,
computed once and reused; and v's gradient in the Jacobian form and in the
shape convention side by side.

It reads only the trace's JSON record (nodes, edges, values) and the registry,
so it knows nothing of how the engine computed them. A path's product is
carried as the backward pass carries it, one VJP per factor, so a factor too
large to send as a Jacobian still multiplies exactly.

Paths are counted exactly by dynamic programming (their number can grow as
2^depth); at most `max_paths` are listed and the rest summed in one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradtrace.display import format_number
from gradtrace.errors import TraceError, limit_exceeded
from gradtrace.jsonform import json_value
from gradtrace.ops import OPS, Shape

#: Paths listed per variable unless the caller asks for fewer (a documented setting on the server).
DEFAULT_MAX_PATHS = 16
#: A count above this is sent as a decimal string: JSON numbers are exact only up to 2^53.
EXACT_JSON_INTEGER = 2**53
#: A factor or a result with more elements than this is written in LaTeX by its shape.
MAX_TEX_ELEMENTS = 16
#: Above this many factors in all, the listed paths are cut short (a long chain is one path).
MAX_FACTORS = 2048

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)


class DerivationError(TraceError):
    """A variable that has no derivation: unknown, a constant, or the output itself."""

    type = "invalid_derivation"


# ---------------------------------------------------------------------------
# LaTeX of names and numbers
# ---------------------------------------------------------------------------


def tex_name(name: str) -> str:
    """A program's name as a maths symbol: x stays x, W1 becomes W_{1}, long names stay upright."""
    if len(name) == 1:
        return name
    match = re.fullmatch(r"([A-Za-z])([0-9]+)", name, re.ASCII)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    if _IDENTIFIER.fullmatch(name):
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    escaped = re.sub(r"([\\{}$&#^_%~])", r"\\\1", name)
    return r"(\text{" + escaped + "})"


def tex_number(v: float) -> str:
    """One number in the one number format, as LaTeX (10^k for the exponent form)."""
    text = format_number(v)
    if text == "inf":
        return r"\infty"
    if text == "-inf":
        return r"-\infty"
    if text == "NaN":
        return r"\text{NaN}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return text


def tex_matrix(value: Any, rows: int, cols: int) -> str:
    """A Jacobian-form matrix (rows x cols) in numbers, or its size when it is too large to read."""
    array = np.asarray(value, dtype=np.float64).reshape(rows, cols)
    if rows * cols == 1:
        return tex_number(float(array[0, 0]))
    if rows * cols > MAX_TEX_ELEMENTS:
        return rf"\underset{{{rows} \times {cols}}}{{[\,\cdots\,]}}"
    body = r" \\ ".join(" & ".join(tex_number(float(v)) for v in row) for row in array)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def _fill(template: str, names: Sequence[str]) -> str:
    """An op's closed-form template with #0 (the output) and #1, #2 (the arguments) filled in."""
    return re.sub(r"#([0-9])", lambda m: names[int(m[1])], template)


def _partial(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


# ---------------------------------------------------------------------------
# The trace as a graph again
# ---------------------------------------------------------------------------


def _number(v: Any) -> Any:
    """A JSON number or nested list (non-finite as strings) as float64."""
    if isinstance(v, list):
        return np.array([_number(x) for x in v], dtype=np.float64)
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


class _Graph:
    """The trace record indexed for walking: nodes by id, each node's input and output edges."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.nodes = {node["id"]: node for node in record["nodes"]}
        self.order = [node["id"] for node in record["nodes"]]
        self.edges = {edge["id"]: edge for edge in record["edges"]}
        self.output = record["output"]
        self.inputs_of: dict[str, list[dict[str, Any]]] = {i: [] for i in self.order}
        self.consumers: dict[str, list[dict[str, Any]]] = {i: [] for i in self.order}
        for edge in record["edges"]:
            self.inputs_of[edge["target"]].append(edge)
            self.consumers[edge["source"]].append(edge)
        for edges in self.inputs_of.values():
            edges.sort(key=lambda e: e["index"])
        self.tex = {i: tex_name(node["display_name"]) for i, node in self.nodes.items()}
        self._values: dict[str, Any] = {}

    def value(self, node_id: str) -> Any:
        """A node's value as a float64 array (0-d for a number), as the ops' VJPs take it."""
        if node_id not in self._values:
            self._values[node_id] = np.asarray(_number(self.nodes[node_id]["value"]), dtype=np.float64)
        return self._values[node_id]

    def shape(self, node_id: str) -> Shape:
        return tuple(self.nodes[node_id]["shape"])

    def path_counts(self) -> dict[str, int]:
        """How many paths lead from each node up to the output (exact Python ints)."""
        count = dict.fromkeys(self.order, 0)
        count[self.output] = 1
        for node_id in reversed(self.order):  # consumers come later in a topological order
            if node_id != self.output:
                count[node_id] = sum(count[e["target"]] for e in self.consumers[node_id])
        return count

    def leaves_below(self) -> dict[str, frozenset[str]]:
        """Per node: the inputs (not constants) its value depends on."""
        below: dict[str, frozenset[str]] = {}
        for node_id in self.order:
            node = self.nodes[node_id]
            if node["kind"] == "input" and not node.get("constant"):
                below[node_id] = frozenset([node_id])
            elif node["kind"] == "input":  # data: no path to it is asked for
                below[node_id] = frozenset()
            else:
                below[node_id] = frozenset().union(*(below[e["source"]] for e in self.inputs_of[node_id]))
        return below


# ---------------------------------------------------------------------------
# Factors and paths
# ---------------------------------------------------------------------------


def _closed_form(graph: _Graph, edge: dict[str, Any]) -> str:
    """The edge's local Jacobian d target / d source in the registry's closed form, in the program's names."""
    target, source = edge["target"], edge["source"]
    op = OPS[graph.nodes[target]["op"]]
    args = [e["source"] for e in graph.inputs_of[target]]
    shapes = tuple(graph.shape(a) for a in args)
    template = op.closed_forms(shapes)[edge["index"]]
    local = _fill(template, [graph.tex[target], *(graph.tex[a] for a in args)])
    if not op.elementwise:
        return local
    out_size, arg_size = _size(graph.shape(target)), _size(graph.shape(source))
    if out_size == 1:
        return local
    if arg_size == 1:  # a number broadcast over a tensor: a column of local slopes
        return {"1": r"\mathbf{1}", "-1": r"-\mathbf{1}"}.get(local, local)
    if graph.shape(source) == graph.shape(target):
        return {"1": "I", "-1": "-I"}.get(local, rf"\operatorname{{diag}}({local})")
    return rf"\operatorname{{diag}}({local})\,B"  # broadcast along an axis: B repeats the rows


def _factor(graph: _Graph, edge: dict[str, Any]) -> dict[str, Any]:
    target, source = edge["target"], edge["source"]
    rows, cols = _size(graph.shape(target)), _size(graph.shape(source))
    local = edge["local"]
    return {
        "edge": edge["id"],
        "target": target,
        "source": source,
        "symbol": _partial(graph.tex[target], graph.tex[source]),
        "closed_form": _closed_form(graph, edge),
        "shape": [rows, cols],  # the Jacobian form: size(target) x size(source)
        "local_shape": edge["local_shape"],
        "value": local,  # the edge's local Jacobian as the trace sends it, or null when too large
        "value_latex": None if local is None else tex_matrix(_number(local), rows, cols),
    }


def _vjp(graph: _Graph, edge: dict[str, Any], upstream: Any) -> Any:
    """[downstream] = [upstream] x [local] along one edge, as the backward pass computes it."""
    target = edge["target"]
    op = OPS[graph.nodes[target]["op"]]
    args = [graph.value(e["source"]) for e in graph.inputs_of[target]]
    with np.errstate(all="ignore"):
        downstream = op.vjp(upstream, graph.value(target), *args)[edge["index"]]
    return np.asarray(downstream, dtype=np.float64).reshape(graph.shape(edge["source"]))


def _paths(graph: _Graph, of: str, counts: dict[str, int], limit: int) -> list[list[dict[str, Any]]]:
    """Up to `limit` paths from the output down to `of`, each a list of edges, output first."""
    found: list[list[dict[str, Any]]] = []
    factors = 0
    # Depth-first from `of` up through its consumers, without recursion; only
    # consumers that reach the output lead anywhere.
    stack: list[tuple[str, list[dict[str, Any]]]] = [(of, [])]
    while stack and len(found) < limit:
        node_id, upward = stack.pop()
        if node_id == graph.output:
            factors += len(upward)
            if found and factors > MAX_FACTORS:
                break
            found.append(list(reversed(upward)))
            continue
        for edge in reversed(graph.consumers[node_id]):
            if counts[edge["target"]]:
                stack.append((edge["target"], [*upward, edge]))
    return found


def _parting_nodes(graph: _Graph, below: dict[str, frozenset[str]]) -> set[str]:
    """Nodes where the paths to two or more inputs part: two input edges that lead to different inputs."""
    parting = set()
    for node_id in graph.order:
        if node_id == graph.output or graph.nodes[node_id]["kind"] != "op":
            continue
        branches = [below[e["source"]] for e in graph.inputs_of[node_id] if below[e["source"]]]
        if len(branches) >= 2 and len(frozenset().union(*branches)) >= 2:
            parting.add(node_id)
    return parting


def _delta_on(graph: _Graph, path: list[dict[str, Any]], parting: set[str]) -> int | None:
    """How many of the path's first factors make δ: up to its deepest named parting node (else any)."""
    named = unnamed = None
    for k, edge in enumerate(path[:-1]):
        node_id = edge["source"]
        if node_id in parting:
            unnamed = k + 1
            if graph.nodes[node_id]["name"] is not None:
                named = k + 1
    return named if named is not None else unnamed


# ---------------------------------------------------------------------------
# One variable's derivation
# ---------------------------------------------------------------------------


def _count(n: int) -> int | str:
    return n if n <= EXACT_JSON_INTEGER else str(n)


def _forms(graph: _Graph, node_id: str, grad: Any, last: dict[str, Any] | None) -> dict[str, Any]:
    """The gradient in the Jacobian form (one row) and in the shape convention (v's own shape)."""
    shape = graph.shape(node_id)
    size = _size(shape)
    name = graph.tex[node_id]
    out = graph.tex[graph.output]
    symbol = _partial(out, name)
    row = np.asarray(grad, dtype=np.float64).reshape(1, size)
    forms: dict[str, Any] = {
        "jacobian": {
            "shape": [1, size],
            "latex": rf"{symbol} \in \mathbb{{R}}^{{1 \times {size}}} = {tex_matrix(row, 1, size)}",
            "note": (
                "the Jacobian form: one output, so one row with a column per element "
                f"of {graph.nodes[node_id]['display_name']}; it makes the chain rule a product of matrices"
            ),
        },
        "shape_convention": {
            "shape": list(shape),
            "latex": rf"{symbol} = {_tex_shaped(grad, shape)}",
            "note": (
                "the shape convention: the gradient has the shape of the variable, "
                "which is what a gradient step needs"
            ),
        },
        "explanation": _shape_explanation(graph, node_id, shape),
    }
    outer = _outer_product(graph, node_id, last)
    if outer is not None:
        forms["outer"] = outer
    return forms


def _tex_shaped(value: Any, shape: Shape) -> str:
    array = np.asarray(value, dtype=np.float64)
    if len(shape) == 0:
        return tex_number(float(array))
    if len(shape) == 1:
        return tex_matrix(array, shape[0], 1)  # a vector as the column it stands for
    return tex_matrix(array, shape[0], int(_size(shape[1:])))


def _tex_row(value: Any) -> str:
    """A gradient in the Jacobian form: one row, as the product of the path's Jacobians comes out."""
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    return tex_matrix(array, 1, array.size)


def _shape_explanation(graph: _Graph, node_id: str, shape: Shape) -> str:
    name = graph.nodes[node_id]["display_name"]
    if len(shape) == 0:
        return f"{name} is a number: both forms are that one number."
    if len(shape) == 1:
        n = shape[0]
        return (
            f"{name} is a vector of {n}: the Jacobian form is a 1 x {n} row; the shape convention "
            f"wants a column like {name}, so the row is transposed (δ^T where the row is δ)."
        )
    n, m = shape[0], _size(shape[1:])
    return (
        f"{name} is {n} x {m}: the Jacobian form is a 1 x {n * m} row (one column per element); "
        f"the shape convention gives it {name}'s own {n} x {m} shape."
    )


def _outer_product(graph: _Graph, node_id: str, last: dict[str, Any] | None) -> dict[str, Any] | None:
    """For W in W @ x: dS/dW = δ^T x^T, an outer product [n x m] = [n x 1][1 x m], row i = δ_i x."""
    if last is None or len(graph.shape(node_id)) != 2:
        return None
    target = last["target"]
    node = graph.nodes[target]
    if node["op"] != "matmul" or last["index"] != 0:
        return None
    other = graph.inputs_of[target][1]["source"]
    if len(graph.shape(other)) != 1:
        return None
    delta = np.asarray(_number(node["grad"]), dtype=np.float64).reshape(-1)
    x = np.asarray(graph.value(other), dtype=np.float64).reshape(-1)
    n, m = delta.size, x.size
    name, x_name, out = graph.tex[node_id], graph.tex[other], graph.tex[graph.output]
    delta_name = _partial(out, graph.tex[target])
    return {
        "delta_node": target,
        "input_node": other,
        "rows": [[float(d) * float(v) for v in x] for d in delta],
        "latex": [
            rf"{_partial(out, name)} = ({delta_name})^{{\top}}\,{x_name}^{{\top}}"
            rf" \quad [{n} \times {m}] = [{n} \times 1]\,[1 \times {m}]",
            rf"= {tex_matrix(delta, n, 1)} {tex_matrix(x, 1, m)} = {tex_matrix(np.outer(delta, x), n, m)}",
        ],
        "note": (
            f"each weight {graph.nodes[node_id]['display_name']}[i, j] is used only for element i, "
            f"times input element j: row i of the gradient is δ_i times "
            f"{graph.nodes[other]['display_name']}"
        ),
    }


def derive(
    record: dict[str, Any], of: Sequence[str] | None = None, max_paths: int = DEFAULT_MAX_PATHS
) -> dict[str, Any]:
    """Derivations for `of` (default: every input and named intermediate), with the shared δ nodes.

    `record` is a trace's JSON body (`Trace.to_dict()`).
    """
    return _derivations(record, of, max_paths)


def _targets(graph: _Graph, of: Sequence[str] | None) -> list[str]:
    by_name: dict[str, str] = {}
    data: set[str] = set()  # inputs the request names as constants: they need no gradient
    for node_id in graph.order:
        node = graph.nodes[node_id]
        if node.get("constant") and node["name"] is not None:
            data.add(node["name"])
        elif node["name"] is not None and node["kind"] != "constant" and node_id != graph.output:
            by_name.setdefault(node["name"], node_id)
    if of is None:
        return list(by_name.values())
    targets = []
    for name in of:
        if name not in by_name:
            output = graph.nodes[graph.output]
            if name in data:
                why = f"'{name}' is a constant (data): a constant needs no gradient"
            elif name == output["name"]:
                why = f"'{name}' is the output: its gradient is 1 by definition"
            else:
                known = ", ".join(sorted(by_name)) or "none"
                why = f"'{name}' is not an input or a named intermediate here (these are: {known})"
            raise DerivationError(why)
        targets.append(by_name[name])
    return targets


def _derivations(record: dict[str, Any], of: Sequence[str] | None, max_paths: int) -> dict[str, Any]:
    graph = _Graph(record)
    counts = graph.path_counts()
    below = graph.leaves_below()
    parting = _parting_nodes(graph, below)
    used: set[str] = set()
    derivations = [
        _derive_one(graph, node_id, counts, parting, max_paths, used) for node_id in _targets(graph, of)
    ]
    return {
        "output": graph.output,
        "derivations": derivations,
        # Every input below a δ node reuses it, whichever variables were asked for.
        "shared": [
            _shared(graph, node_id, sorted(below[node_id], key=graph.order.index), counts)
            for node_id in sorted(used, key=graph.order.index)
        ],
    }


def _derive_one(
    graph: _Graph,
    node_id: str,
    counts: dict[str, int],
    parting: set[str],
    max_paths: int,
    used: set[str],
) -> dict[str, Any]:
    node = graph.nodes[node_id]
    shape = graph.shape(node_id)
    out = graph.tex[graph.output]
    name = graph.tex[node_id]
    total = counts[node_id]
    listed = _paths(graph, node_id, counts, max_paths)
    seed = np.ones(graph.shape(graph.output))
    paths = []
    listed_sum = np.zeros(shape)
    for path in listed:
        product = seed
        for edge in path:
            product = _vjp(graph, edge, product)
        with np.errstate(all="ignore"):
            listed_sum = listed_sum + product
        delta = _delta_on(graph, path, parting)
        if delta is not None:
            used.add(path[delta - 1]["source"])
        factors = [_factor(graph, edge) for edge in path]
        paths.append(
            {
                "nodes": [graph.output, *(edge["source"] for edge in path)],
                "edges": [edge["id"] for edge in path],
                "factors": factors,
                "product": _json(product),
                "delta": None if delta is None else {"node": path[delta - 1]["source"], "factors": delta},
                "latex": _path_latex(graph, factors, delta, product, shape),
            }
        )
    grad = _number(node["grad"])
    with np.errstate(all="ignore"):
        rest = np.asarray(grad, dtype=np.float64) - listed_sum
    omitted = total - len(listed)
    symbol = _partial(out, name)
    lines = _sum_lines(symbol, [p["latex"] for p in paths], omitted, _tex_row(grad))
    return {
        "of": node["name"],
        "node": node_id,
        "symbol": symbol,
        "shape": list(shape),
        "path_count": _count(total),
        "paths": paths,
        "omitted_paths": _count(omitted),
        "omitted_sum": _json(rest) if omitted else None,
        "summary": (
            None
            if not omitted
            else f"{omitted} more path{'s' if omitted != 1 else ''} not listed (max_derivation_paths = "
            f"{max_paths}); together they add {_plain(rest)}"
        ),
        "sum": node["grad"],
        "latex": lines,
        "forms": _forms(graph, node_id, grad, listed[0][-1] if len(listed) == 1 else None),
    }


def _grouped(latex: str) -> str:
    r"""A factor of a product in parentheses where it is itself a sum or a Kronecker product.

    A subexpression's name, (\text{x + y}), is in its parentheses already: its sum does not count.
    """
    bare = re.sub(r"\(\\text\{[^{}]*\}\)", "", latex)
    return rf"\left({latex}\right)" if any(op in bare for op in (r"\otimes", " - ", " + ")) else latex


def _sum_lines(symbol: str, paths: list[dict[str, Any]], omitted: int, total: str) -> list[str]:
    """The chain rule written three times (names, closed forms, numbers), then its value.

    Where the variable has several paths to the output, each line is the sum
    over them: gradients sum at outward branches.
    """
    more = rf" + \underbrace{{\cdots}}_{{{omitted}\ \text{{more}}}}" if omitted else ""
    if not paths:
        return [f"{symbol} = 0"]

    def summed(key: str) -> str:
        return " + ".join(p[key] for p in paths) + more

    lines = [f"{symbol} = {summed('symbols')}"]
    if len(paths) == 1 and not omitted and paths[0]["with_delta"] is not None:
        lines.append(f"= {paths[0]['with_delta']}")
    lines += [f"= {summed('closed')}", f"= {summed('numbers')}"]
    if len(paths) > 1 or omitted:
        lines.append(f"= {summed('product')} = {total}")
    else:
        lines.append(f"= {total}")
    return lines


def _path_latex(
    graph: _Graph, factors: list[dict[str, Any]], delta: int | None, product: Any, shape: Shape
) -> dict[str, Any]:
    # Numbers are multiplied with a dot, matrices by juxtaposition, as the lecture writes them.
    times = r" \cdot " if all(f["shape"] == [1, 1] for f in factors) else r" \, "
    symbols = times.join(f["symbol"] for f in factors)
    closed = times.join(_grouped(f["closed_form"]) if len(factors) > 1 else f["closed_form"] for f in factors)
    numbers = times.join(
        f["value_latex"] if f["value_latex"] is not None
        else rf"\underset{{{f['shape'][0]} \times {f['shape'][1]}}}{{[\,\cdots\,]}}"
        for f in factors
    )
    result: dict[str, Any] = {
        "symbols": symbols,
        "closed": closed,
        "numbers": numbers,
        "product": _tex_row(product),
        "with_delta": None,
    }
    if delta is not None:
        node_id = factors[delta - 1]["source"]
        rest = r" \, ".join(f["symbol"] for f in factors[delta:])
        result["with_delta"] = r"\delta_{" + graph.tex[node_id] + "}" + (r" \, " + rest if rest else "")
    return result


def _shared(graph: _Graph, node_id: str, users: list[str], counts: dict[str, int]) -> dict[str, Any]:
    """A δ node: the local error signal there, computed once by the backward pass and reused."""
    node = graph.nodes[node_id]
    out = graph.tex[graph.output]
    name = graph.tex[node_id]
    size = _size(graph.shape(node_id))
    grad = np.asarray(_number(node["grad"]), dtype=np.float64)
    # Written as the product along the way down when there is only one way.
    one_way = _paths(graph, node_id, counts, 1) if counts[node_id] == 1 else []
    factors = [_factor(graph, edge) for edge in one_way[0]] if one_way else []
    lines = [r"\delta_{" + name + "} = " + _partial(out, name)]
    if len(factors) > 1:
        lines[0] += " = " + r" \, ".join(f["symbol"] for f in factors)
        lines.append("= " + r" \, ".join(f["closed_form"] for f in factors))
    lines.append("= " + tex_matrix(grad, 1, size))
    return {
        "node": node_id,
        "name": node["display_name"],
        "symbol": r"\delta_{" + name + "}",
        "label": f"the local error signal at {node['display_name']}",
        "value": node["grad"],
        "shape": [1, size],
        "used_by": [graph.nodes[u]["name"] for u in users],
        "edges": [f["edge"] for f in factors],
        "latex": lines,
        "note": (
            f"computed once by the backward pass and reused for "
            f"{', '.join(graph.nodes[u]['display_name'] for u in users)}"
        ),
    }


def _json(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return json_value(float(array) if array.ndim == 0 else array)


def _plain(value: Any) -> str:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return format_number(float(array))
    if array.size > MAX_TEX_ELEMENTS:
        return "<" + "x".join(map(str, array.shape)) + ">"
    return str([format_number(float(v)) for v in array.reshape(-1)]).replace("'", "")


def check_max_paths(max_paths: int, limit: int) -> None:
    """Refuse a request for more listed paths than the server's setting allows."""
    if max_paths > limit:
        raise limit_exceeded("max_derivation_paths", "the paths asked for per variable", max_paths, limit)
