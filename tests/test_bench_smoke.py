"""The benchmarks' code runs at a tiny size and the programs it generates are valid.

No timing is asserted here (the machines are shared); `make bench` records the figures.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench import engine_tensor, programs, render
from bench.baselines import (
    compile_tape,
    micrograd_backward,
    micrograd_forward,
    run_deep,
    tape_backward,
    tape_forward,
    tape_gradients,
)
from bench.machine import REPO

STATEMENT = re.compile(r"^(v\d+) = (?:(tanh|relu)\((\w+)\)|max\((\w+), (\w+)\)|(\w+) ([+*]) (\w+))$", re.ASCII)


@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Benchmarks write their JSON here, never over the recorded figures."""
    import bench.machine
    import bench.timing

    monkeypatch.setattr(bench.machine, "RESULTS", tmp_path)
    monkeypatch.setattr(bench.timing, "RESULTS", tmp_path)
    return tmp_path


@pytest.mark.parametrize("n", [1, 7, 60, 500])
def test_generated_programs_are_well_formed(n: int) -> None:
    p = programs.generate(n, seed=n)
    lines = p.text.split("\n")
    assert len(lines) == len(p.ops) == n
    defined = set(p.inputs)
    consumers = dict.fromkeys(defined, 0)
    used_ops = set()
    for j, line in enumerate(lines):
        m = STATEMENT.match(line)
        assert m, line
        assert m.group(1) == f"v{j}"
        operands = [x for x in m.groups()[2:] if x is not None and x not in "+*"]
        for name in operands:
            assert name in defined, f"{name} used before it is defined in {line!r}"
            consumers[name] += 1
        used_ops.add(m.group(2) or ("max" if m.group(4) else m.group(7)))
        defined.add(m.group(1))
        consumers[m.group(1)] = 0
    output = f"v{n - 1}"
    # Every node but the output feeds something, so the whole program reaches the output.
    assert [k for k, c in consumers.items() if c == 0] == [output]
    if n >= 60:
        assert used_ops == {"tanh", "relu", "max", "+", "*"}
        assert p.fan_out > 0
        assert sum(1 for c in consumers.values() if c > 1) == p.fan_out


def test_generation_is_deterministic_and_bounded() -> None:
    a, b = programs.generate(2000, seed=3), programs.generate(2000, seed=3)
    assert a.text == b.text and a.values == b.values
    assert a.text != programs.generate(2000, seed=4).text
    vals = tape_forward(a, compile_tape(a))
    assert max(abs(v) for v in vals) <= programs.BOUND
    assert vals[-1] == a.value


def _numeric_gradient(p: programs.Program, name: str, h: float = 1e-6) -> float:
    def f(delta: float) -> float:
        shifted = programs.Program(
            text=p.text, values={**p.values, name: p.values[name] + delta}, inputs=p.inputs,
            ops=p.ops, value=p.value,
        )
        return tape_forward(shifted, compile_tape(shifted))[-1]

    return (f(h) - f(-h)) / (2 * h)


def test_float_tape_gradients_match_central_differences() -> None:
    p = programs.generate(40, seed=11)
    _, grads = tape_gradients(p)
    for name in p.inputs:
        assert math.isclose(grads[name], _numeric_gradient(p, name), rel_tol=1e-5, abs_tol=1e-7)


def test_micrograd_baseline_agrees_with_the_tape() -> None:
    p = programs.generate(300, seed=5)
    value, grads = tape_gradients(p)
    inputs, output = micrograd_forward(p)
    micrograd_backward(output)
    assert output.data == value
    for name, node in zip(p.inputs, inputs, strict=True):
        assert math.isclose(node.grad, grads[name], rel_tol=1e-12, abs_tol=1e-300)


def test_micrograd_runs_deep_graphs_in_a_large_stack() -> None:
    # A long chain is deeper than Python's default recursion limit for micrograd's sort.
    p = programs.generate(3000, seed=1, n_inputs=1)

    def build_and_backward() -> float:
        _, output = micrograd_forward(p)
        micrograd_backward(output)
        return float(output.data)

    assert run_deep(build_and_backward) == p.value
    tape = compile_tape(p)
    assert len(tape_backward(tape, tape_forward(p, tape))) == 3001


@pytest.mark.parametrize("batched", [False, True])
def test_numpy_baseline_matches_central_differences(batched: bool) -> None:
    values = engine_tensor.make_values(5, batched)
    by_hand = engine_tensor.numpy_batched if batched else engine_tensor.numpy_single
    _, grads = by_hand(values)
    h = 1e-6
    for name, value in values.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in values.items()}
            minus = {k: v.copy() for k, v in values.items()}
            plus[name][idx] += h
            minus[name][idx] -= h
            numeric[idx] = (by_hand(plus)[0] - by_hand(minus)[0]) / (2 * h)
        assert grads[name].shape == value.shape
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-7)


