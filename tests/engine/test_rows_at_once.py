"""The Jacobian's m backward passes run at once (jacobians.rows_at_once) give what the
engine's passes give one by one: every row and every pass's adjoints.

Its rows VJPs (an op's VJP applied to many upstreams, one per row) are checked op by
op against the op's own VJP, row by row, over the registry-wide shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.engine import forward
from gradtrace.jacobians import prepare, reverse_passes, rows_at_once, with_locals
from gradtrace.limits import Deadline, Limits
from gradtrace.ops import OPS, known_operands
from tests.engine.test_registry import CASES, inputs_for

RNG = np.random.default_rng(7)
PROGRAMS = [
    ("h = sigmoid(z)", {"z": RNG.standard_normal(5)}, ()),
    ("z = W @ x + b", {"W": RNG.standard_normal((4, 3)), "x": RNG.standard_normal(3), "b": RNG.standard_normal(4)}, ("W",)),
    ("z = W @ x + b; h = sigmoid(z)", {"W": RNG.standard_normal((4, 3)), "x": RNG.standard_normal(3), "b": RNG.standard_normal(4)}, ()),
    ("z = x @ W * c", {"W": RNG.standard_normal((3, 4)), "x": RNG.standard_normal(3), "c": 2.0}, ("c",)),
    ("z = A @ B - max(A @ B, 0.1) / 3", {"A": RNG.standard_normal((2, 3)), "B": RNG.standard_normal((3, 4))}, ()),
    ("z = sum(W @ x) * x + b ** 2", {"W": RNG.standard_normal((4, 3)), "x": RNG.standard_normal(3), "b": RNG.standard_normal(3)}, ()),
    ("z = dot(x, x) * x + 2 * 3", {"x": RNG.standard_normal(3)}, ()),
    ("y = exp(u) * v - u", {"u": RNG.standard_normal((2, 1)), "v": RNG.standard_normal((1, 3))}, ()),
    ("s = u @ tanh(M @ x)", {"u": RNG.standard_normal(2), "M": RNG.standard_normal((2, 3)), "x": RNG.standard_normal(3)}, ()),
    ("(x + y) * max(y, z)", {"x": 1.0, "y": 2.0, "z": 0.0}, ()),
    ("h = -tanh(z) - z", {"z": RNG.standard_normal(3)}, ()),  # zeros times -1: 0.0, never -0.0
]


def assert_same(got: object, want: object) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    zero = np.asarray(want) == 0.0
    np.testing.assert_array_equal(np.signbit(got)[zero], np.signbit(want)[zero])  # as the JSON writes them


@pytest.mark.parametrize(("expression", "values", "constants"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_rows_at_once_give_the_engines_passes(expression: str, values: dict, constants: tuple) -> None:
    graph, inputs = prepare(expression, values, constants, Limits.unlimited())
    deadline = Deadline(None)
    node_values, locals_ = forward(graph, inputs, deadline)
    with known_operands(node_values):
        rows, passes = rows_at_once(graph, node_values, locals_, deadline)
        one_by_one, engine_passes = reverse_passes(with_locals(graph, node_values), node_values, locals_, deadline)
    assert_same(rows, one_by_one)
    assert len(passes) == len(engine_passes)
    for adjoints, expected in zip(passes, engine_passes, strict=True):
        for got, want in zip(adjoints, expected, strict=True):
            assert (got is None) == (want is None)
            if want is not None:
                assert np.shape(got) == np.shape(want)
                assert_same(got, want)


ROWS_CASES = [(name, shapes) for name, shapes in CASES if "rows_vjp" in OPS[name].extra]


def test_the_layers_ops_have_a_rows_vjp() -> None:
    for name in ("add", "sub", "mul", "div", "pow", "max", "min", "sigmoid", "tanh", "exp", "matmul"):
        assert "rows_vjp" in OPS[name].extra, name


@pytest.mark.parametrize(("name", "shapes"), ROWS_CASES, ids=[f"{n}-{s}" for n, s in ROWS_CASES])
def test_rows_vjp_is_the_vjp_row_by_row(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    args = inputs_for(op, shapes, seed=3)
    out = op.forward(*args)
    upstream = np.random.default_rng(4).normal(size=(4, *np.shape(out)))
    per_row = [op.vjp(g, out, *args) for g in upstream]
    for wanted in [(True,) * op.arity, *[tuple(k == j for k in range(op.arity)) for j in range(op.arity)]]:
        rows = op.extra["rows_vjp"](wanted, upstream, out, *args)
        for k in range(op.arity):
            if not wanted[k]:
                assert rows[k] is None  # an argument that needs no gradient gets none computed
                continue
            assert np.shape(rows[k]) == (4, *shapes[k])
            # rows_at_once writes into each downstream: a new array (or the upstream), never a value.
            assert rows[k].flags.writeable
            assert not any(np.shares_memory(rows[k], value) for value in (out, *args))
            expected = np.stack([np.broadcast_to(row[k], shapes[k]) for row in per_row])
            np.testing.assert_allclose(rows[k], expected, rtol=1e-12, atol=1e-12)
