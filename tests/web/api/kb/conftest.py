"""Fixtures of the knowledge-base API tests: settings with the stub upstream allowed, a client with
the embedder off (lexical search only), the scripted upstream registered as two chat models
(cleared for 3 and for 1), and a knowledge base with the 行政手続法 excerpt ingested."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.settings import Settings

from ..world import World
from .support import STUB_MODEL, create_kb, settled, upload

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "knowledge"))
from rag_support import LAW_SAMPLE, ScriptedUpstream, lexical_client, scripted_upstream, stub_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with lexical_client(app) as test_client:
        yield test_client


@pytest.fixture
def upstream(client: TestClient, world: World) -> ScriptedUpstream:
    stub = scripted_upstream()
    for name, clearance in ((STUB_MODEL, 3), ("rag-stub-level1", 1)):
        body = {
            "name": name,
            "provider": "openai",
            "base_url": stub.base_url,
            "upstream_model": "stub",
            "all_teams": True,
            "clearance": clearance,
            "context_window": 8192,
        }
        response = client.post("/api/v1/models", json=body, headers=world.headers("system_admin"))
        assert response.status_code == 201, response.text
    return stub


@pytest.fixture
def law_kb(client: TestClient, world: World) -> int:
    kb_id = create_kb(client, world)
    response = upload(client, world, kb_id, (LAW_SAMPLE.name, LAW_SAMPLE.read_bytes()))
    assert response.status_code == 202, response.text
    assert response.json()["submitted"][0]["outcome"] == "queued"
    [document] = settled(client, world, kb_id)
    assert document["status"] == "ready", document
    return kb_id
