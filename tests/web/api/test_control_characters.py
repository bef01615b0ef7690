"""Names holding NUL or another control character are refused with the error shape (400,
``invalid_name``, the field named) on every kind of name, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hiraga.errors import InvalidInput
from hiraga.names import check_characters

from .world import World

Body = Callable[[World, str], dict[str, Any]]
PASSWORD = "kakunin-Pass-2026-long"

NAMED: list[tuple[str, str, Body]] = [
    ("/api/v1/organisations", "name", lambda w, n: {"name": n}),
    ("/api/v1/teams", "name", lambda w, n: {"organisation_id": w.organisation["own"], "name": n}),
    (
        "/api/v1/users",
        "display_name",
        lambda w, n: {"email": "nul@a.example.jp", "display_name": n, "password": PASSWORD},
    ),
    ("/api/v1/me/keys", "name", lambda w, n: {"name": n}),
    ("/api/v1/bots", "name", lambda w, n: {"team_id": w.team["own"], "name": n, "system_prompt": "丁寧に"}),
    ("/api/v1/kb", "name", lambda w, n: {"team_id": w.team["own"], "name": n, "classification": 1}),
    (
        "/api/v1/builder-apps",
        "name",
        lambda w, n: {
            "name": n,
            "template": "{{件名}}の案内文",
            "owner_team_id": w.team["own"],
            "team_ids": [w.team["own"]],
        },
    ),
]


@pytest.mark.parametrize("character", ["\x00", "\x1b"])
@pytest.mark.parametrize(("path", "field", "body"), NAMED, ids=[p for p, _, _ in NAMED])
def test_control_characters_in_names_are_refused(
    client: TestClient, world: World, path: str, field: str, body: Body, character: str
) -> None:
    headers = world.headers("system_admin")
    response = client.post(path, json=body(world, f"企画{character}課"), headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_name" and error["detail"]["field"] == field and "制御文字" in error["message"]
    assert client.post(path, json=body(world, "企画\t課"), headers=headers).status_code == 201  # whitespace is fine


def test_the_rule_keeps_ordinary_names_and_whitespace() -> None:
    assert check_characters("企画課 第1係\n") == "企画課 第1係\n"
    with pytest.raises(InvalidInput):
        check_characters("a\x00b", "display_name")
