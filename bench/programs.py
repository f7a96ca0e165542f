"""Generate scalar programs of N ops (+ * tanh relu max) with branches, for the engine benchmark.

A program comes in two forms that describe the same graph: the text gradtrace parses,
and a flat op list the baselines (micrograd, the float tape) build from. The generator
also evaluates the program as it goes, so values stay bounded (no overflow to skew the
timings) and the tests have an independent reference value.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

OPS = ("add", "mul", "tanh", "relu", "max")
UNARY = frozenset({"tanh", "relu"})
SYMBOL = {"add": "+", "mul": "*"}
# Share of each op; binary ops dominate as in the lecture's small examples.
WEIGHTS = (0.3, 0.25, 0.15, 0.1, 0.2)
# Values beyond this magnitude are squashed with tanh instead, so nothing overflows
# however long the program is.
BOUND = 4.0
# A second operand comes from this many most recent nodes, already used or not: that is
# what makes fan-out (one node, several consumers) and so branches in the backward pass.
WINDOW = 32


@dataclass(frozen=True)
class Program:
    """One generated program: its text, its inputs and the op list the baselines replay."""

    text: str
    values: dict[str, float]
    # Node i < len(inputs) is input i; node len(inputs) + j is the result of ops[j].
    inputs: list[str]
    ops: list[tuple[str, int, int]]  # (op, first operand, second operand or -1)
    value: float  # the output, evaluated by the generator
    fan_out: int = field(default=0)  # nodes with more than one consumer

    @property
    def n_ops(self) -> int:
        return len(self.ops)


def _apply(op: str, a: float, b: float) -> float:
    if op == "add":
        return a + b
    if op == "mul":
        return a * b
    if op == "tanh":
        return math.tanh(a)
    if op == "relu":
        return a if a > 0.0 else 0.0
    return a if a >= b else b


def generate(n_ops: int, seed: int = 0, n_inputs: int = 8) -> Program:
    """A program of exactly `n_ops` ops whose every node reaches the output (the last op)."""
    if n_ops < n_inputs:
        n_inputs = max(1, n_ops)
    rng = random.Random(seed)
    inputs = [f"x{i}" for i in range(n_inputs)]
    values = {name: round(rng.uniform(-1.0, 1.0), 6) for name in inputs}
    node_values = [values[name] for name in inputs]
    names = list(inputs)
    # Nodes nobody consumes yet; each op takes the oldest one so every node is used.
    unused: deque[int] = deque(range(n_inputs))
    consumers = [0] * n_inputs
    ops: list[tuple[str, int, int]] = []
    lines: list[str] = []
    for j in range(n_ops):
        remaining = n_ops - j
        a = unused.popleft()
        # Near the end, merge what is still unused so that only the output is left.
        must_merge = bool(unused) and len(unused) >= remaining - 1
        op = rng.choices(OPS, WEIGHTS)[0]
        if must_merge and op in UNARY:
            op = "add"
        b = -1
        b_was_unused = False
        if op not in UNARY:
            if must_merge or (unused and rng.random() < 0.3):
                b = unused.popleft()
                b_was_unused = True
            else:
                b = rng.randrange(max(0, len(names) - WINDOW), len(names))
                if b in unused:
                    unused.remove(b)
                    b_was_unused = True
        result = _apply(op, node_values[a], node_values[b] if b >= 0 else 0.0)
        if abs(result) > BOUND:
            if must_merge:
                # max of two bounded values is bounded, and it still merges a and b.
                op = "max"
                result = _apply(op, node_values[a], node_values[b])
            else:
                # Squash a instead and leave b for a later op.
                if b_was_unused:
                    unused.appendleft(b)
                op, b = "tanh", -1
                result = math.tanh(node_values[a])
        consumers[a] += 1
        if b >= 0:
            consumers[b] += 1
        name = f"v{j}"
        if op in UNARY:
            expr = f"{op}({names[a]})"
        elif op == "max":
            expr = f"max({names[a]}, {names[b]})"
        else:
            expr = f"{names[a]} {SYMBOL[op]} {names[b]}"
        lines.append(f"{name} = {expr}")
        ops.append((op, a, b))
        names.append(name)
        node_values.append(result)
        consumers.append(0)
        unused.append(len(names) - 1)
    fan_out = sum(1 for c in consumers if c > 1)
    return Program(
        text="\n".join(lines),
        values=values,
        inputs=inputs,
        ops=ops,
        value=node_values[-1],
        fan_out=fan_out,
    )
