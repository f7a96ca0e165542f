"""The OpenAPI page and document: served locally, with examples, and true to the service.

The schemathesis run sends requests generated from the document to the app
and checks that none gets a 5xx, that every response fits the document, and
that each is answered within the time limit of one trace.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import max_response_time, not_a_server_error, response_schema_conformance

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings

# -- the page -------------------------------------------------------------------------------


def test_docs_page_loads_swagger_ui_from_this_server(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts, "the page loads scripts"
    for attributes, inline in scripts:
        assert inline.strip() == "", "no inline script: the CSP allows only files from 'self'"
        source = re.search(r'src="([^"]+)"', attributes)
        assert source is not None and source.group(1).startswith("/"), attributes
    for url in re.findall(r'(?:src|href)="([^"]+)"', response.text):
        assert url.startswith("/"), f"{url} would leave this server"
        assert client.get(url).status_code == 200, url


def test_docs_script_starts_swagger_ui_on_the_schema(client: TestClient) -> None:
    response = client.get("/docs/init.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "SwaggerUIBundle" in response.text
    page = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in page


def test_openapi_document_has_request_and_response_examples(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    trace = document["paths"]["/api/v1/trace"]["post"]
    request_examples = trace["requestBody"]["content"]["application/json"]["examples"]
    assert request_examples["lecture"]["value"]["expression"] == "(x + y) * max(y, z)"
    responses = trace["responses"]
    ok = responses["200"]["content"]["application/json"]
    example = ok["examples"]["cube"]["value"]
    # The response example is a real trace: x**3 at 4.
    assert example["value"] == 64.0 and example["gradients"] == {"x": 48.0}
    syntax = responses["422"]["content"]["application/json"]["examples"]["syntax"]["value"]
    assert syntax["detail"]["type"] == "syntax_error"
    assert responses["413"]["content"]["application/json"]["examples"]
    assert responses["503"]["content"]["application/json"]["examples"]
    for path in ("/api/v1/examples", "/api/v1/ops", "/api/v1/health"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert content["application/json"]["example"], path


def test_openapi_document_describes_the_trace(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"Trace", "Node", "Edge", "Step", "TraceRequest", "ErrorBody"} <= set(schemas)
    request = schemas["TraceRequest"]
    assert request["additionalProperties"] is False
    assert set(schemas["Edge"]["required"]) >= {"upstream", "local", "downstream", "local_shape"}


# -- the generated requests -----------------------------------------------------------------

_config = schemathesis.Config.from_dict(
    {"generation": {"max-examples": 120}, "checks": {"max_response_time": 10.0}}
)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(max_seconds=2.0)), config=_config
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema.parametrize()
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_generated_requests_get_no_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[not_a_server_error, response_schema_conformance, max_response_time]
    )
