"""JSON logs carry the request id and never a secret; every response names its request id."""

from __future__ import annotations

import io
import json
import logging

from fastapi.testclient import TestClient

from hiraga import logs


def test_json_lines_carry_the_request_id_and_mask_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("hiraga.test-logs")
    logger.addHandler(handler)
    token = logs.request_id.set("req-123")
    try:
        logger.warning("upstream refused key %s with Bearer %s", "hk-abcdef0123456789", "sk-upstream-SECRET-1")
        try:
            raise RuntimeError("postgresql://hiraga:pw@db/hiraga unreachable")
        except RuntimeError:
            logger.exception("database")
    finally:
        logs.request_id.reset(token)
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{"))
    assert first["request_id"] == "req-123" and first["level"] == "warning" and first["logger"] == "hiraga.test-logs"
    assert "hk-abcdef" not in first["message"] and "SECRET" not in first["message"]
    assert first["message"].count("[秘匿]") == 2
    assert "pw@" not in second["error"] and "RuntimeError" in second["error"]


def test_responses_name_their_request_id(client: TestClient) -> None:
    given = client.get("/healthz", headers={"x-request-id": "proxy-7f3a.1"})
    assert given.headers["x-request-id"] == "proxy-7f3a.1"
    odd = client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    fresh = client.get("/healthz")
    assert len(odd.headers["x-request-id"]) == 32 and odd.headers["x-request-id"] != fresh.headers["x-request-id"]
