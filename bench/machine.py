"""Describe the machine and the run, so every recorded figure says where it came from."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# GRADTRACE_BENCH_RESULTS moves the results elsewhere (the smoke test and --quick do).
RESULTS = Path(os.environ.get("GRADTRACE_BENCH_RESULTS") or REPO / "bench" / "results")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas() -> str:
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name', '?')} {info.get('version', '?')}"
    except Exception:  # older numpy: no dict form; the version is enough then
        return "unknown"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _git_commit() -> str:
    """The commit measured; marked when the code under test had uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--untracked-files=no", "backend", "frontend"):
        commit += " with uncommitted changes"
    return commit


def describe() -> dict[str, Any]:
    """nproc, CPU model, Python and numpy versions, the BLAS setting, the date and the commit."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas(),
        "platform": platform.platform(),
        # numpy's BLAS picks its kernels from this when set; it changes the tensor figures.
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average": [round(x, 2) for x in load],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
    }
