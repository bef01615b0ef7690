"""``kill -9`` in the middle of mixed writes, on SQLite and on PostgreSQL: every write the client
saw acknowledged is there after a restart, every acknowledged user creation has its audit record,
and ``hiraga audit verify`` passes on what the crash left."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from cli.processes import cli, create_organisation, start_serve, write_until_killed
from postgres_support import fresh_databases

pytestmark = pytest.mark.slow

SECRET = "crash-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
ADMIN = "admin@crash.example.go.jp"
PASSWORD = "Kasumigaseki-2026!"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {"HIRAGA_DATABASE_URL": f"sqlite:///{tmp_path / 'hiraga.db'}", "HIRAGA_SECRET_KEY": SECRET}
        return
    with fresh_databases("hiraga_crash") as (url,):
        yield {"HIRAGA_DATABASE_URL": url, "HIRAGA_SECRET_KEY": SECRET}


def create_user(client: httpx.Client, worker: int, n: int) -> str | None:
    email = f"staff-{worker}-{n}@crash.example.go.jp"
    response = client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    return email if response.status_code == 201 else None


def test_kill_9_during_mixed_writes_keeps_every_acknowledged_write(
    database_env: dict[str, str], tmp_path: Path
) -> None:
    env = database_env
    server = start_serve(tmp_path / "data", env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        cli(env, tmp_path, "admin", "create-user", ADMIN, "--password-stdin", "--system-admin", stdin=PASSWORD + "\n")
        key = {"authorization": "Bearer " + cli(env, tmp_path, "admin", "create-key", ADMIN).strip()}
        acknowledged = write_until_killed(server, key, (create_organisation, create_user) * 2)
    finally:
        server.stop()
    users = {a for a in acknowledged if "@" in a}
    organisations = acknowledged - users
    assert users and organisations

    restarted = start_serve(tmp_path / "data", env, tmp_path / "serve2.log")
    try:
        restarted.wait_ready()
        with httpx.Client(base_url=restarted.url, headers=key, timeout=30) as client:
            assert organisations <= {o["name"] for o in client.get("/api/v1/organisations").json()}
            assert users <= {u["email"] for u in client.get("/api/v1/users").json()}
    finally:
        restarted.stop()

    engine = sa.create_engine(env["HIRAGA_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            audited = connection.execute(
                sa.text("SELECT model FROM audit_records WHERE action = 'user_created'")
            ).scalars()
            assert users <= set(audited), "an acknowledged user creation has no audit record"
    finally:
        engine.dispose()
    verified = cli(env, tmp_path, "audit", "verify", "--no-seal")
    assert verified.startswith("OK"), verified
