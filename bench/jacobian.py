"""Benchmark 6: the whole Jacobian by reverse and forward mode, against a numpy loop of the same passes.

    h = sigmoid(z)          z of n: an elementwise layer, J = diag(σ'(z)), m = n rows
    z = W @ x + b           W (n x n) data, x and b of n: J = [W | I], m = n rows, 2n columns

for n = 64 and 512, by each mode: m backward passes (reverse) or one tangent pass per
column (forward). The numpy side is a hand-written loop doing the same passes on the same
function (row i = e_i^T J by a VJP, column j = J e_j by a JVP), after the same forward.

Two ratios per case, both on the thread's CPU time (the machine is shared):
- per pass: a pass as gradtrace.jacobian runs it (the m backward passes at once,
  jacobians.rows_at_once, so a pass is their time over m; the tangent passes one by one,
  their elementwise ops reusing the locals of the forward pass) against the same pass run
  alone by the engine (engine.backward seeded with e_i, engine.tangents seeded with e_j,
  each computing its locals as a single trace does), the same passes in a plain loop.
  Target at most 1.5x.
- whole: gradtrace's forward and passes against the numpy loop's. Target at most 2x at n = 512.
Parsing and lowering are untimed; the numeric check and the JSON are timed apart (not in
the targets: the numpy loop has neither).

    python -m bench.jacobian [--sizes 64,512] [--repeats 5]
"""

from __future__ import annotations

import os

# One BLAS thread, set before numpy loads (see bench/engine_tensor.py for why).
if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from bench.timing import command_line, summarize, target, timed, write_result  # noqa: E402

PASS_LIMIT = 1.5
WHOLE_LIMIT = 2.0
TARGET_N = 512
CASES = {
    "elementwise": ("h = sigmoid(z)", ()),
    "affine": ("z = W @ x + b", ("W",)),
}


