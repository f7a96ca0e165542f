"""Lessons through the API: stored by content address in SQLite and in PostgreSQL, read back, limited."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import create_async_engine

import gradtrace
from gradtrace.api.app import create_app
from gradtrace.api.lessons import ID_PATTERN
from gradtrace.api.settings import Settings
from gradtrace.store import metadata
from tests.api.helpers import assert_contract_error, assert_request_error, run_async

LESSON: dict[str, Any] = {
    "version": 1,
    "title": "Backpropagation, lecture 4",
    "slides": [
        {"title": "A cube", "note": "The slope at **4** is 48.", "expression": "x**3", "values": {"x": 4}},
        {
            "title": "A branch",
            "note": "- `+` distributes\n- `max` routes",
            "expression": "(x + y) * max(y, z)",
            "values": {"x": 1, "y": 2, "z": 0},
            "constants": ["z"],
            "step": 5,
            "quiz": True,
        },
        {
            "title": "A layer",
            "expression": "z = W @ x + b\nh = sigmoid(z)\ns = u @ h",
            "values": {"W": [[0.5, -1.0], [1.0, 0.5]], "x": [1.0, 2.0], "b": [0.5, -0.5], "u": [1.0, -1.0]},
            "check": True,
        },
    ],
}

SLIDE_DEFAULTS = {"note": "", "values": {}, "constants": [], "check": False, "step": 0, "quiz": False}


def with_defaults(lesson: dict[str, Any]) -> dict[str, Any]:
    return {**lesson, "slides": [{**SLIDE_DEFAULTS, **slide} for slide in lesson["slides"]]}


@pytest.fixture
def lesson_client(lesson_database: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(**lesson_database))) as client:
        yield client


def post_lesson(client: TestClient, lesson: Any) -> httpx.Response:
    return client.post("/api/v1/lessons", json=lesson)


def test_a_lesson_is_stored_and_read_back(lesson_client: TestClient) -> None:
    response = post_lesson(lesson_client, LESSON)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert re.fullmatch(ID_PATTERN, stored["id"]) and len(stored["id"]) == 8
    assert stored["link"] == f"/l/{stored['id']}"
    assert response.headers["location"] == f"/api/v1/lessons/{stored['id']}"
    read = lesson_client.get(f"/api/v1/lessons/{stored['id']}")
    assert read.status_code == 200, read.text
    assert read.json() == with_defaults(LESSON)
    assert "immutable" in read.headers["cache-control"]


def test_the_same_lesson_gets_the_same_id_and_another_lesson_another(lesson_client: TestClient) -> None:
    first = post_lesson(lesson_client, LESSON)
    again = post_lesson(lesson_client, LESSON)
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json() == first.json()
    # Key order, integers written as floats and defaults spelled out are the same lesson.
    reordered = json.loads(json.dumps(with_defaults(LESSON)))
    reordered["slides"][0]["values"]["x"] = 4.0
    reordered = dict(reversed(list(reordered.items())))
    same = post_lesson(lesson_client, reordered)
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    other = post_lesson(lesson_client, {**LESSON, "title": "Lecture 5"})
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    # The first lesson is unchanged by the second.
    assert lesson_client.get(first.json()["link"].replace("/l/", "/api/v1/lessons/")).json() == with_defaults(LESSON)


def test_a_stored_lesson_cannot_be_changed_or_deleted(lesson_client: TestClient) -> None:
    lesson_id = post_lesson(lesson_client, LESSON).json()["id"]
    path = f"/api/v1/lessons/{lesson_id}"
    assert lesson_client.put(path, json={**LESSON, "title": "changed"}).status_code == 405
    assert lesson_client.delete(path).status_code == 405
    assert lesson_client.get(path).json()["title"] == LESSON["title"]


def test_an_unknown_id_is_a_404_in_the_contract_form(lesson_client: TestClient) -> None:
    assert_contract_error(lesson_client.get("/api/v1/lessons/zzzzzzzz"), 404, "not_found")
    assert_request_error(lesson_client.get("/api/v1/lessons/NOT-AN-ID"), "lesson_id")


def test_the_page_opens_a_stored_lesson(lesson_client: TestClient) -> None:
    lesson_id = post_lesson(lesson_client, LESSON).json()["id"]
    page = lesson_client.get(f"/l/{lesson_id}")
    assert page.status_code == 200
    data = json.loads(re.search(r'<script[^>]*id="page-data"[^>]*>(.*?)</script>', page.text, re.S).group(1))
    assert data["lesson_id"] == lesson_id
    assert data["lesson"] == with_defaults(LESSON)
    missing = lesson_client.get("/l/zzzzzzzz")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


def test_the_migrations_make_the_tables_the_store_uses(lesson_database: dict[str, Any]) -> None:
    settings = Settings(**lesson_database)
    with TestClient(create_app(settings)):
        pass

    async def differences() -> list[Any]:
        engine = create_async_engine(settings.lessons_database_url())
        async with engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        await engine.dispose()
        return list(found)

    assert run_async(differences()) == []


def test_sqlite_makes_its_data_directory_on_first_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    with TestClient(create_app(Settings(data_dir=data_dir))):
        assert (data_dir / "lessons.sqlite3").is_file()


def test_a_restart_loses_nothing(lesson_database: dict[str, Any]) -> None:
    with TestClient(create_app(Settings(**lesson_database))) as before:
        lesson_id = post_lesson(before, LESSON).json()["id"]
    with TestClient(create_app(Settings(**lesson_database))) as after:
        assert after.get(f"/api/v1/lessons/{lesson_id}").json() == with_defaults(LESSON)
        assert post_lesson(after, LESSON).status_code == 200


# -- two server processes on one database --------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gradtrace.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server process exited at start")
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server process did not answer")


def test_a_lesson_stored_through_one_process_is_read_through_another(
    lesson_database: dict[str, Any],
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRADTRACE_")}
    for key, value in lesson_database.items():
        env[f"GRADTRACE_{key.upper()}"] = str(value)
    processes = []
    try:
        writer, writer_url = _serve(env)
        processes.append(writer)
        reader, reader_url = _serve(env)
        processes.append(reader)
        stored = httpx.post(writer_url + "/api/v1/lessons", json=LESSON, timeout=30)
        assert stored.status_code == 201, stored.text
        lesson_id = stored.json()["id"]
        read = httpx.get(f"{reader_url}/api/v1/lessons/{lesson_id}", timeout=30)
        assert read.status_code == 200, read.text
        assert read.json() == with_defaults(LESSON)
        again = httpx.post(reader_url + "/api/v1/lessons", json=LESSON, timeout=30)
        assert again.status_code == 200 and again.json()["id"] == lesson_id
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


# -- limits and bad lessons (SQLite is enough: they are refused before the store) -----


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_lesson_bytes=2000, max_lesson_slides=3, lessons_per_minute=4)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_lesson_over_max_lesson_bytes_is_a_413_that_names_it(small_client: TestClient) -> None:
    big = {**LESSON, "slides": [{**LESSON["slides"][0], "note": "n" * 2500}]}
    detail = assert_contract_error(post_lesson(small_client, big), 413, "limit_exceeded")
    assert detail["limit"] == "max_lesson_bytes" and "max_lesson_bytes" in detail["message"]


def test_a_lesson_over_max_lesson_slides_is_a_422_that_names_it(small_client: TestClient) -> None:
    many = {**LESSON, "slides": [LESSON["slides"][0]] * 4}
    detail = assert_contract_error(post_lesson(small_client, many), 422, "limit_exceeded")
    assert detail["limit"] == "max_lesson_slides"


def test_more_than_lessons_per_minute_is_a_429_that_names_it(small_client: TestClient) -> None:
    for n in range(4):
        assert post_lesson(small_client, {**LESSON, "title": f"lesson {n}"}).status_code == 201
    refused = post_lesson(small_client, {**LESSON, "title": "one too many"})
    detail = assert_contract_error(refused, 429, "rate_limited")
    assert detail["limit"] == "lessons_per_minute"
    assert int(refused.headers["retry-after"]) >= 1
    # A refused lesson was not stored.
    assert small_client.get("/api/v1/lessons/" + "z" * 8).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda lesson: {**lesson, "version": 2}, "version"),
        (lambda lesson: {**lesson, "slides": []}, "slides"),
        (lambda lesson: {**lesson, "colour": "red"}, "colour"),
        (lambda lesson: {k: v for k, v in lesson.items() if k != "title"}, "title"),
        (lambda lesson: {**lesson, "slides": [{"title": "no expression"}]}, "expression"),
        (lambda lesson: {**lesson, "slides": [{**lesson["slides"][0], "values": {"x": True}}]}, "x"),
        (lambda lesson: {**lesson, "slides": [{**lesson["slides"][0], "values": {"1x": 1}}]}, "values"),
        (lambda lesson: {**lesson, "slides": [{**lesson["slides"][0], "step": -1}]}, "step"),
        (lambda lesson: {**lesson, "slides": [{**lesson["slides"][0], "quiz": "yes"}]}, "quiz"),
        (lambda lesson: {**lesson, "slides": [{**lesson["slides"][0], "note": "n" * 4001}]}, "note"),
    ],
)
def test_a_body_that_is_not_a_lesson_is_a_422_that_says_where(
    tmp_path: Path, change: Any, field: str
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert_request_error(post_lesson(client, change(LESSON)), field)


@pytest.mark.parametrize("body", [b"{not json", b"\x80", b""])
def test_a_body_that_is_not_json_is_a_422(tmp_path: Path, body: bytes) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        response = client.post(
            "/api/v1/lessons", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], list)


def test_an_unreachable_database_is_a_503_and_the_rest_still_works(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/none?host={tmp_path}&port=1"
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert_contract_error(post_lesson(client, LESSON), 503, "database_unavailable")
        assert_contract_error(client.get("/api/v1/lessons/zzzzzzzz"), 503, "database_unavailable")


def test_a_stored_lesson_exports_as_one_offline_file(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        lesson_id = post_lesson(client, LESSON).json()["id"]
        answer = client.get(f"/api/v1/lessons/{lesson_id}/export")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-disposition"] == 'attachment; filename="backpropagation-lecture-4.html"'
        data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>',
                                    answer.text, re.S).group(1))
        assert data["lesson"]["title"] == LESSON["title"]
        assert [t["request"]["expression"] for t in data["traces"]] == [s["expression"] for s in LESSON["slides"]]
        assert data["traces"][0]["trace"]["value"] == 64.0
        assert_contract_error(client.get("/api/v1/lessons/x4k7w2mq/export"), 404, "not_found")


def test_a_lesson_whose_slide_cannot_be_traced_exports_as_a_422_naming_the_slide(tmp_path: Path) -> None:
    broken = {**LESSON, "slides": [LESSON["slides"][0], {"title": "Typo", "expression": "x +* 2", "values": {"x": 1}}]}
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        lesson_id = post_lesson(client, broken).json()["id"]
        detail = assert_contract_error(client.get(f"/api/v1/lessons/{lesson_id}/export"), 422, "syntax_error")
    assert detail["slide"] == 1


def test_a_lesson_export_holds_all_its_slides_to_one_traces_response_bytes(tmp_path: Path) -> None:
    # Each slide fits the budget alone; together they do not.
    budget = 3 * gradtrace.plan("x**3", {"x": 4}).cost.response_bytes
    many = {**LESSON, "slides": [LESSON["slides"][0]] * 40}
    with TestClient(create_app(Settings(data_dir=tmp_path, max_response_bytes=budget))) as client:
        post = post_lesson(client, many)
        assert client.post("/api/v1/trace", json={"expression": "x**3", "values": {"x": 4}}).status_code == 200
        detail = assert_contract_error(client.get(f"/api/v1/lessons/{post.json()['id']}/export"), 422, "limit_exceeded")
    assert detail["limit"] == "max_response_bytes" and "40 slides" in detail["message"]


def test_the_openapi_document_describes_the_lessons(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    post = document["paths"]["/api/v1/lessons"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Lesson")
    assert "examples" in post["requestBody"]["content"]["application/json"]
    for status in ("201", "413", "429"):
        assert post["responses"][status]["content"]["application/json"]["examples"]
    get = document["paths"]["/api/v1/lessons/{lesson_id}"]["get"]
    assert get["responses"]["404"]["content"]["application/json"]["examples"]
    assert set(document["components"]["schemas"]["Slide"]["properties"]) == {
        "title", "note", "expression", "values", "constants", "check", "step", "quiz"
    }
