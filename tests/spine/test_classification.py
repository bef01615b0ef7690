"""機密性: no path sends data to an endpoint whose clearance is lower than the call's effective level."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.cli.common import CLI_OPERATOR
from hiraga.errors import Forbidden, InvalidInput
from hiraga.gateway.platform_policy import default_classification, set_default_classification
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import Classification, ModelCall
from hiraga.spine.classification import effective_classification
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

MESSAGES = [{"role": "user", "content": "来年度予算の内訳を要約してください。"}]


def chat(client: TestClient, world: World, model: str, level: int | None = None, **extra: Any) -> Any:
    headers = World.auth(world.alice_key)
    if level is not None:
        headers["X-Hiraga-Classification"] = str(level)
    return client.post("/v1/chat/completions", headers=headers, json={"model": model, "messages": MESSAGES, **extra})


def last_audit(database: Database) -> tuple[AuditRecord, dict[str, Any]]:
    with database.session() as db:
        row = db.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()
        db.expunge(row)
    return row, json.loads(row.detail or "{}")


def two_tier_alias(client: TestClient, world: World, stub: StubUpstream) -> None:
    """``chain``: a clearance-1 endpoint first, a clearance-3 one as the fallback."""
    add_endpoint(client, world, "cloud-l1", stub.base_url, clearance=1, upstream_model="cloud-m")
    add_endpoint(client, world, "onprem-l3", stub.base_url, clearance=3, external=False, upstream_model="onprem-m")
    members = [{"endpoint": "cloud-l1", "priority": 0}, {"endpoint": "onprem-l3", "priority": 1}]
    put = client.put("/api/v1/models/aliases/chain", json={"members": members}, headers=World.auth(world.admin_key))
    assert put.status_code == 200, put.text


def test_effective_level_is_the_highest_of_what_the_call_touches() -> None:
    assert effective_classification(1, None, 3, 2) is Classification.LEVEL3
    assert effective_classification() is Classification.LEVEL1
    call = ModelCall(Principal(1, "a@example.jp", "a"), "chat", "m", classification=Classification.LEVEL2)
    call.draw_on("kb:7", 1)
    assert call.classification is Classification.LEVEL2  # drawing on lower data never lowers it
    call.draw_on("kb:8", 3)
    assert call.classification is Classification.LEVEL3 and call.drawn_on == {"kb:7": 1, "kb:8": 3}


@pytest.mark.parametrize("stream", [False, True])
def test_level_3_request_falls_back_to_a_cleared_endpoint_and_never_reaches_the_level_1_one(
    client: TestClient, world: World, stub: StubUpstream, database: Database, stream: bool
) -> None:
    two_tier_alias(client, world, stub)
    response = chat(client, world, "chain", level=3, stream=stream)
    assert response.status_code == 200, response.text
    assert response.headers["x-hiraga-endpoint"] == "onprem-l3"
    assert [r.body["model"] for r in stub.chat_requests()] == ["onprem-m"]
    record, facts = last_audit(database)
    assert (record.classification, record.endpoint_name, record.outcome) == (3, "onprem-l3", "ok")
    assert facts["clearance"] == 3
    stub.reset()
    assert chat(client, world, "chain", level=1).headers["x-hiraga-endpoint"] == "cloud-l1"  # level 1: first tier


def test_no_cleared_endpoint_is_403_naming_the_rule_and_audited(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "cloud-l1", stub.base_url, clearance=1)
    for extra in ({"level": 2}, {"metadata": {"classification": 3}}, {"level": 3, "stream": True}):
        response = chat(client, world, "cloud-l1", **extra)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "classification_not_cleared" and "クリアランス" in error["message"]
        record, facts = last_audit(database)
        assert (record.outcome, record.error_code) == ("refused", "classification_not_cleared")
        assert facts["refusal"]["rule"] == "endpoint.clearance >= request.classification"
        assert facts["refusal"]["clearance"] == 1 and record.classification == facts["refusal"]["classification"]
    assert stub.chat_requests() == []


def test_a_feature_drawing_on_level_3_data_cannot_reach_a_level_1_endpoint(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    """What the KB, apps and portal do: build a ModelCall, draw on their data's level, call the gateway."""
    add_endpoint(client, world, "cloud-l1", stub.base_url, clearance=1)
    ctx = client.app.state.ctx
    gateway: Gateway = ctx.extras["gateway"]
    portal = client.portal
    assert portal is not None
    principal: Principal = portal.call(ctx.extras["gateway_principals"].authenticate, f"Bearer {world.alice_key}")
    call = ModelCall(principal=principal, kind="chat", requested_model="cloud-l1", source="rag:7")
    call.draw_on("kb:7", 3)
    with pytest.raises(Forbidden) as refused:
        portal.call(gateway.chat, call, {"model": "cloud-l1", "messages": MESSAGES})
    assert refused.value.code == "classification_not_cleared"
    assert stub.chat_requests() == []
    record, facts = last_audit(database)
    assert record.classification == 3 and facts["classification_drawn_on"] == {"kb:7": 3}


def test_admins_default_classification_applies_without_a_restart(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "cloud-l1", stub.base_url, clearance=1)
    assert chat(client, world, "cloud-l1").status_code == 200  # Settings' default: 機密性1
    with database.session() as db:
        with pytest.raises(Forbidden):
            set_default_classification(db, AccessScope(Principal(9, "x@example.jp", "x")), 2)
        with pytest.raises(InvalidInput):
            set_default_classification(db, AccessScope(CLI_OPERATOR), 4)
        set_default_classification(db, AccessScope(CLI_OPERATOR), 2)
        db.commit()
        assert default_classification(db, 1) is Classification.LEVEL2
    refused = chat(client, world, "cloud-l1")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "classification_not_cleared"
    assert last_audit(database)[0].classification == 2
    assert chat(client, world, "cloud-l1", level=1).status_code == 200  # an explicit choice still counts
