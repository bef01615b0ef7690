"""Evaluation tests run hiraga's real gateway (policy, audit) against the gateway's stub upstream,
which speaks the OpenAI protocol; a ``responder`` makes the stub answer by what it is asked."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_stub import StubUpstream
from gateway_world import World, settings, stub, world  # noqa: F401  (fixtures)

from hiraga.cli.common import CLI_OPERATOR
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import EndpointCreate
from hiraga.gateway.wiring import registry_rules
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database

OPERATOR = AccessScope(CLI_OPERATOR)


@pytest.fixture
def models(database: Database, settings: Settings, stub: StubUpstream, world: World) -> tuple[str, str]:  # noqa: F811
    """Two chat models behind the stub: "stub-a" (機密性2, priced) and "stub-b" (機密性1, free)."""
    rules = registry_rules(settings)
    with database.session() as db:
        for name, clearance, price in (("stub-a", 2, Decimal("1")), ("stub-b", 1, Decimal("0"))):
            spec = EndpointCreate(
                name=name,
                base_url=stub.base_url,
                upstream_model=name,
                clearance=clearance,
                external=False,
                all_teams=True,
                price_input_per_1k=price,
                price_output_per_1k=price * 2,
            )
            registry.create_endpoint(db, OPERATOR, spec, rules)
        db.commit()
    return "stub-a", "stub-b"