def test_render_builds_the_page_from_results(results_dir: Path) -> None:
    fake_target = {"name": "x / y", "value": 0.25, "limit": 0.5, "relation": "<=", "holds": True}
    machine = {
        "nproc": 2, "cpu": "Some CPU", "python": "3.11.2", "numpy": "2.0", "openblas_coretype": None,
        "load_average": [1.0, 1.0, 1.0], "date": "2026-01-01 00:00 UTC", "commit": "abc1234",
    }
    (results_dir / "engine_tensor.json").write_text(
        json.dumps(
            {
                "benchmark": "engine_tensor", "command": "python -m bench.engine_tensor",
                "machine": machine,
                "cases": [{"n": 64, "form": "single", "ratio": 1.1,
                           "times": {"numpy": {"median": 0.001}, "gradtrace": {"median": 0.0011}}}],
                "targets": [fake_target],
            }
        )
    )
    text = render.render(render.load_results(results_dir))
    assert "| Engine on tensors | x / y | 0.25 | <= 0.5 | holds |" in text
    assert "Reproduce: `python -m bench.engine_tensor`" in text
    assert "2 x Some CPU" in text and "OPENBLAS_CORETYPE unset" in text
    assert "Not recorded yet: run `.venv/bin/python -m bench.load`" in text


def test_wrk_script_posts_the_lecture_example() -> None:
    from bench import load

    script = load.wrk_script("POST", json.dumps(load.LECTURE))
    assert "wrk.method = 'POST'" in script
    assert "(x + y) * max(y, z)" in script
    assert "latency:percentile(99)" in script


def test_gradtrace_traces_generated_programs_like_the_tape() -> None:
    from bench import gt_phases

    for n in (1, 50, 400):
        gt_phases.validate(programs.generate(n, seed=n))  # raises on any difference


def test_engine_scalar_benchmark_runs_at_a_tiny_size(results_dir: Path) -> None:
    from bench import engine_scalar

    assert engine_scalar.main(["--sizes", "30,60", "--repeats", "2"]) == 0
    data = json.loads((results_dir / "engine_scalar.json").read_text())
    assert data["command"].endswith("-m bench.engine_scalar --sizes 30,60 --repeats 2")
    assert [s["n"] for s in data["sizes"]] == [30, 60]
    phases = {"parse", "lower", "forward", "backward", "record", "to_dict", "json", "whole"}
    for size in data["sizes"]:
        assert {f"gradtrace_{p}" for p in phases} <= set(size["times"])
        assert {
            "micrograd_forward", "micrograd_backward", "micrograd_nogc_forward_backward",
            "tape_forward", "tape_backward",
        } <= set(size["times"])
        assert all(len(t["samples"]) == 2 and t["median"] > 0 for t in size["times"].values())
        # The targets' sides are the two blocks, each timed whole, not sums of phases.
        blocks = {k: size["times"][k]["median"] for k in (
            "micrograd_forward_backward", "gradtrace_forward_backward_record")}
        ratio = blocks["gradtrace_forward_backward_record"] / blocks["micrograd_forward_backward"]
        assert size["ratios"]["engine_vs_micrograd"] == pytest.approx(ratio)
        whole = size["times"]["gradtrace_whole"]["median"] / blocks["micrograd_forward_backward"]
        assert size["ratios"]["whole_vs_micrograd"] == pytest.approx(whole)
    names = [t["name"] for t in data["targets"]]
    assert len(names) == 6 and all(isinstance(t["holds"], bool) for t in data["targets"])
    assert "Engine on scalar programs" in render.render(render.load_results(results_dir))


def test_engine_tensor_benchmark_runs_at_a_tiny_size(results_dir: Path) -> None:
    assert engine_tensor.main(["--sizes", "8", "--repeats", "2"]) == 0
    data = json.loads((results_dir / "engine_tensor.json").read_text())
    assert [(c["n"], c["form"]) for c in data["cases"]] == [(8, "single"), (8, "batched")]
    assert all(c["max_rel_gradient_difference"] < 1e-9 for c in data["cases"])
    assert data["cases"][1]["shapes"]["X"] == [8, engine_tensor.BATCH]
    assert data["targets"] == []  # the target is set at n = 2048 only


