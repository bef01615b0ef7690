"""Which team a call is charged to, decided before admission so that team limits hold."""

from __future__ import annotations

from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole, UsageRecord, User

MESSAGES = [{"role": "user", "content": "議事録を要約してください。"}]


def alice_in_both_teams(database: Database, world: World) -> None:
    with database.session() as db:
        alice = db.scalars(select(User).where(User.email == "alice@example.jp")).one()
        directory.set_membership(db, AccessScope(CLI_OPERATOR), world.team_b, alice.id, TeamRole.MEMBER)


def team_limit(client: TestClient, world: World, team_id: int, tokens: int) -> None:
    body = {"scope": "team", "subject_id": team_id, "metric": "tokens", "window": "day", "amount": tokens}
    response = client.post("/api/v1/limits", json=body, headers=World.auth(world.admin_key))
    assert response.status_code == 201, response.text


def chat(client: TestClient, world: World, **headers: str):
    return client.post(
        "/v1/chat/completions",
        headers={**World.auth(world.alice_key), **headers},
        json={"model": "shared", "messages": MESSAGES, "max_tokens": 100},
    )


def test_team_limit_holds_for_a_multi_team_user_without_team_header(
    client: TestClient, world: World, stub: StubUpstream, database: Database
):
    add_endpoint(client, world, "shared", stub.base_url)
    alice_in_both_teams(database, world)
    lowest, other = sorted((world.team_a, world.team_b))
    team_limit(client, world, lowest, tokens=5)

    refused = chat(client, world)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"]
    assert stub.chat_requests() == []  # refused at admission: nothing went upstream

    allowed = chat(client, world, **{"x-hiraga-team": str(other)})
    assert allowed.status_code == 200, allowed.text
    with database.session() as db:
        charged = [r.team_id for r in db.scalars(select(UsageRecord).order_by(UsageRecord.id))]
    assert charged[-1] == other and lowest in charged  # the refusal is recorded against the chosen team


def test_multi_team_user_is_charged_to_a_team_the_endpoint_allows(
    client: TestClient, world: World, stub: StubUpstream, database: Database
):
    alice_in_both_teams(database, world)
    higher = max(world.team_a, world.team_b)
    add_endpoint(client, world, "shared", stub.base_url, all_teams=False, team_ids=[higher])
    answer = chat(client, world)
    assert answer.status_code == 200, answer.text
    with database.session() as db:
        charged = [r.team_id for r in db.scalars(select(UsageRecord))]
    assert charged == [higher]
