"""Helpers of the knowledge-base API tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from ..world import World

STUB_MODEL = "rag-stub"


def create_kb(client: TestClient, world: World, name: str = "法令集", classification: int = 2) -> int:
    body = {"name": name, "team_id": world.team["own"], "classification": classification}
    response = client.post("/api/v1/kb", json=body, headers=world.headers("team_admin"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def upload(client: TestClient, world: World, kb_id: int, *files: tuple[str, bytes], role: str = "team_admin") -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post(f"/api/v1/kb/{kb_id}/documents", files=parts, headers=world.headers(role))


def settled(client: TestClient, world: World, kb_id: int) -> list[dict[str, Any]]:
    """The documents once no ingestion job is queued or running (the in-process worker ingests)."""
    deadline = time.monotonic() + 120
    while True:
        documents: list[dict[str, Any]] = client.get(
            f"/api/v1/kb/{kb_id}/documents", headers=world.headers("member")
        ).json()
        if all(d["job"] is None or d["job"]["state"] in ("done", "failed") for d in documents):
            return documents
        assert time.monotonic() < deadline, documents
        time.sleep(0.05)


def ask(client: TestClient, world: World, kb_id: int, question: str, role: str = "member", **extra: Any) -> Any:
    body = {"question": question, "model": STUB_MODEL, **extra}
    return client.post(f"/api/v1/kb/{kb_id}/ask", json=body, headers=world.headers(role))
