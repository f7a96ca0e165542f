"""Benchmark 2: gradtrace on tensors against a hand-written numpy forward and backward.

    s = u @ sigmoid(W @ x + b)               x of n,      for n = 64, 512, 2048
    s = sum(u @ sigmoid(W @ X + b))          X of n x 64, b of n x 1 (the batched form)

Both run in this one process, interleaved, so they share the BLAS and its settings
(OPENBLAS_CORETYPE, threads). Target: gradtrace at most 1.3x numpy at n = 2048.

    python -m bench.engine_tensor [--sizes 64,512,2048] [--repeats 15]
"""

from __future__ import annotations

import os

# Run as a program: one BLAS thread, set before numpy loads (an explicit setting in the
# environment wins). On a shared two-core machine a second BLAS thread waits for a core
# at every call, and the timings of both contestants then swing tenfold. Both run under
# the same setting. (Imported, e.g. by the tests, the process's environment is left alone.)
if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from bench.timing import command_line, summarize, target, timed, write_result  # noqa: E402

SINGLE = "s = u @ sigmoid(W @ x + b)"
BATCHED = "s = sum(u @ sigmoid(W @ X + b))"
BATCH = 64
LIMIT = 1.3
TARGET_N = 2048


def make_values(n: int, batched: bool, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs at a scale where sigmoid is neither flat nor saturated."""
    rng = np.random.default_rng(seed)
    values = {
        "W": rng.standard_normal((n, n)) / np.sqrt(n),
        "u": rng.standard_normal(n),
    }
    if batched:
        values["X"] = rng.standard_normal((n, BATCH))
        values["b"] = rng.standard_normal((n, 1))
    else:
        values["x"] = rng.standard_normal(n)
        values["b"] = rng.standard_normal(n)
    return values


def numpy_single(v: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """Forward and backward of s = u @ sigmoid(W @ x + b), by hand."""
    W, x, b, u = v["W"], v["x"], v["b"], v["u"]
    with np.errstate(all="ignore"):
        z = W @ x + b
        h = 1.0 / (1.0 + np.exp(-z))
        s = u @ h
        # Backward from ds = 1: each line is downstream = upstream times local.
        du = h
        dh = u
        dz = dh * (h * (1.0 - h))
        dW = np.outer(dz, x)
        dx = W.T @ dz
        db = dz
    return float(s), {"W": dW, "x": dx, "b": db, "u": du}


def numpy_batched(v: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """Forward and backward of s = sum(u @ sigmoid(W @ X + b)), by hand."""
    W, X, b, u = v["W"], v["X"], v["b"], v["u"]
    with np.errstate(all="ignore"):
        z = W @ X + b
        h = 1.0 / (1.0 + np.exp(-z))
        o = u @ h
        s = o.sum()
        do = np.ones_like(o)
        du = h @ do
        dh = np.outer(u, do)
        dz = dh * (h * (1.0 - h))
        dW = dz @ X.T
        dX = W.T @ dz
        db = dz.sum(axis=1, keepdims=True)
    return float(s), {"W": dW, "X": dX, "b": db, "u": du}


def gradtrace_run(expression: str, values: dict[str, np.ndarray]) -> tuple[float, dict[str, Any]]:
    """gradtrace's Python API: the whole trace (parse to recorded Trace), no JSON."""
    import gradtrace

    t = gradtrace.trace(expression, values)
    return float(t.value), {k: np.asarray(g) for k, g in t.gradients.items()}


def check_same(a: dict[str, np.ndarray], b: dict[str, Any]) -> float:
    """Largest relative difference between two sets of gradients (they must agree)."""
    worst = 0.0
    for name, g in a.items():
        other = np.asarray(b[name], dtype=np.float64).reshape(g.shape)
        scale = max(1.0, float(np.max(np.abs(g))))
        worst = max(worst, float(np.max(np.abs(g - other))) / scale)
    return worst


def bench_case(n: int, batched: bool, repeats: int) -> dict[str, Any]:
    expression = BATCHED if batched else SINGLE
    values = make_values(n, batched)
    by_hand = numpy_batched if batched else numpy_single
    # One untimed run each: warms the BLAS and checks that both compute the same thing.
    s_np, g_np = by_hand(values)
    s_gt, g_gt = gradtrace_run(expression, values)
    error = check_same(g_np, g_gt)
    if abs(s_np - s_gt) > 1e-9 * max(1.0, abs(s_np)) or error > 1e-9:
        raise AssertionError(f"gradtrace and numpy disagree at n={n}: {s_np} vs {s_gt}, {error}")
    times: dict[str, list[float]] = {"numpy": [], "gradtrace": []}
    for _ in range(repeats):
        times["numpy"].append(timed(lambda: by_hand(values))[0])
        times["gradtrace"].append(timed(lambda: gradtrace_run(expression, values))[0])
    stats = {k: summarize(v) for k, v in times.items()}
    ratio = stats["gradtrace"]["median"] / stats["numpy"]["median"]
    # The fastest runs are the least disturbed by other processes: a second view of the ratio.
    ratio_min = stats["gradtrace"]["min"] / stats["numpy"]["min"]
    return {
        "n": n,
        "form": "batched" if batched else "single",
        "expression": expression,
        "shapes": {k: list(v.shape) for k, v in values.items()},
        "times": stats,
        "ratio": ratio,
        "ratio_of_fastest": ratio_min,
        "max_rel_gradient_difference": error,
    }


def run(sizes: list[int], repeats: int) -> dict[str, Any]:
    cases = []
    for n in sizes:
        for batched in (False, True):
            case = bench_case(n, batched, repeats)
            print(
                f"  tensor n={n:5d} {case['form']:7s}  numpy {case['times']['numpy']['median'] * 1e3:8.2f} ms"
                f"  gradtrace {case['times']['gradtrace']['median'] * 1e3:8.2f} ms"
                f"  ratio {case['ratio']:.2f}",
                flush=True,
            )
            cases.append(case)
    targets = [
        target(f"gradtrace / numpy at n = {c['n']} ({c['form']})", c["ratio"], LIMIT)
        for c in cases
        if c["n"] == TARGET_N
    ]
    return {"blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "cases": cases, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,512,2048")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    body = run(sizes, args.repeats)
    path = write_result("engine_tensor", command_line("bench.engine_tensor", argv), body)
    print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