def make_values(case: str, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    if case == "elementwise":
        return {"z": rng.standard_normal(n)}
    return {"W": rng.standard_normal((n, n)) / np.sqrt(n), "x": rng.standard_normal(n), "b": rng.standard_normal(n)}


def numpy_loop(case: str, mode: str, v: dict[str, np.ndarray]) -> np.ndarray:
    """The Jacobian by hand: the forward pass, then m VJPs (reverse) or one JVP per column."""
    with np.errstate(all="ignore"):
        if case == "elementwise":
            z = v["z"]
            n = z.size
            h = 1.0 / (1.0 + np.exp(-z))
            local = h * (1.0 - h)
            jac = np.empty((n, n))
            for k in range(n):
                e = np.zeros(n)
                e[k] = 1.0
                if mode == "reverse":
                    jac[k] = e * local  # row k: e_k^T diag(σ')
                else:
                    jac[:, k] = local * e  # column k: diag(σ') e_k
            return jac
        W, x, b = v["W"], v["x"], v["b"]
        n = x.size
        _ = W @ x + b
        jac = np.empty((n, 2 * n))
        if mode == "reverse":
            for i in range(n):
                e = np.zeros(n)
                e[i] = 1.0
                jac[i, :n] = W.T @ e  # dx = W^T δ
                jac[i, n:] = e  # db = δ
        else:
            for j in range(2 * n):
                e = np.zeros(n)
                e[j % n] = 1.0
                jac[:, j] = W @ e if j < n else e  # W t_x, or t_b
        return jac


def prepared(case: str, n: int) -> tuple[Any, dict[str, Any], Any]:
    """The graph lowered and its inputs coerced (untimed), and a deadline that never ends."""
    from gradtrace.jacobians import prepare
    from gradtrace.limits import Deadline, Limits

    expression, constants = CASES[case]
    graph, inputs = prepare(expression, make_values(case, n), constants, Limits.unlimited())
    return graph, inputs, Deadline(None)


def gradtrace_whole(graph: Any, inputs: Any, deadline: Any, mode: str) -> np.ndarray:
    """gradtrace's forward pass, then the Jacobian's passes (as gradtrace.jacobian runs them)."""
    from gradtrace.engine import forward
    from gradtrace.jacobians import forward_passes, rows_at_once, with_locals
    from gradtrace.limits import paused_gc
    from gradtrace.ops import known_operands

    with paused_gc():
        values, locals_ = forward(graph, inputs, deadline)
        with known_operands(values):
            if mode == "reverse":
                return rows_at_once(graph, values, locals_, deadline)[0]
            return forward_passes(with_locals(graph, values), values, locals_, deadline)[0]


def engine_passes_alone(graph: Any, inputs: Any, deadline: Any, mode: str) -> Callable[[], None]:
    """The same passes as the engine runs them alone: one seeded backward or tangent pass each."""
    from gradtrace.engine import backward, forward, tangents
    from gradtrace.jacobians import columns
    from gradtrace.limits import paused_gc

    values, locals_ = forward(graph, inputs, deadline)
    out_shape = graph.shape[graph.output]

    def run() -> None:
        with paused_gc():
            if mode == "reverse":
                for i in range(int(np.prod(out_shape))):
                    seed = np.zeros(out_shape)
                    seed.reshape(-1)[i] = 1.0
                    backward(graph, values, locals_, deadline, seed)
            else:
                for _, node, shape, _, size in columns(graph):
                    for j in range(size):
                        seed = np.zeros(shape)
                        seed.reshape(-1)[j] = 1.0
                        tangents(graph, values, locals_, {node: seed}, deadline)

    return run


def bench_case(case: str, n: int, mode: str, repeats: int) -> dict[str, Any]:
    import gradtrace

    graph, inputs, deadline = prepared(case, n)
    values = make_values(case, n)
    expression, constants = CASES[case]
    # One untimed run each: warms the caches and checks that both compute the same matrix.
    ours = gradtrace_whole(graph, inputs, deadline, mode)
    theirs = numpy_loop(case, mode, values)
    if not np.allclose(ours, theirs, rtol=1e-12, atol=1e-12):
        raise AssertionError(f"gradtrace and numpy disagree on {case} at n={n} ({mode})")
    alone = engine_passes_alone(graph, inputs, deadline, mode)
    passes = ours.shape[0] if mode == "reverse" else ours.shape[1]
    times: dict[str, list[float]] = {"numpy": [], "gradtrace": [], "engine_alone": [], "api_with_check_and_json": []}
    for repeat in range(repeats):
        times["numpy"].append(timed(lambda: numpy_loop(case, mode, values), "cpu")[0])
        times["gradtrace"].append(timed(lambda: gradtrace_whole(graph, inputs, deadline, mode), "cpu")[0])
        times["engine_alone"].append(timed(alone, "cpu")[0])
        if repeat == 0:  # seconds at n = 512: once is enough to show where the rest goes
            times["api_with_check_and_json"].append(
                timed(lambda: gradtrace.jacobian(expression, values, constants, [mode]).to_dict(), "cpu")[0]
            )
    stats = {k: summarize(v) for k, v in times.items()}
    t = {k: v["median"] for k, v in stats.items()}
    return {
        "case": case,
        "expression": expression,
        "constants": list(constants),
        "n": n,
        "mode": mode,
        "passes": passes,
        "shape": list(ours.shape),
        "times": stats,
        "per_pass_us": t["gradtrace"] / passes * 1e6,
        "per_pass_alone_us": t["engine_alone"] / passes * 1e6,
        "per_pass_ratio": t["gradtrace"] / t["engine_alone"],
        "whole_ratio": t["gradtrace"] / t["numpy"],
    }


def run(sizes: list[int], repeats: int) -> dict[str, Any]:
    cases = []
    for n in sizes:
        for case in CASES:
            for mode in ("reverse", "forward"):
                c = bench_case(case, n, mode, repeats)
                print(
                    f"  jacobian {case:11s} n={n:4d} {mode:7s} {c['passes']:5d} passes"
                    f"  numpy {c['times']['numpy']['median'] * 1e3:8.2f} ms"
                    f"  gradtrace {c['times']['gradtrace']['median'] * 1e3:8.2f} ms"
                    f"  per pass {c['per_pass_ratio']:.2f}x alone  whole {c['whole_ratio']:.2f}x numpy",
                    flush=True,
                )
                cases.append(c)
    targets = [
        target(f"a pass / the engine's pass alone, {c['case']} {c['mode']} n = {c['n']}", c["per_pass_ratio"], PASS_LIMIT)
        for c in cases
    ] + [
        target(f"whole Jacobian / numpy loop, {c['case']} {c['mode']} n = {c['n']}", c["whole_ratio"], WHOLE_LIMIT)
        for c in cases
        if c["n"] == TARGET_N
    ]
    return {"clock": "cpu", "cases": cases, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,512")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    result = run(sizes, args.repeats)
    path = write_result("jacobian", command_line("bench.jacobian", argv), result)
    print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
