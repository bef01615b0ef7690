"""Portal tests talk to a real HTTP stub upstream (the gateway's own test stub, speaking the
OpenAI protocol) through the real gateway; the embedded model is used by the browser tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint, settings, stub, world  # noqa: F401  (fixtures)

from .support import STUB_MODEL


@pytest.fixture
def stub_model(client: TestClient, world: World, stub: StubUpstream) -> dict[str, Any]:  # noqa: F811
    """A chat model behind the stub, cleared for 機密性2, usable by every team."""
    return add_endpoint(client, world, STUB_MODEL, stub.base_url, clearance=2, context_window=4096)
