"""Every op in the registry, over shapes (), (3,), (2,3), (1,3), (3,2) where legal.

One parametrized test per property, iterating over the registry, so a new
op is checked by itself: its Jacobian against central differences, its VJP
against its Jacobian, its JVP (forward mode) against its Jacobian and against
central differences along a random direction, its scalar fast path against numpy, and its gradients
through the whole engine with the numeric check.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gradtrace
from gradtrace.ops import FUNCTIONS, OPS, Op, ShapeMismatch, describe_ops
from tests.engine.invariants import assert_trace_invariants

SHAPES = [(), (3,), (2, 3), (1, 3), (3, 2)]


def legal_cases() -> list[tuple[str, tuple[tuple[int, ...], ...]]]:
    cases = []
    for op in OPS.values():
        for shapes in itertools.product(SHAPES, repeat=op.arity):
            try:
                op.shape(*shapes)
            except ShapeMismatch:
                continue
            cases.append((op.name, shapes))
    return cases


CASES = legal_cases()


def sample(domain: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if domain == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "nonzero":
        return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    # Stay away from kinks at 0 and from ties, where one-sided slopes differ.
    return rng.uniform(0.3, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def inputs_for(op: Op, shapes: tuple[tuple[int, ...], ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(sample(op.domain[k], s, rng)) for k, s in enumerate(shapes)]


def numeric_jacobian(op: Op, args: list[np.ndarray], k: int, h: float = 1e-6) -> np.ndarray:
    out_shape = np.shape(op.forward(*args))
    arg = args[k]
    jac = np.zeros(out_shape + arg.shape)
    for index in np.ndindex(arg.shape):
        plus = [a.copy() for a in args]
        minus = [a.copy() for a in args]
        plus[k][index] += h
        minus[k][index] -= h
        column = (np.asarray(op.forward(*plus)) - np.asarray(op.forward(*minus))) / (2 * h)
        jac[(...,) + index] = column
    return jac


def test_every_op_is_covered_and_described() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(OPS)
    descriptions = {d["name"]: d for d in describe_ops()}
    assert set(descriptions) == set(OPS)
    for name, d in descriptions.items():
        op = OPS[name]
        assert len(d["local_latex"]) == op.arity
        assert d["forward_latex"] and d["syntax"]
        assert isinstance(d["elementwise"], bool)
    assert "distributes" in descriptions["add"]["intuition"]
    assert "routes" in descriptions["max"]["intuition"]
    assert "switches" in descriptions["mul"]["intuition"]
    for required in "exp log sqrt abs sin cos tanh sigmoid relu max min sum mean dot softmax".split():
        assert required in FUNCTIONS


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_jacobian_matches_central_differences(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    args = inputs_for(op, shapes)
    out = op.forward(*args)
    assert np.shape(out) == op.shape(*shapes)
    jacobians = op.jacobian(out, *args)
    for k in range(op.arity):
        expected = numeric_jacobian(op, args, k)
        np.testing.assert_allclose(jacobians[k], expected, rtol=1e-5, atol=1e-7, err_msg=f"{name} arg {k}")


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_vjp_matches_jacobian(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    args = inputs_for(op, shapes, seed=1)
    out = op.forward(*args)
    upstream = np.random.default_rng(2).normal(size=np.shape(out))
    downstream = op.vjp(upstream, out, *args)
    jacobians = op.jacobian(out, *args)
    for k in range(op.arity):
        assert np.shape(downstream[k]) == shapes[k]
        expected = np.tensordot(upstream, jacobians[k], axes=np.ndim(out))
        np.testing.assert_allclose(downstream[k], expected, rtol=1e-12, atol=1e-12)


def test_every_op_has_a_tangent_rule() -> None:
    missing = [name for name, op in OPS.items() if op.jvp is None]
    assert not missing, f"ops without a jvp (forward mode): {missing}"


def tangents_for(shapes: tuple[tuple[int, ...], ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_jvp_matches_jacobian(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    assert op.jvp is not None
    args = inputs_for(op, shapes, seed=5)
    out = op.forward(*args)
    tangents = tangents_for(shapes, seed=6)
    jacobians = op.jacobian(out, *args)
    parts = [
        np.tensordot(np.reshape(jacobians[k], np.shape(out) + shapes[k]), tangents[k], axes=len(shapes[k]))
        for k in range(op.arity)
    ]
    # One argument at a time (the others carry no tangent), then all at once.
    for k in range(op.arity):
        alone = [None] * op.arity
        alone[k] = tangents[k]
        tangent = op.jvp(tuple(alone), out, *args)
        assert np.shape(tangent) == np.shape(out), (name, k)
        np.testing.assert_allclose(tangent, parts[k], rtol=1e-12, atol=1e-12, err_msg=f"{name} arg {k}")
    together = op.jvp(tuple(tangents), out, *args)
    np.testing.assert_allclose(together, sum(parts), rtol=1e-12, atol=1e-12)
    nothing = op.jvp((None,) * op.arity, out, *args)
    assert np.shape(nothing) == np.shape(out) and not np.any(nothing)


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_jvp_matches_central_differences(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    assert op.jvp is not None
    args = inputs_for(op, shapes, seed=7)
    tangents = tangents_for(shapes, seed=8)
    h = 1e-6
    plus = [a + h * t for a, t in zip(args, tangents, strict=True)]
    minus = [a - h * t for a, t in zip(args, tangents, strict=True)]
    expected = (np.asarray(op.forward(*plus)) - np.asarray(op.forward(*minus))) / (2 * h)
    tangent = op.jvp(tuple(tangents), op.forward(*args), *args)
    np.testing.assert_allclose(tangent, expected, rtol=1e-5, atol=1e-7, err_msg=name)


SCALAR_CASES = [name for name, shapes in CASES if all(s == () for s in shapes)]


@pytest.mark.parametrize("name", SCALAR_CASES)
def test_scalar_fast_path_matches_numpy(name: str) -> None:
    op = OPS[name]
    assert op.scalar is not None
    for seed in range(5):
        args = inputs_for(op, ((),) * op.arity, seed=seed)
        floats = [float(a) for a in args]
        value, *locals_ = op.scalar(*floats)
        assert isinstance(value, float)
        out = op.forward(*args)
        assert value == pytest.approx(float(out), rel=1e-13)
        jacobians = op.jacobian(out, *args)
        for k in range(op.arity):
            assert locals_[k] == pytest.approx(float(jacobians[k]), rel=1e-12, abs=1e-15)


def expression_for(op: Op) -> str:
    return op.template.format(*["a", "b"][: op.arity])


# The engine makes an identity node only for an output that is an earlier value, and
# outputs hold one number: identity goes through the engine on scalars only.
ENGINE_CASES = [(n, s) for n, s in CASES if n != "identity" or not OPS[n].shape(*s)]


@pytest.mark.parametrize(("name", "shapes"), ENGINE_CASES, ids=[f"{n}-{s}" for n, s in ENGINE_CASES])
def test_through_the_engine_with_the_numeric_check(name: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    op = OPS[name]
    args = inputs_for(op, shapes, seed=3)
    values: dict[str, object] = {"ab"[k]: a.tolist() for k, a in enumerate(args)}
    out_shape = op.shape(*shapes)
    inner = expression_for(op)
    if name == "identity":
        expression = "t = a\nd = a * 2\nt"
    elif out_shape:
        # Weights make every output element matter differently.
        values["w"] = np.random.default_rng(4).normal(size=out_shape).tolist()
        expression = f"sum(({inner}) * w)"
    else:
        expression = inner
    result = gradtrace.trace(expression, values, check=True)
    body = result.to_dict()
    assert_trace_invariants(body)
    for input_name, entry in body["check"].items():
        assert entry["ok"], (expression, input_name, entry)
        assert np.shape(entry["numeric"]) == np.shape(values[input_name])
    # The op's own node carries the op's registry name and label.
    assert any(n["op"] == name and n["label"] == op.label for n in body["nodes"])
    assert math.isfinite(result.value)
