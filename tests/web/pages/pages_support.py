"""Helpers for page tests: the CSRF token of a rendered form, logging in, the test directory."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from httpx import Response

from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope

PASSWORD = "Kasumigaseki-2025"
OPERATOR = AccessScope(Principal(user_id=0, email="op@localhost", display_name="op", is_system_admin=True))


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def post_form(client: TestClient, page: str, action: str, data: dict[str, str], **kwargs: object) -> Response:
    """Submit a form the way a browser does: read the CSRF token from the page that shows it."""
    token = csrf_from(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@dataclass
class Directory:
    """Two teams in one organisation: each with an admin and a member, plus a system admin."""

    team_a: int
    team_b: int
    ids: dict[str, int]
