"""``hiraga serve``'s request log: one line per request, without query strings or credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hiraga import logs
from hiraga.app import create_app
from hiraga.settings import Settings
from hiraga.web import access_log


def test_one_line_per_request_without_secrets(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(create_app(settings.model_copy(update={"access_log": True}))) as client:
        client.get("/setup?token=very-secret-token")
        client.get("/healthz", headers={"authorization": "Bearer hk-secret-key"})
    lines = [r.getMessage() for r in caplog.records if r.name == "hiraga.access"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /setup 403 ") and lines[1].startswith("GET /healthz 200 ")
    assert not any("secret" in line for line in lines)


def test_off_unless_asked(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    access_log.log.addHandler(caplog.handler)
    try:
        with TestClient(create_app(settings)) as client, caplog.at_level(logging.INFO, logger="hiraga.access"):
            client.get("/healthz")
    finally:
        access_log.log.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.name == "hiraga.access"]


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    root.handlers[:] = before


def test_json_format_makes_the_request_lines_json_with_the_request_id(
    settings: Settings, capsys: pytest.CaptureFixture[str], root_handlers: None
) -> None:
    logs.configure("json")  # the one handler, writing to this test's stderr
    app = create_app(settings.model_copy(update={"access_log": True, "log_format": "json"}))
    with TestClient(app) as client:
        answer = client.get("/healthz?token=secret", headers={"X-Request-ID": "req-abc12345"})
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "hiraga.access"]
    assert len(access) == 1, entries
    assert access[0]["request_id"] == answer.headers["x-request-id"] == "req-abc12345"
    assert access[0]["message"].startswith("GET /healthz 200 ") and "secret" not in access[0]["message"]
