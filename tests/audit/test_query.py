"""Filters, scoping (team admins see their teams only) and streamed exports through /api/v1/audit."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from audit_support import record
from fastapi.testclient import TestClient

from hiraga.audit import chain, keys
from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

CALLS = "action=model_call"  # the seeded records (setting up the people also writes security events)
ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))


def people(database: Database) -> dict[str, object]:
    """Two teams; an auditor, a team admin of the first, a member; their API keys."""
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "監査省")
        teams = [directory.create_team(db, ROOT, org.id, name).id for name in ("一課", "二課")]
        made: dict[str, object] = {"teams": teams}
        for name, flags in (("auditor", {"is_auditor": True}), ("admin", {}), ("member", {})):
            user = directory.create_user(db, ROOT, email=f"{name}@example.go.jp", password=None, **flags)
            made[name] = api_keys.issue_key(db, ROOT.principal, user.id, "test", 30).secret
            if name != "auditor":
                role = TeamRole.ADMIN if name == "admin" else TeamRole.MEMBER
                directory.set_membership(db, ROOT, teams[0], user.id, role)
        return made


def seed(database: Database, settings: Settings, teams: list[int]) -> None:
    keys.bind(database.engine, settings)
    with database.engine.begin() as connection:
        chain.append(connection, [record(i, team_id=teams[i % 2]) for i in range(12)])


def auth(secret: object) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def test_filters_and_scoping(client: TestClient, database: Database, settings: Settings) -> None:
    world = people(database)
    teams = world["teams"]
    assert isinstance(teams, list)
    seed(database, settings, teams)
    everything = client.get(f"/api/v1/audit?limit=500&{CALLS}", headers=auth(world["auditor"])).json()
    assert len(everything) == 12 and [r["id"] for r in everything] == sorted(
        (r["id"] for r in everything), reverse=True
    )
    own = client.get(f"/api/v1/audit?{CALLS}", headers=auth(world["admin"])).json()
    assert {r["team_id"] for r in own} == {teams[0]} and len(own) == 6
    assert client.get("/api/v1/audit", headers=auth(world["member"])).status_code == 403

    def count(query: str) -> int:
        response = client.get(f"/api/v1/audit?{query}&{CALLS}", headers=auth(world["auditor"]))
        assert response.status_code == 200, response.text
        return len(response.json())

    expected = {
        "classification=2": sum(1 for i in range(12) if 1 + i % 3 == 2),
        "outcome=refused": sum(1 for i in range(12) if i % 4 == 0),
        "model=llm-jp-4": sum(1 for i in range(12) if i % 2),
        "app=要約": sum(1 for i in range(12) if i % 2 == 0),
        "user_id=2": sum(1 for i in range(12) if 1 + i % 3 == 2),
        f"team_id={teams[1]}": 6,
        "since=2026-04-01T00:05:00Z&until=2026-04-01T00:08:00Z": 3,
        "classification=2&outcome=ok&app=portal": sum(1 for i in range(12) if 1 + i % 3 == 2 and i % 4 and i % 2),
    }
    assert {q: count(q) for q in expected} == expected
    bad = client.get("/api/v1/audit?classification=4", headers=auth(world["auditor"]))
    assert bad.status_code == 400 and bad.json()["error"]["detail"]["field"] == "classification"


def test_pages_follow_before_id(client: TestClient, database: Database, settings: Settings) -> None:
    world = people(database)
    seed(database, settings, world["teams"])  # type: ignore[arg-type]
    first = client.get("/api/v1/audit?limit=5", headers=auth(world["auditor"])).json()
    second = client.get(f"/api/v1/audit?limit=5&before_id={first[-1]['id']}", headers=auth(world["auditor"])).json()
    assert len(second) == 5 and second[0]["id"] == first[-1]["id"] - 1


def test_exports_stream_every_matching_record(client: TestClient, database: Database, settings: Settings) -> None:
    world = people(database)
    teams = world["teams"]
    seed(database, settings, teams)  # type: ignore[arg-type]
    jsonl = client.get(f"/api/v1/audit/export?format=jsonl&{CALLS}", headers=auth(world["auditor"]))
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["request_id"] for r in lines] == [f"req-{i}" for i in range(12)]
    assert lines[3]["cost_jpy"] == "0.037037" and lines[3]["hash"]
    scoped = client.get(f"/api/v1/audit/export?format=csv&{CALLS}", headers=auth(world["admin"]))
    assert "attachment" in scoped.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(scoped.text.lstrip("\ufeff"))))
    assert {int(r["team_id"]) for r in rows} == {teams[0]} and len(rows) == 6  # type: ignore[index]
    assert client.get("/api/v1/audit/export", headers=auth(world["member"])).status_code == 403


def test_verify_through_the_api(client: TestClient, database: Database, settings: Settings) -> None:
    world = people(database)
    seed(database, settings, world["teams"])  # type: ignore[arg-type]
    assert client.get("/api/v1/audit/verify", headers=auth(world["auditor"])).json()["ok"] is True
    with database.engine.begin() as connection:
        victim = connection.execute(sa.select(sa.func.min(chain.AUDIT.c.id))).scalar_one() + 4
        connection.execute(sa.update(chain.AUDIT).where(chain.AUDIT.c.id == victim).values(model="other"))
    result = client.get("/api/v1/audit/verify", headers=auth(world["auditor"])).json()
    assert (result["ok"], result["record_id"], result["problem_code"]) == (False, victim, "altered")
    assert client.get("/api/v1/audit/verify", headers=auth(world["admin"])).status_code == 403
