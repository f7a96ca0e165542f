"""The command line: `gradtrace trace` prints what the API answers; errors exit 2 with the detail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gradtrace import cli
from gradtrace.api.app import create_app
from gradtrace.examples import examples


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def run_cli(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, bytes]:
    status = cli.main(list(argv))
    captured = capsysbinary.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("example", examples(), ids=lambda example: example["id"])
def test_trace_prints_the_apis_json(
    client: TestClient, capsysbinary: pytest.CaptureFixture[bytes], example: dict[str, Any]
) -> None:
    status, out, err = run_cli(
        capsysbinary, "trace", example["expression"], "--values", json.dumps(example["values"])
    )
    assert status == 0, err
    response = client.post(
        "/api/v1/trace", json={"expression": example["expression"], "values": example["values"]}
    )
    assert response.status_code == 200
    assert out == response.content + b"\n"


def test_trace_with_check_prints_the_apis_json(
    client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    values = {"x": 1, "y": 2, "z": 0}
    status, out, _ = run_cli(
        capsysbinary, "trace", "(x + y) * max(y, z)", "--values", json.dumps(values), "--check"
    )
    assert status == 0
    body = {"expression": "(x + y) * max(y, z)", "values": values, "check": True}
    api = client.post("/api/v1/trace", json=body)
    assert out == api.content + b"\n"
    assert json.loads(out)["check"]["y"]["ok"] is True


def test_trace_error_prints_the_422_detail_to_stderr_and_exits_2(
    client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    status, out, err = run_cli(capsysbinary, "trace", "x + * y", "--values", '{"x": 1, "y": 2}')
    assert status == cli.EXIT_TRACE_ERROR == 2
    assert out == b""
    api = client.post("/api/v1/trace", json={"expression": "x + * y", "values": {"x": 1, "y": 2}})
    assert api.status_code == 422
    assert json.loads(err) == api.json()["detail"]


def test_trace_applies_no_limits_unless_asked(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    long = "x * 1." + "0" * 120_000  # over the server's 120,000 characters
    status, out, _ = run_cli(capsysbinary, "trace", long, "--values", '{"x": 1}')
    assert status == 0
    assert json.loads(out)["value"] == 1.0
    status, _, err = run_cli(capsysbinary, "trace", long, "--values", '{"x": 1}', "--server-limits")
    assert status == 2
    assert json.loads(err)["limit"] == "max_expression_length"


@pytest.mark.parametrize("values", ["{", "[1, 2]", '{"x": NaN}'])
def test_trace_refuses_values_that_are_not_a_json_object(
    capsysbinary: pytest.CaptureFixture[bytes], values: str
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["trace", "x", "--values", values])
    assert raised.value.code not in (0, None)


def test_installed_command_prints_a_trace() -> None:
    command = Path(sys.executable).with_name("gradtrace")
    done = subprocess.run(
        [str(command), "trace", "x**3", "--values", '{"x": 4}'],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["value"] == 64.0 and body["gradients"] == {"x": 48.0}


def test_serve_accepts_host_port_and_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    import uvicorn

    def run(app: str, **options: Any) -> None:
        # The workers share a metrics directory that exists while they run.
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        calls.append({"app": app, "metrics_dir_exists": bool(directory and os.path.isdir(directory)), **options})

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(uvicorn, "run", run)
    assert cli.main(["serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "3"]) == 0
    assert len(calls) == 1
    call = calls[0]
    assert {k: call[k] for k in ("app", "factory", "host", "port", "workers")} == {
        "app": "gradtrace.api.app:create_app",
        "factory": True,
        "host": "127.0.0.1",
        "port": 8123,
        "workers": 3,
    }
    assert call["metrics_dir_exists"] is True
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    # uvicorn's own access log is off: the app writes one JSON line per request instead.
    assert call["access_log"] is False


def test_trace_equations_prints_the_lowered_graph(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    values = json.dumps({"W": [[1, 2], [3, 4]], "x": [1, 1]})
    status, out, err = run_cli(capsysbinary, "trace", "z = W @ x\nsum(z * 2)", "--values", values, "--equations")
    assert status == 0, err
    assert out.decode().splitlines() == [
        "W = input  # [2, 2]",
        "x = input  # [2]",
        "z = matmul(W, x)  # [2]",
        "n3 = constant 2",
        "n4 = mul(z, n3)  # [2]",
        "n5 = sum(n4)  <- output",
    ]


def test_tracing_from_the_command_line_does_not_load_the_api() -> None:
    code = (
        "import sys\n"
        "from gradtrace import cli\n"
        "cli.main(['trace', 'x * 2', '--values', '{\"x\": 1}'])\n"
        "assert not [m for m in sys.modules if m.startswith('gradtrace.api')], sorted(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == 2.0


def test_by_hand_takes_constants_and_leaves_them_underived(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run_cli(
        capsysbinary, "by-hand", "p = softmax(z); loss = -sum(t * log(p))",
        "--values", '{"z": [1, 2, 0.5], "t": [0, 1, 0]}', "--constants", "t",
    )
    assert code == 0, err
    assert [d["of"] for d in json.loads(out)["derivations"]] == ["z", "p"]
