"""The scalar baselines gradtrace is measured against: micrograd, and a minimal float tape.

Both replay a generated program's op list. micrograd (PyPI, 0.1.0) has + * and relu but
no tanh or max, so those two are added here in micrograd's own style: a Value whose
closure adds the local gradient times the upstream into its children. The float tape is
the limit for pure Python: plain lists of floats and one loop each way.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from micrograd.engine import Value

from bench.programs import Program

T = TypeVar("T")

ADD, MUL, TANH, RELU, MAX = range(5)
CODES = {"add": ADD, "mul": MUL, "tanh": TANH, "relu": RELU, "max": MAX}


# ---------------------------------------------------------------- micrograd


def _mg_tanh(x: Value) -> Value:
    t = math.tanh(x.data)
    out = Value(t, (x,), "tanh")

    def _backward() -> None:
        x.grad += (1.0 - t * t) * out.grad

    out._backward = _backward
    return out


def _mg_max(x: Value, y: Value) -> Value:
    pick_x = x.data >= y.data
    out = Value(x.data if pick_x else y.data, (x, y), "max")

    def _backward() -> None:
        # max routes the upstream gradient to the larger argument.
        if pick_x:
            x.grad += out.grad
        else:
            y.grad += out.grad

    out._backward = _backward
    return out


def micrograd_forward(program: Program) -> tuple[list[Value], Value]:
    """Build the program's graph of micrograd Values; return the inputs and the output."""
    nodes: list[Value] = [Value(program.values[name]) for name in program.inputs]
    inputs = list(nodes)
    append = nodes.append
    for op, a, b in program.ops:
        if op == "add":
            append(nodes[a] + nodes[b])
        elif op == "mul":
            append(nodes[a] * nodes[b])
        elif op == "tanh":
            append(_mg_tanh(nodes[a]))
        elif op == "relu":
            append(nodes[a].relu())
        else:
            append(_mg_max(nodes[a], nodes[b]))
    return inputs, nodes[-1]


def micrograd_backward(output: Value) -> None:
    """micrograd's own backward: a recursive topological sort, then the closures."""
    output.backward()


# ---------------------------------------------------------------- float tape


def compile_tape(program: Program) -> list[tuple[int, int, int]]:
    """The op list with integer codes, so the loops below compare small ints."""
    return [(CODES[op], a, b) for op, a, b in program.ops]


def tape_forward(program: Program, tape: list[tuple[int, int, int]]) -> list[float]:
    """Every node's value, inputs first, in program order."""
    vals = [float(program.values[name]) for name in program.inputs]
    append = vals.append
    for code, a, b in tape:
        if code == ADD:
            append(vals[a] + vals[b])
        elif code == MUL:
            append(vals[a] * vals[b])
        elif code == TANH:
            append(math.tanh(vals[a]))
        elif code == RELU:
            x = vals[a]
            append(x if x > 0.0 else 0.0)
        else:
            x, y = vals[a], vals[b]
            append(x if x >= y else y)
    return vals


def tape_backward(tape: list[tuple[int, int, int]], vals: list[float]) -> list[float]:
    """d output / d node for every node, walking the tape in reverse."""
    grads = [0.0] * len(vals)
    grads[-1] = 1.0
    base = len(vals) - len(tape)
    for k in range(len(tape) - 1, -1, -1):
        code, a, b = tape[k]
        upstream = grads[base + k]
        if code == ADD:
            grads[a] += upstream
            grads[b] += upstream
        elif code == MUL:
            grads[a] += upstream * vals[b]
            grads[b] += upstream * vals[a]
        elif code == TANH:
            t = vals[base + k]
            grads[a] += upstream * (1.0 - t * t)
        elif code == RELU:
            if vals[a] > 0.0:
                grads[a] += upstream
        else:
            x, y = vals[a], vals[b]
            if x > y:
                grads[a] += upstream
            elif y > x:
                grads[b] += upstream
            else:
                # A tie splits the upstream evenly (PyTorch's convention, like gradtrace).
                grads[a] += 0.5 * upstream
                grads[b] += 0.5 * upstream
    return grads


def tape_gradients(program: Program) -> tuple[float, dict[str, float]]:
    """The output and d output / d input, for checking another engine against the tape."""
    tape = compile_tape(program)
    vals = tape_forward(program, tape)
    grads = tape_backward(tape, vals)
    return vals[-1], {name: grads[i] for i, name in enumerate(program.inputs)}


# ---------------------------------------------------------------- deep graphs


def run_deep(fn: Callable[[], T]) -> T:
    """Run fn in a thread with a large stack and recursion limit.

    micrograd sorts its graph recursively, one frame per node along the longest path, so
    a 100,000-op program is far deeper than Python's default limit of 1,000 frames.
    """
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 1_000_000))
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if error:
        raise error[0]
    return result[0]
