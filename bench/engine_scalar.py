"""Benchmark 1: gradtrace on scalar programs, against micrograd and a minimal float tape.

Programs of N ops mixing + * tanh relu max, with fan-out (bench/programs.py). For each N,
in one process and one loop, repeat: micrograd builds and back-propagates the graph, the
float tape runs forward and backward, gradtrace runs phase by phase (parse, forward,
backward, recording, JSON encoding as to_dict and bytes), and gradtrace runs whole, text to JSON, as the API does.

Targets, at every N:
  forward + backward + recording  <= 0.5 x micrograd's forward + backward
  the whole trace, text to JSON   <= 5 x micrograd's forward + backward
  backward                        <= 2 x forward
and time per op at N = 100,000 within 1.5x of time per op at N = 1,000.

Everything here is single-threaded Python, so the default clock is the thread's CPU time:
it leaves out the time other processes on a shared machine hold the cores.

    python -m bench.engine_scalar [--sizes 100,1000,10000,100000] [--repeats R] [--clock cpu]
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Any

from bench import gt_phases
from bench.baselines import (
    compile_tape,
    micrograd_backward,
    micrograd_forward,
    run_deep,
    tape_backward,
    tape_forward,
)
from bench.programs import Program, generate
from bench.timing import command_line, summarize, target, timed, write_result

SIZES = (100, 1_000, 10_000, 100_000)


def default_repeats(n: int) -> int:
    """Fewer repeats for larger programs keeps `make bench` within its ten minutes."""
    return {100: 25, 1_000: 11, 10_000: 5}.get(n, 3)


def _micrograd(program: Program) -> Any:
    """micrograd's forward and backward in one go; the output Value keeps the graph alive."""
    _, output = micrograd_forward(program)
    micrograd_backward(output)
    return output


def _without_gc(program: Program) -> None:
    gc.disable()
    try:
        _micrograd(program)
    finally:
        gc.enable()


def one_repeat(program: Program, tape: list[tuple[int, int, int]], clock: str) -> dict[str, float]:
    """Every contestant once, back to back, on the same program."""
    out: dict[str, float] = {}
    # The targets' two sides, each timed as one block (see gt_phases.time_engine); the
    # graph each returns is freed after its timing.
    out["micrograd_forward_backward"], kept = timed(lambda: _micrograd(program), clock)
    kept = None
    out["gradtrace_forward_backward_record"], kept = gt_phases.time_engine(
        program.text, program.values, clock
    )
    del kept
    # Then phase by phase, for where the time goes.
    out["micrograd_forward"], built = timed(lambda: micrograd_forward(program), clock)
    output = built[1]
    out["micrograd_backward"], _ = timed(lambda: micrograd_backward(output), clock)
    built = output = None  # free micrograd's graph before the next contestant
    # micrograd again with the cyclic collector paused, as gradtrace pauses it during a
    # trace: on large graphs most of micrograd's forward is the collector walking its
    # Values and closures. The targets compare with micrograd as its users run it (above).
    out["micrograd_nogc_forward_backward"], _ = timed(lambda: _without_gc(program), clock)
    out["tape_forward"], vals = timed(lambda: tape_forward(program, tape), clock)
    out["tape_backward"], _ = timed(lambda: tape_backward(tape, vals), clock)
    vals = None
    out.update(gt_phases.time_phases(program.text, program.values, clock))
    out["gradtrace_whole"], _ = timed(
        lambda: gt_phases.whole(program.text, program.values), clock
    )
    return out


