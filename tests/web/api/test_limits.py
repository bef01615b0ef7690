"""/api/v1/limits: who may set which limits, bad input changes nothing, and a new limit is
enforced at once by the gateway hooks of the same app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.errors import TooManyRequests
from hiraga.identity.principal import Principal
from hiraga.spine.call import ModelCall
from hiraga.store.tables import TeamRole
from hiraga.usage.hooks import installed_hooks

from .world import World


def team_limit(world: World, team: str = "own", **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "scope": "team",
        "subject_id": world.team[team],
        "metric": "tokens",
        "window": "day",
        "amount": 100000,
    }
    return {**body, **overrides}


def test_team_admin_manages_own_team_limits_only(client: TestClient, world: World) -> None:
    headers = world.headers("team_admin")
    created = client.post("/api/v1/limits", json=team_limit(world), headers=headers)
    assert created.status_code == 201, created.text
    limit = created.json()
    assert (limit["metric"], limit["window"], float(limit["amount"])) == ("tokens", "day", 100000.0)
    changed = client.patch(f"/api/v1/limits/{limit['id']}", json={"amount": "5000"}, headers=headers)
    assert float(changed.json()["amount"]) == 5000.0
    assert [x["id"] for x in client.get("/api/v1/limits", headers=headers).json()] == [limit["id"]]
    other = client.post("/api/v1/limits", json=team_limit(world, "other"), headers=headers)
    assert other.status_code == 404  # another team looks like a missing one
    per_user = team_limit(world, scope="user", subject_id=world.colleague)
    assert client.post("/api/v1/limits", json=per_user, headers=headers).status_code == 403
    assert client.delete(f"/api/v1/limits/{limit['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/limits", headers=headers).json() == []


def test_members_and_auditors_cannot_set_limits(client: TestClient, world: World) -> None:
    for role in ("member", "auditor"):
        refused = client.post("/api/v1/limits", json=team_limit(world), headers=world.headers(role))
        assert refused.status_code in (403, 404), refused.text
    assert client.get("/api/v1/limits", headers=world.headers("system_admin")).json() == []


def test_bad_limits_are_refused_and_change_nothing(client: TestClient, world: World) -> None:
    headers = world.headers("system_admin")
    for body in (
        team_limit(world, amount=-1),
        team_limit(world, window="week"),
        team_limit(world, metric="yen"),
        team_limit(world, scope="key", subject_id=999999),
    ):
        refused = client.post("/api/v1/limits", json=body, headers=headers)
        assert refused.status_code in (400, 404), refused.text
        assert refused.json()["error"]["message"]
    assert client.post("/api/v1/limits", json=team_limit(world), headers=headers).status_code == 201
    duplicate = client.post("/api/v1/limits", json=team_limit(world, amount=1), headers=headers)
    assert duplicate.status_code == 409
    assert [float(x["amount"]) for x in client.get("/api/v1/limits", headers=headers).json()] == [100000.0]


def test_a_new_limit_is_enforced_at_once(app: FastAPI, client: TestClient, world: World) -> None:
    body = team_limit(world, metric="requests", window="minute", amount=1)
    assert client.post("/api/v1/limits", json=body, headers=world.headers("system_admin")).status_code == 201
    hooks = installed_hooks(app.state.ctx.extras)
    assert hooks is not None
    member = world.actors["member"].user_id
    principal = Principal(
        user_id=member, email="m@a", display_name="m", team_roles={world.team["own"]: TeamRole.MEMBER}
    )

    async def two_calls() -> str:
        call = ModelCall(principal=principal, kind="chat", requested_model="m", team_id=world.team["own"])
        await hooks.admit(call)
        try:
            await hooks.admit(
                ModelCall(principal=principal, kind="chat", requested_model="m", team_id=world.team["own"])
            )
        except TooManyRequests as refusal:
            return refusal.message
        return ""

    assert client.portal is not None
    assert client.portal.call(two_calls) == "チーム「企画課」の1分あたりのリクエスト数上限（1）に達しました。"
