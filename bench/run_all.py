"""Run every benchmark, each in a fresh process, then render docs/benchmarks.md.

A fresh process per benchmark keeps one's heap and imports from skewing the next, and
lets the others run when one fails (its old result, if any, stays in bench/results/).

    python -m bench.run_all [--quick]     (--quick: tiny sizes, to check the harness)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench.machine import REPO

BENCHMARKS = ("engine_scalar", "engine_tensor", "load", "page", "jacobian", "page_large")
# A benchmark that hangs (a browser stuck on an overloaded machine) must not hold up the
# others: past its time it gets SIGTERM, which stops its server, and its old result stays.
TIMEOUTS = {"engine_scalar": 600, "engine_tensor": 300, "load": 300, "page": 900, "jacobian": 300, "page_large": 900}
QUICK_ARGS = {
    "engine_scalar": ["--sizes", "100,1000", "--repeats", "2"],
    "engine_tensor": ["--sizes", "64", "--repeats", "2"],
    "load": ["--seconds", "2"],
    "page": ["--sizes", "30", "--repeats", "1"],
    "jacobian": ["--sizes", "8", "--repeats", "1"],
    "page_large": ["--sizes", "1000", "--steps", "5"],
}


def run_one(cmd: list[str], env: dict[str, str], timeout: float) -> int:
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  timed out after {timeout:.0f} s", flush=True)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    args = parser.parse_args(argv)
    failed = []
    env = dict(os.environ)
    if args.quick:
        # A quick run checks the harness; it must not replace the recorded figures.
        env["GRADTRACE_BENCH_RESULTS"] = str(REPO / "bench" / "results" / "quick")
    for name in args.only.split(","):
        extra = QUICK_ARGS[name] if args.quick else []
        print(f"bench.{name} {' '.join(extra)}", flush=True)
        start = time.monotonic()
        code = run_one([sys.executable, "-m", f"bench.{name}", *extra], env, TIMEOUTS[name])
        print(f"  ({time.monotonic() - start:.0f} s)", flush=True)
        if code != 0:
            failed.append(name)
    if not args.quick:
        subprocess.call([sys.executable, "-m", "bench.render"], cwd=REPO)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
