"""The service says it is up, and serves its page."""

from fastapi.testclient import TestClient

from gradtrace.api.app import create_app


def test_health_answers_ok() -> None:
    client = TestClient(create_app())
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_page_is_served() -> None:
    client = TestClient(create_app())
    response = client.get("/")
    assert response.status_code == 200
    assert 'id="expression"' in response.text
