"""Security events in the hash chain: refused passwords and API keys, administrators' changes —
who, what, from where, outcome — written by the services, so the API, the pages and the CLI agree."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from hiraga.audit import events
from hiraga.audit.chain import AUDIT
from hiraga.audit.keys import AuditKeys
from hiraga.audit.verify import verify_chain
from hiraga.cli.main import cli
from hiraga.errors import Conflict
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import AliasMember, EndpointCreate, EndpointUpdate
from hiraga.gateway.wiring import registry_rules
from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import LoginFailure, TeamRole
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage import limits
from hiraga.usage.limits import LimitSpec

PASSWORD = "Kasumigaseki-2025"
SOURCES = (events.SOURCE, "login", "api_key")
ADMIN = Principal(
    user_id=999, email="admin@example.go.jp", display_name="admin", is_system_admin=True, client_address="192.0.2.8"
)


def security_records(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        rows = connection.execute(select(AUDIT).where(AUDIT.c.source.in_(SOURCES)).order_by(AUDIT.c.id))
        return [dict(r._mapping) for r in rows]


def chain_verifies(database: Database, keys: AuditKeys) -> bool:
    with database.engine.connect() as connection:
        return verify_chain(connection, keys).ok


def make_user(database: Database, email: str = "amy@example.go.jp") -> int:
    with database.session() as db:
        return directory.create_user(db, AccessScope(ADMIN), email=email, password=PASSWORD).id


def log_in(client: TestClient, email: str, password: str) -> int:
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/login").text)
    assert token
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=data, follow_redirects=False).status_code


def test_wrong_passwords_stay_in_the_chain_after_the_next_good_login(
    client: TestClient, database: Database, audit_keys: AuditKeys, settings: Settings
) -> None:
    user_id = make_user(database)
    assert log_in(client, "amy@example.go.jp", "wrong-password-1") == 401
    assert log_in(client, "nobody@example.go.jp", "wrong-password-1") == 401
    assert log_in(client, "amy@example.go.jp", PASSWORD) == 303
    with database.session() as db:
        assert db.scalars(select(LoginFailure).where(LoginFailure.subject.like("email:amy%"))).all() == []
    refused = [r for r in security_records(database) if r["action"] == events.LOGIN_REFUSED]
    assert [(r["actor_email"], r["actor_user_id"], json.loads(r["detail"])["reason"]) for r in refused] == [
        ("amy@example.go.jp", user_id, "wrong_password"),
        ("nobody@example.go.jp", None, "unknown_account"),
    ]
    assert {(r["outcome"], r["error_code"], r["client_address"]) for r in refused} == {
        ("refused", "login_failed", "testclient")
    }
    assert chain_verifies(database, audit_keys)


def test_a_locked_out_attempt_is_recorded_too(client: TestClient, database: Database, settings: Settings) -> None:
    make_user(database)
    for _ in range(settings.login_max_failures):
        log_in(client, "amy@example.go.jp", "wrong-password-1")
    assert log_in(client, "amy@example.go.jp", PASSWORD) == 429
    last = security_records(database)[-1]
    assert (last["action"], last["error_code"], json.loads(last["detail"])) == (
        events.LOGIN_REFUSED,
        "login_locked",
        {"reason": "locked"},
    )


def test_refused_api_keys_are_recorded_with_the_owner_when_known(
    client: TestClient, database: Database, audit_keys: AuditKeys
) -> None:
    user_id = make_user(database)
    with database.session() as db:
        issued = api_keys.issue_key(db, ADMIN, user_id, "main", 30)
        api_keys.revoke_key(db, ADMIN, user_id, issued.row.id)
    bogus = {"authorization": "Bearer hiraga_sk_not-a-real-key"}
    assert client.get("/api/v1/me", headers=bogus).status_code == 401
    revoked = {"authorization": f"Bearer {issued.secret}"}
    assert client.post("/v1/chat/completions", json={}, headers=revoked).status_code == 401  # the /v1 path
    refused = [r for r in security_records(database) if r["action"] == events.API_KEY_REFUSED]
    assert [(r["actor_user_id"], r["api_key_id"], json.loads(r["detail"])["reason"]) for r in refused] == [
        (None, None, "unknown"),
        (user_id, issued.row.id, "revoked"),
    ]
    assert {(r["outcome"], r["error_code"], r["client_address"]) for r in refused} == {
        ("refused", "invalid_api_key", "testclient")
    }
    assert all(issued.secret not in (r["detail"] or "") + (r["model"] or "") for r in refused)
    assert chain_verifies(database, audit_keys)


def test_every_administrative_change_is_recorded_by_its_service(
    database: Database, audit_keys: AuditKeys, settings: Settings
) -> None:
    scope = AccessScope(ADMIN)
    with database.session() as db:
        org = directory.create_organisation(db, scope, "組織")
        team = directory.create_team(db, scope, org.id, "企画課")
        user = directory.create_user(db, scope, email="bob@example.go.jp", password=None)
        directory.set_platform_roles(db, scope, user.id, is_system_admin=True)
        directory.set_platform_roles(db, scope, user.id, is_active=False)
        directory.set_membership(db, scope, team.id, user.id, TeamRole.ADMIN)
        directory.remove_membership(db, scope, team.id, user.id)
        key = api_keys.issue_key(db, ADMIN, user.id, "batch", 30)
        api_keys.revoke_key(db, ADMIN, user.id, key.row.id)
        spec = LimitSpec(LimitScope.TEAM, team.id, LimitMetric.REQUESTS, LimitWindow.DAY, Decimal(100))
        limit = limits.create_limit(db, scope, spec)
        limits.change_limit(db, scope, limit.id, Decimal(200))
        limits.remove_limit(db, scope, limit.id)
        rules = registry_rules(settings)
        create = EndpointCreate(
            name="m1", base_url="http://127.0.0.1:9/v1", upstream_model="m", api_key=SecretStr("sk-secret")
        )
        registry.create_endpoint(db, scope, create, rules)
        registry.update_endpoint(db, scope, "m1", EndpointUpdate(description="新しい説明"), rules)
        registry.set_alias(db, scope, "fast", [AliasMember(endpoint="m1", priority=0)])
        registry.delete_alias(db, scope, "fast")
        registry.delete_endpoint(db, scope, "m1")
    records = security_records(database)
    assert [r["action"] for r in records] == [
        events.USER_CREATED,
        events.USER_ROLES_CHANGED,
        events.USER_ROLES_CHANGED,
        events.TEAM_ROLE_SET,
        events.TEAM_MEMBER_REMOVED,
        events.API_KEY_CREATED,
        events.API_KEY_REVOKED,
        events.LIMIT_CREATED,
        events.LIMIT_CHANGED,
        events.LIMIT_REMOVED,
        events.ENDPOINT_CREATED,
        events.ENDPOINT_CHANGED,
        events.ALIAS_SET,
        events.ALIAS_REMOVED,
        events.ENDPOINT_REMOVED,
    ]
    assert {(r["actor_email"], r["via"], r["client_address"], r["outcome"]) for r in records} == {
        ("admin@example.go.jp", "session", "192.0.2.8", "ok")
    }
    details = [json.loads(r["detail"]) for r in records]
    assert details[1]["is_system_admin"] == {"from": False, "to": True}
    assert details[2]["is_active"] == {"from": True, "to": False}
    assert details[8]["amount"] == "200" and details[8]["previous_amount"] == "100"
    assert "sk-secret" not in json.dumps(details) and details[10]["api_key_set"] is True
    assert records[3]["team_id"] == records[7]["team_id"]
    assert chain_verifies(database, audit_keys)


def test_a_refused_change_leaves_no_record(database: Database, audit_keys: AuditKeys) -> None:
    make_user(database, "dup@example.go.jp")
    before = len(security_records(database))
    with pytest.raises(Conflict):  # the change and its record roll back together
        make_user(database, "dup@example.go.jp")
    assert len(security_records(database)) == before


def test_pages_and_the_cli_record_the_same_way(
    client: TestClient, database: Database, settings: Settings, audit_keys: AuditKeys
) -> None:
    with database.session() as db:
        scope = AccessScope(ADMIN)
        directory.create_user(db, scope, email="root@example.go.jp", password=PASSWORD, is_system_admin=True)
    assert log_in(client, "root@example.go.jp", PASSWORD) == 303
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/account").text)
    assert token
    client.post("/account/keys", data={"name": "画面", "csrf_token": token.group(1)})
    env = {"HIRAGA_DATABASE_URL": settings.effective_database_url, "HIRAGA_SECRET_KEY": settings.secret()}
    result = CliRunner().invoke(
        cli,
        ["admin", "create-user", "cli@example.go.jp", "--password-stdin", "--data-dir", str(settings.data_dir)],
        input="Shiyakusho-2026!\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    page, shell = security_records(database)[-2:]
    assert (page["action"], page["via"], page["client_address"], page["actor_email"]) == (
        events.API_KEY_CREATED,
        "session",
        "testclient",
        "root@example.go.jp",
    )
    assert (shell["action"], shell["via"], shell["client_address"], shell["model"]) == (
        events.USER_CREATED,
        "cli",
        "local",
        "cli@example.go.jp",
    )
    assert chain_verifies(database, audit_keys)
