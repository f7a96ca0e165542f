"""`make cluster` at a small scale: replicas behind nginx, one killed and started again mid-run.

It runs in a child process, because locust patches the standard library (gevent)
on import. Only what does not depend on the machine's speed is asserted: every
failure is one that was in flight on the killed replica, the killed replica
came back, and every lesson stored is read back from every replica.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("nginx_installed")
def test_the_cluster_survives_a_killed_replica_at_a_small_scale() -> None:
    name = "cluster-smoke"
    done = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--seconds", "8", "--users", "6", "--wait", "0.05", "0.2",
         "--name", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert "wrote" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((REPO / "bench" / "results" / f"{name}.json").read_text())
    total = result["total"]
    assert total["requests"] > 0
    assert total["failed_otherwise"] == 0, result["failures"]
    assert result["targets"]["every replica alive at the end"]
    assert result["kill"]["restarted_at_s"] > result["kill"]["killed_at_s"]
    assert result["health_probe"]["answers"] > 0 and result["health_probe"]["errors"] == 0
    assert {"trace: lecture", "page: /", "page: files"} <= set(result["kinds"])
    back = result["lessons_read_back"]
    if back is not None:
        assert back["lessons"] > 0 and back["missing_count"] == 0, back
