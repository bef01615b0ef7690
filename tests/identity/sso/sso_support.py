"""Helpers for single sign-on tests: signing in through the running provider with the test client."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, Membership, User
from oidc_provider import RunningProvider

OPERATOR = AccessScope(Principal(user_id=0, email="op@localhost", display_name="op", is_system_admin=True))


@dataclass(frozen=True)
class Org:
    planning: int
    general: int


def person(sub: str, groups: list[str], *, verified: bool = True, **extra: Any) -> dict[str, Any]:
    return {"email": f"{sub}@city.example.jp", "email_verified": verified, "name": sub, "groups": groups, **extra}


def start(client: TestClient, slug: str = "city", next_path: str = "/") -> str:
    """hiraga's redirect to the provider (the authorisation URL)."""
    response = client.get(f"/auth/sso/{slug}/login", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def back(client: TestClient, callback_url: str) -> Response:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def sign_in(client: TestClient, idp: RunningProvider, sub: str, slug: str = "city") -> Response:
    return back(client, idp.authorize(start(client, slug), sub))


def memberships(database: Database, email: str) -> dict[int, str]:
    with database.session() as db:
        user = db.scalar(select(User).where(User.email == email))
        assert user is not None
        rows = db.scalars(select(Membership).where(Membership.user_id == user.id))
        return {m.team_id: str(m.role) for m in rows}


def audit(database: Database, action: str) -> list[dict[str, Any]]:
    with database.session() as db:
        rows = db.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id))
        return [
            {"actor": r.actor_email, "outcome": r.outcome, "code": r.error_code, **json.loads(r.detail or "{}")}
            for r in rows
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
