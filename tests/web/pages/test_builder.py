"""Builder apps: a team admin writes a template, the form is generated, the app is visible to the
teams it is published to and to nobody else; broken templates are refused; export and import."""

from __future__ import annotations

import json
import re
from pathlib import Path

import portal_pages
import pytest
from fastapi.testclient import TestClient
from pages_support import Directory
from portal_pages import REPLY, STUB_MODEL, stub_settings, submit

from hiraga.settings import Settings

stub, stub_models = portal_pages.stub, portal_pages.stub_models
TEMPLATE = "{{件名}}について{{読み手:選択=住民|職員}}向けのお知らせを書いてください。\n補足: {{補足:長文}}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


def create(client: TestClient, team: int, template: str = TEMPLATE, name: str = "お知らせ作成") -> object:
    return submit(
        client,
        "/builder",
        "/builder",
        {"name": name, "template": template, "owner_team_id": str(team), "team_ids": str(team), "classification": "1"},
    )


def app_id(response: object) -> int:
    match = re.search(r"/builder/(\d+)", response.headers["location"])  # type: ignore[attr-defined]
    assert match
    return int(match.group(1))


def test_a_team_admin_publishes_to_their_team_only(as_user, people: Directory, client, stub_models, stub) -> None:
    made = create(as_user("alice"), people.team_a)
    assert made.status_code == 303
    new_id = app_id(made)
    client.cookies.clear()
    member = as_user("amy")
    page = member.get(f"/builder/{new_id}").text
    assert '<label for="in-field_1">件名' in page and '<option value="住民"' in page and "<textarea" in page
    ran = submit(
        member,
        f"/builder/{new_id}",
        f"/builder/{new_id}",
        {"field_1": "粗大ごみ", "field_2": "住民", "field_3": "申込は電話で", "model": STUB_MODEL},
    )
    assert ran.status_code == 200 and REPLY in ran.text
    prompt = stub.chat_requests()[-1].body["messages"][-1]["content"]
    assert prompt == "粗大ごみについて住民向けのお知らせを書いてください。\n補足: 申込は電話で"
    assert f"/builder/{new_id}" in member.get("/catalogue").text
    client.cookies.clear()
    outsider = as_user("bea")
    assert outsider.get(f"/builder/{new_id}").status_code == 404
    assert f"/builder/{new_id}" not in outsider.get("/catalogue").text
    assert "お知らせ作成" not in outsider.get("/builder").text


def test_members_cannot_create_and_admins_cannot_publish_elsewhere(as_user, people: Directory) -> None:
    assert create(as_user("amy"), people.team_a).status_code == 403
    assert create(as_user("alice"), people.team_b).status_code == 404


def test_broken_templates_are_refused_with_the_line(as_user, people: Directory) -> None:
    refused = create(as_user("alice"), people.team_a, template="件名\n{{読み手:選択=住民}}")
    assert refused.status_code == 400
    assert "テンプレートの 2 行目" in refused.text and 'aria-invalid="true"' in refused.text
    assert "件名\n{{読み手:選択=住民}}" in refused.text  # what was typed comes back


def test_export_and_import_into_another_team(as_user, people: Directory, client) -> None:
    admin = as_user("alice")
    new_id = app_id(create(admin, people.team_a))
    exported = admin.get(f"/builder/{new_id}/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data == {
        "format": "hiraga.builder-app/1",
        "name": "お知らせ作成",
        "description": "",
        "template": TEMPLATE,
        "classification": 1,
        "use_tools": False,  # the opt-in to MCP tools travels with the app (unticked on the form)
    }
    client.cookies.clear()
    other = as_user("bob")
    files = [("file", ("app.json", json.dumps(data, ensure_ascii=False).encode()))]
    fields = {"owner_team_id": str(people.team_b), "team_ids": str(people.team_b)}
    imported = submit(other, "/builder", "/builder/import", fields, files=files)
    assert imported.status_code == 303
    client.cookies.clear()
    assert "お知らせ作成" in as_user("bea").get("/builder").text
    garbage = submit(as_user("bob"), "/builder", "/builder/import", fields, files=[("file", ("x.json", b"{nope"))])
    assert garbage.status_code == 400 and "JSON" in garbage.text
