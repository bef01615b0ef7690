"""Fixtures of the portal page tests: settings that allow the loopback stub upstream, a chat model
behind it, and a helper that posts a portal form the way a browser does."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pages_support import OPERATOR, csrf_from

from hiraga.gateway.admin_protocol import EndpointCreate
from hiraga.gateway.registry import RegistryRules, create_endpoint
from hiraga.gateway.secrets import SecretBox
from hiraga.settings import Settings
from hiraga.store.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway"))
from gateway_stub import REPLY, StubUpstream, stub_settings

STUB_MODEL = "stub-chat"
_STUB: StubUpstream | None = None
__all__ = ["REPLY", "STUB_MODEL", "stub", "stub_models", "stub_settings", "submit"]


@pytest.fixture
def stub() -> Iterator[StubUpstream]:
    global _STUB
    if _STUB is None:
        _STUB = StubUpstream().start()
    _STUB.reset()
    yield _STUB
    _STUB.reset()


@pytest.fixture
def stub_models(database: Database, settings: Settings, stub: StubUpstream) -> list[str]:
    """Two chat models behind the stub, cleared for 機密性2: a normal one and one with a small window."""
    rules = RegistryRules(box=SecretBox(settings.secret()), allowed_hosts=("127.0.0.1",))
    with database.session() as db:
        for name, window in ((STUB_MODEL, 4096), ("stub-small", 1024)):
            spec = EndpointCreate(
                name=name,
                provider="openai",
                base_url=stub.base_url,
                upstream_model="stub-model",
                all_teams=True,
                clearance=2,
                external=False,
                context_window=window,
            )
            create_endpoint(db, OPERATOR, spec, rules)
    return [STUB_MODEL, "stub-small"]


def submit(client: TestClient, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> Response:
    """Post a form of ``page`` with its CSRF token, as a browser without JavaScript does."""
    token = csrf_from(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False, **kwargs)


def conversation_id(response: Response) -> int:
    match = re.search(r"/chat/(\d+)", response.headers["location"])
    assert match, response.headers
    return int(match.group(1))