def bench_size(n: int, repeats: int, clock: str, seed: int = 0) -> dict[str, Any]:
    program = generate(n, seed=seed)
    tape = compile_tape(program)
    gt_phases.validate(program)  # untimed: the same value and gradients as the tape
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for key, seconds in run_deep(lambda: one_repeat(program, tape, clock)).items():
            samples.setdefault(key, []).append(seconds)
    times = {k: summarize(v) for k, v in samples.items()}
    med = {k: v["median"] for k, v in times.items()}
    micrograd = med["micrograd_forward_backward"]
    engine = med["gradtrace_forward_backward_record"]
    phases = sum(med[f"gradtrace_{p}"] for p in ("forward", "backward", "record"))
    return {
        "n": n,
        "nodes": n + len(program.inputs),
        "fan_out_nodes": program.fan_out,
        "characters": len(program.text),
        "times": times,
        "derived": {
            "micrograd_forward_backward": micrograd,
            "tape_forward_backward": med["tape_forward"] + med["tape_backward"],
            "gradtrace_forward_backward_record": engine,
            "micrograd_phases_forward_backward": med["micrograd_forward"] + med["micrograd_backward"],
            "gradtrace_phases_forward_backward_record": phases,
            "gradtrace_lower_forward_backward_record": engine + med["gradtrace_lower"],
            "gradtrace_sum_of_phases": sum(
                med[f"gradtrace_{p}"]
                for p in ("parse", "lower", "forward", "backward", "record", "to_dict", "json")
            ),
            "gradtrace_whole": med["gradtrace_whole"],
            "gradtrace_json_encoding": med["gradtrace_to_dict"] + med["gradtrace_json"],
            "engine_per_op_us": engine / n * 1e6,
            "whole_per_op_us": med["gradtrace_whole"] / n * 1e6,
        },
        "ratios": {
            "engine_vs_micrograd": engine / micrograd,
            "engine_with_lowering_vs_micrograd": (engine + med["gradtrace_lower"]) / micrograd,
            "whole_vs_micrograd": med["gradtrace_whole"] / micrograd,
            "backward_vs_forward": med["gradtrace_backward"] / med["gradtrace_forward"],
            "tape_vs_micrograd": (med["tape_forward"] + med["tape_backward"]) / micrograd,
            "engine_vs_micrograd_without_gc": engine / med["micrograd_nogc_forward_backward"],
            "whole_vs_micrograd_without_gc": med["gradtrace_whole"] / med["micrograd_nogc_forward_backward"],
        },
    }


def run(sizes: list[int], repeats: int | None, clock: str = "cpu") -> dict[str, Any]:
    results = []
    for n in sizes:
        r = bench_size(n, repeats or default_repeats(n), clock)
        d, q = r["derived"], r["ratios"]
        print(
            f"  scalar N={n:6d}  micrograd f+b {d['micrograd_forward_backward'] * 1e3:9.2f} ms"
            f"  tape f+b {d['tape_forward_backward'] * 1e3:8.2f} ms"
            f"  gradtrace f+b+rec {d['gradtrace_forward_backward_record'] * 1e3:9.2f} ms"
            f" ({q['engine_vs_micrograd']:.2f}x)  whole {d['gradtrace_whole'] * 1e3:9.2f} ms"
            f" ({q['whole_vs_micrograd']:.2f}x)  bwd/fwd {q['backward_vs_forward']:.2f}",
            flush=True,
        )
        results.append(r)
    targets = []
    for r in results:
        n, q = r["n"], r["ratios"]
        targets.append(target(f"N = {n}: forward + backward + recording / micrograd", q["engine_vs_micrograd"], 0.5))
        targets.append(target(f"N = {n}: whole trace, text to JSON / micrograd", q["whole_vs_micrograd"], 5.0))
        targets.append(target(f"N = {n}: backward / forward", q["backward_vs_forward"], 2.0))
    per_op = {r["n"]: r["derived"]["engine_per_op_us"] for r in results}
    if 1_000 in per_op and 100_000 in per_op:
        targets.append(
            target(
                "time per op (forward + backward + recording) at N = 100,000 / at N = 1,000",
                per_op[100_000] / per_op[1_000],
                1.5,
            )
        )
    return {"phases": gt_phases.DESCRIPTION, "clock": clock, "sizes": results, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--repeats", type=int, default=None, help="default: fewer as N grows")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu",
        help="cpu: this thread's CPU time (steady on a shared machine); wall: elapsed time",
    )
    args = parser.parse_args(argv)
    body = run([int(s) for s in args.sizes.split(",")], args.repeats, args.clock)
    path = write_result("engine_scalar", command_line("bench.engine_scalar", argv), body)
    print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
