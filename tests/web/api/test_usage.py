"""/api/v1/usage: auditors see everything, team admins their teams, members nothing."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.identity.principal import Principal
from hiraga.spine.call import CallOutcome, ModelCall, Outcome, Usage
from hiraga.usage.hooks import installed_hooks

from .world import World


def record_calls(app: FastAPI, client: TestClient, world: World) -> None:
    hooks = installed_hooks(app.state.ctx.extras)
    assert hooks is not None and client.portal is not None
    member = Principal(user_id=world.actors["member"].user_id, email="m@a", display_name="m")
    stranger = Principal(user_id=world.stranger.user_id, email="s@b", display_name="s")
    plan = [
        (member, world.team["own"], "llm-jp", Usage(100, 20), Decimal("0.5")),
        (member, world.team["own"], "llm-jp", Usage(50, 10), Decimal("0.25")),
        (stranger, world.team["other"], "gpt", Usage(7, 3, estimated=True), Decimal("1")),
    ]

    async def write() -> None:
        for who, team, model, usage, cost in plan:
            call = ModelCall(principal=who, kind="chat", requested_model=model, team_id=team)
            await hooks.record(call, CallOutcome(Outcome.OK, usage=usage, cost_jpy=cost))

    client.portal.call(write)


def test_auditor_reads_all_usage_and_totals(app: FastAPI, client: TestClient, world: World) -> None:
    record_calls(app, client, world)
    headers = world.headers("auditor")
    rows = client.get("/api/v1/usage", headers=headers).json()
    assert [r["model"] for r in rows] == ["gpt", "llm-jp", "llm-jp"]
    assert rows[0]["estimated"] is True
    totals = client.get("/api/v1/usage/totals?group_by=model", headers=headers).json()
    by_model = {
        t["key"]: (t["requests"], t["input_tokens"], t["output_tokens"], Decimal(t["cost_jpy"])) for t in totals
    }
    assert by_model == {"gpt": (1, 7, 3, Decimal("1")), "llm-jp": (2, 150, 30, Decimal("0.75"))}


def test_team_admin_sees_only_own_team_and_members_nothing(app: FastAPI, client: TestClient, world: World) -> None:
    record_calls(app, client, world)
    rows = client.get("/api/v1/usage", headers=world.headers("team_admin")).json()
    assert {r["team_id"] for r in rows} == {world.team["own"]}
    totals = client.get("/api/v1/usage/totals?group_by=team", headers=world.headers("team_admin")).json()
    assert [t["key"] for t in totals] == [str(world.team["own"])]
    assert client.get("/api/v1/usage", headers=world.headers("member")).status_code == 403
    bad = client.get("/api/v1/usage?limit=0", headers=world.headers("auditor"))
    assert bad.status_code == 400
