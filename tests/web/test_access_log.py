"""``hiraga serve``'s request log: one line per request, without query strings or credentials."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.settings import Settings
from hiraga.web import access_log


def test_one_line_per_request_without_secrets(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(create_app(settings.model_copy(update={"access_log": True}))) as client:
        assert access_log.log.handlers and not access_log.log.propagate  # its own stderr handler
        access_log.log.addHandler(caplog.handler)
        try:
            client.get("/setup?token=very-secret-token")
            client.get("/healthz", headers={"authorization": "Bearer hk-secret-key"})
        finally:
            access_log.log.removeHandler(caplog.handler)
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
