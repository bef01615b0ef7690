"""Helpers of the portal tests."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from gateway_world import World

STUB_MODEL = "stub-chat"


def conversation(client: TestClient, key: str, **fields: Any) -> int:
    response = client.post("/api/v1/conversations", json={"model": STUB_MODEL, **fields}, headers=World.auth(key))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def sse_events(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines.get("event", "message"), json.loads(lines["data"])))
    return events
