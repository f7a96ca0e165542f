"""Responses are gzip-compressed for a client that accepts it, and only then."""

from __future__ import annotations

import gzip
import json

import httpx
from fastapi.testclient import TestClient

BODY = {"expression": "s = sum(sigmoid(W @ x))", "values": {"W": [[0.1 * i + 0.01 * j for j in range(8)] for i in range(8)], "x": [0.5] * 8}}


def test_a_trace_is_compressed_when_the_client_accepts_gzip(client: TestClient) -> None:
    plain = client.post("/api/v1/trace", json=BODY, headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    with httpx.Client(transport=client._transport, base_url=str(client.base_url)) as raw:  # no decoding on our side
        request = raw.build_request("POST", "/api/v1/trace", json=BODY, headers={"accept-encoding": "gzip"})
        squeezed = raw.send(request, stream=True)
        data = b"".join(squeezed.iter_raw())
    assert squeezed.status_code == 200
    assert squeezed.headers["content-encoding"] == "gzip"
    assert len(data) * 3 < len(plain.content)
    assert json.loads(gzip.decompress(data)) == plain.json()
    # The security headers are still there on a compressed answer.
    assert "content-security-policy" in squeezed.headers


def test_a_small_answer_is_sent_as_it_is(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
