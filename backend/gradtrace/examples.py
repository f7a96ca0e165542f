"""The built-in examples: every worked example of the lecture, plus a few that show more.

Each one is a dict with `id`, `title`, `expression`, `values` and `teaches` (a
sentence on what it shows). The API serves them at /api/v1/examples and the
page embeds them; the tests trace every one.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

_EXAMPLES: list[dict[str, Any]] = [
    {
        "id": "cube-at-1",
        "title": "x**3 at x = 1",
        "expression": "x**3",
        "values": {"x": 1},
        "teaches": "The gradient is the slope: at x = 1 the output changes about 3 times as much as x.",
    },
    {
        "id": "cube-at-4",
        "title": "x**3 at x = 4",
        "expression": "x**3",
        "values": {"x": 4},
        "teaches": "The same function at x = 4 changes about 48 times as much as x: 3x**2 = 48.",
    },
    {
        "id": "chain-rule",
        "title": "Chain rule: y = x**2; z = 3*y",
        "expression": "y = x**2; z = 3*y",
        "values": {"x": 2},
        "teaches": "Multiply the derivatives along the chain: dz/dx = dz/dy * dy/dx = 3 * 2x = 6x.",
    },
    {
        "id": "lecture-program",
        "title": "The lecture's program: a = x + y; b = max(y, z); f = a * b",
        "expression": "a = x + y\nb = max(y, z)\nf = a * b",
        "values": {"x": 1, "y": 2, "z": 0},
        "teaches": (
            "Forward then backward, node by node: + distributes the upstream gradient, "
            "max routes it, * switches it, and y's gradients sum at its outward branch: 2 + 3 = 5."
        ),
    },
    {
        "id": "lecture-expression",
        "title": "(x + y) * max(y, z)",
        "expression": "(x + y) * max(y, z)",
        "values": {"x": 1, "y": 2, "z": 0},
        "teaches": "The same function as one expression: f = 6, df/dx = 2, df/dy = 5, df/dz = 0.",
    },
    {
        "id": "neural-layer",
        "title": "A neural layer: z = W @ x + b; h = sigmoid(z); s = u @ h",
        "expression": "z = W @ x + b\nh = sigmoid(z)\ns = u @ h",
        "values": {
            "W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]],
            "x": [1.0, 2.0, 3.0],
            "b": [0.5, -0.5],
            "u": [1.0, -1.0],
        },
        "teaches": (
            "Jacobians chain: the local error signal delta = u * sigmoid'(z) is reused for "
            "both b (ds/db = delta) and W (ds/dW = outer(delta, x)), and ds/du = h."
        ),
    },
    {
        "id": "sigmoid-gate",
        "title": "A sigmoid gate of our own: def sig(a) = 1 / (1 + exp(-a))",
        "expression": "def sig(a) = 1 / (1 + exp(-a))\nf = sig(w0 * x0 + w1 * x1 + w2)",
        "values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
        "teaches": (
            "A function is drawn as its primitives, and its call closes into one gate with its "
            "own local gradient: sigmoid's (1 - 0.73) * 0.73 = 0.2, without the four steps inside."
        ),
    },
    {
        "id": "max-tie",
        "title": "A tie: max(y, z) at y = z = 2",
        "expression": "max(y, z)",
        "values": {"y": 2, "z": 2},
        "teaches": "When max cannot choose, the upstream gradient is split evenly: 0.5 to each side.",
    },
    {
        "id": "broadcast-multiply",
        "title": "Broadcasting: sum(W * v)",
        "expression": "sum(W * v)",
        "values": {"W": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "v": [1.0, 0.0, -1.0]},
        "teaches": (
            "v is used once per row of W, so its gradient sums over the rows it was "
            "broadcast to, back to v's own shape."
        ),
    },
    {
        "id": "broadcast-bias",
        "title": "Broadcasting a bias: sum(X + b)",
        "expression": "sum(X + b)",
        "values": {"X": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "b": [0.5, -0.5]},
        "teaches": "A bias added to every row gets the sum of the rows' gradients: here 3 for each entry.",
    },
    {
        "id": "branches",
        "title": "Branches: x * x + x",
        "expression": "x * x + x",
        "values": {"x": 3},
        "teaches": "x feeds three edges, and its gradient is the sum of all three: x + x + 1 = 7.",
    },
    {
        "id": "softmax-loss",
        "title": "Softmax and cross-entropy",
        "expression": "p = softmax(z)\nloss = -log(dot(p, t))",
        "values": {"z": [1.0, 2.0, 3.0], "t": [0.0, 0.0, 1.0]},
        "teaches": "The softmax Jacobian is full, not diagonal; through the loss, dloss/dz = p - t.",
    },
    {
        "id": "cross-entropy-index",
        "title": "Cross-entropy of a class: -log(softmax(z)[y])",
        "expression": "p = softmax(z)\nloss = -log(p[y])",
        "values": {"z": [1.0, 2.0, 3.0], "y": 1},
        "teaches": (
            "Indexing routes: p[y] sends its upstream to element y alone, so through softmax "
            "dloss/dz = p - onehot(y). The class y is data, read as an index: it needs no gradient."
        ),
    },
    {
        "id": "nan",
        "title": "A NaN: log(x) - log(x) at x = 0",
        "expression": "log(x) - log(x)",
        "values": {"x": 0},
        "teaches": (
            "-inf minus -inf is NaN: the trace is still answered, and a warning names the "
            "node where the non-finite value first appeared."
        ),
    },
]


def examples() -> list[dict[str, Any]]:
    """A fresh copy of the built-in examples (callers may change theirs)."""
    return deepcopy(_EXAMPLES)