@pytest.mark.parametrize("client", ["wrk", "locust"])
def test_load_benchmark_runs_briefly(results_dir: Path, client: str) -> None:
    from bench import load

    if client == "wrk" and shutil.which("wrk") is None:
        # make test installs wrk (Debian's); under CI a missing one fails, as a missing browser does.
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed: make test installs it (apt-get install wrk)")
        pytest.skip("wrk is not installed (make test and make bench install it)")
    argv = ["--seconds", "1", "--warmup", "0", "--connections", "4", "--workers", "1"]
    assert load.main([*argv, "--client", client]) == 0
    data = json.loads((results_dir / "load.json").read_text())
    assert data["setup"]["driver"] == client
    for name in ("trace", "health"):
        endpoint = data["endpoints"][name]
        assert len(endpoint["rounds"]) == 2
        # Every request was answered 200: a refused trace would make the ratio meaningless.
        assert endpoint["requests"] > 0 and endpoint["errors"] == 0
        # locust rounds response times to whole milliseconds: a fast p50 may read 0.
        assert 0 <= endpoint["p50_ms"] <= endpoint["p99_ms"]
    assert [t["relation"] for t in data["targets"]] == [">=", "<=", "<="]
    assert data["targets"][2]["value"] == 0.0 and data["targets"][2]["holds"]


def test_locust_percentiles_read_its_histogram() -> None:
    from bench.load import _percentile

    histogram = {"10": 50, "20": 40, "300": 10}
    assert _percentile(histogram, 50) == 10.0
    assert _percentile(histogram, 90) == 20.0
    assert _percentile(histogram, 99) == 300.0


def run_browser_benchmark(module: str, args: list[str], results_dir: Path) -> None:
    """A page benchmark in a process of its own, as make bench runs it: Playwright's sync API
    cannot start inside the event loop that the browser tests' Playwright leaves in this one."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={**os.environ, "GRADTRACE_BENCH_RESULTS": str(results_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_page_benchmark_runs_at_a_tiny_size(results_dir: Path) -> None:
    from bench import page

    if not os.path.exists(page.CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {page.CHROMIUM}")
        pytest.skip("Chromium is not installed (make test installs it)")
    run_browser_benchmark("bench.page", ["--sizes", "12", "--repeats", "1", "--steps", "3"], results_dir)
    data = json.loads((results_dir / "page.json").read_text())
    (case,) = data["cases"]
    assert case["nodes"] == 12 and case["trace_steps"] == 24
    assert case["stepping"]["presses"] == 3 + 1 + 1 + 1  # three right, End, one left, Home
    assert case["counter"] == "1 / 24"  # Home went back to the first step
    assert case["dagre_layout_s"] > 0 and case["api_round_trip_s"] > 0
    assert case["trace_to_drawn_s"] > 0
    assert len(data["targets"]) == 2


def test_large_page_benchmark_runs_past_the_culling_size_and_renders(results_dir: Path) -> None:
    from bench import page_large

    if not os.path.exists(page_large.CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {page_large.CHROMIUM}")
        pytest.skip("Chromium is not installed (make test installs it)")
    run_browser_benchmark("bench.page_large", ["--sizes", "600", "--steps", "2"], results_dir)
    data = json.loads((results_dir / "page_large.json").read_text())
    (case,) = data["cases"]
    assert case["nodes"] == 600 and case["trace_to_drawn_s"] > 0 and case["second_trace_to_drawn_s"] > 0
    assert set(case["longest_task_ms"]) == {"trace", "stepping", "end", "home", "second_trace", "typing"}
    # Typing ' + qq' and five Backspaces: each key answered.
    assert case["key_to_frame_typing_max_ms"] > 0
    text = render.render({"page_large": data})
    assert "## 7. The page on large graphs" in text


def test_jacobian_benchmark_runs_at_a_tiny_size_and_renders(results_dir: Path) -> None:
    from bench import jacobian

    assert jacobian.main(["--sizes", "6", "--repeats", "1"]) == 0
    data = json.loads((results_dir / "jacobian.json").read_text())
    assert [(c["case"], c["mode"], c["passes"]) for c in data["cases"]] == [
        ("elementwise", "reverse", 6), ("elementwise", "forward", 6),
        ("affine", "reverse", 6), ("affine", "forward", 12),
    ]
    assert data["clock"] == "cpu" and all("per_pass_ratio" in c for c in data["cases"])
    text = render.render({"jacobian": data})
    assert "## 6. Jacobians: reverse against forward mode" in text
    # Both sides compute the same matrix (the benchmark refuses to time otherwise).
    for case in jacobian.CASES:
        for mode in ("reverse", "forward"):
            graph, inputs, deadline = jacobian.prepared(case, 5)
            ours = jacobian.gradtrace_whole(graph, inputs, deadline, mode)
            np.testing.assert_allclose(ours, jacobian.numpy_loop(case, mode, jacobian.make_values(case, 5)))
