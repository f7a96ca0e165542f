"""The classroom load driver, hostile mix included, runs end to end at a tiny scale: server up, every kind sent, figures written.

It runs in a child process, because locust patches the standard library (gevent) on import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_classroom_load_driver_at_a_tiny_scale() -> None:
    name = "classroom-smoke"
    done = subprocess.run(
        [sys.executable, "-m", "bench.classroom", "--users", "4", "--seconds", "4", "--wait", "0.05", "0.1", "--hostile", "--name", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads((REPO / "bench" / "results" / f"{name}.json").read_text())
    assert result["total"]["requests"] > 0
    assert result["total"]["server_errors"] == 0 and result["total"]["dropped"] == 0
    assert result["health"]["answers"] > 0
    assert "trace: lecture (light)" in result["kinds"]
    # The hostile mix ran too: its idle and half-sent connections were held open beside the students.
    assert result["slow_clients"]["opened"] > 0
