"""MCP tests: the app served on a real port (the SDK's client speaks real HTTP), the gateway's stub
upstream as a chat model, lexical knowledge-base search (no embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway_stub import stub_settings
from mcp_support import People, Served, make_people

from hiraga.knowledge.wiring import EMBEDDER_KEY
from hiraga.settings import Settings
from hiraga.store.database import Database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    app.state.ctx.extras[EMBEDDER_KEY] = lambda: None
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def people(database: Database) -> People:
    return make_people(database)


@pytest.fixture
def served(app: FastAPI, client: TestClient) -> Iterator[str]:
    """The same app (started by ``client``) also on a real loopback port: the /mcp URL."""
    with Served(app) as base:
        yield base + "/mcp"
