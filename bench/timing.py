"""Timing helpers: interleaved repeats, so contestants share the machine's noise.

The machines these run on are shared, so each contestant is measured in the same
process and the same loop as the ones it is compared with, one after the other within
each repeat, and the report compares medians as ratios.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import RESULTS, describe

# wall: elapsed time. cpu: the calling thread's CPU time, which leaves out the time the
# thread waits while other processes have the cores; it is the steadier figure for
# single-threaded Python on a shared machine (numpy's BLAS threads need wall time).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def timed(fn: Callable[[], Any], clock: str = "wall") -> tuple[float, Any]:
    """Seconds fn took, and what it returned; a full collection first, outside the timing."""
    now = CLOCKS[clock]
    gc.collect()
    start = now()
    result = fn()
    return now() - start, result


def summarize(samples: list[float]) -> dict[str, Any]:
    """Median (what the ratios use), min and every sample, in seconds."""
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "samples": [round(s, 7) for s in samples],
    }


def target(name: str, value: float, limit: float, *, at_most: bool = True) -> dict[str, Any]:
    """One target: the measured ratio, its limit, and whether it holds."""
    holds = value <= limit if at_most else value >= limit
    return {
        "name": name,
        "value": value,
        "limit": limit,
        "relation": "<=" if at_most else ">=",
        "holds": bool(holds),
    }


def command_line(module: str, argv: list[str] | None) -> str:
    """The command that reproduces a result: this module with the arguments it was given."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join([".venv/bin/python", "-m", module, *args])


def write_result(name: str, command: str, body: dict[str, Any]) -> Path:
    """bench/results/<name>.json: the figures, the command behind them and the machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "command": command, "machine": describe(), **body}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
