from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pages_support import Directory, csrf_from, post_form
from sqlalchemy import func, select

from hiraga.store.database import Database
from hiraga.store.tables import Membership, Organisation, TeamRole, User
from hiraga.web import csrf

HTML = {"accept": "text/html"}


def memberships(database: Database, team_id: int) -> dict[int, TeamRole]:
    with database.session() as db:
        rows = db.scalars(select(Membership).where(Membership.team_id == team_id))
        return {m.user_id: m.role for m in rows}


def test_system_admin_sees_everything_and_creates_organisations(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("root")
    page = client.get("/admin").text
    for text in ("デジタル庁", "企画課", "総務課", "carol@example.go.jp", "ユーザーを作成"):
        assert text in page
    created = post_form(client, "/admin", "/admin/organisations", {"name": "さくら市"})
    assert created.status_code == 303 and created.headers["location"] == "/admin?notice=organisation_created"
    duplicate = post_form(client, "/admin", "/admin/organisations", {"name": "さくら市"})
    assert duplicate.status_code == 409
    assert 'role="alert"' in duplicate.text and "同じ名前の組織が既にあります。" in duplicate.text
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == 2


def test_system_admin_sets_platform_roles_but_not_on_themselves(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("root")
    carol = people.ids["carol"]
    response = post_form(client, "/admin", f"/admin/users/{carol}/roles", {"is_auditor": "1", "is_active": "1"})
    assert response.status_code == 303
    own = post_form(client, "/admin", f"/admin/users/{people.ids['root']}/roles", {"is_active": "1"})
    assert own.status_code == 400 and 'role="alert"' in own.text
    with database.session() as db:
        assert db.get(User, carol).is_auditor  # type: ignore[union-attr]
        assert db.get(User, people.ids["root"]).is_system_admin  # type: ignore[union-attr]


def test_members_without_admin_rights_get_no_admin_pages(
    as_user: Callable[[str], TestClient], people: Directory
) -> None:
    client = as_user("amy")
    assert client.get("/admin", headers=HTML).status_code == 403
    assert client.get(f"/admin/teams/{people.team_a}", headers=HTML).status_code == 403
    assert 'href="/admin"' not in client.get("/").text


def test_team_admin_sees_and_manages_only_their_team(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("alice")
    page = client.get("/admin").text
    assert "企画課" in page and "総務課" not in page
    assert "carol@example.go.jp" not in page and "ユーザーを作成" not in page
    team_page = client.get(f"/admin/teams/{people.team_a}").text
    assert "amy@example.go.jp" in team_page and "bea@example.go.jp" not in team_page
    assert client.get(f"/admin/teams/{people.team_b}", headers=HTML).status_code == 404
    before = memberships(database, people.team_b)
    token = csrf_from(team_page)
    for action, data in [
        (f"/admin/teams/{people.team_b}/members", {"email": "carol@example.go.jp", "role": "admin"}),
        (f"/admin/teams/{people.team_b}/members/{people.ids['bea']}", {"role": "admin"}),
        (f"/admin/teams/{people.team_b}/members/{people.ids['bea']}/remove", {}),
    ]:
        response = client.post(action, data={**data, "csrf_token": token}, headers=HTML)
        assert response.status_code == 404, action
    assert memberships(database, people.team_b) == before


def test_team_admin_creates_changes_and_removes_members(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("alice")
    page = f"/admin/teams/{people.team_a}"
    created = post_form(
        client,
        page,
        f"{page}/users",
        {"email": "dan@example.go.jp", "display_name": "dan", "password": "Shin-nyu-2025", "role": "member"},
    )
    assert created.status_code == 303, created.text
    with database.session() as db:
        dan = db.scalar(select(User.id).where(User.email == "dan@example.go.jp"))
    assert dan is not None and memberships(database, people.team_a)[dan] is TeamRole.MEMBER
    promoted = post_form(client, page, f"{page}/members/{dan}", {"role": "admin"}, headers={"hx-request": "true"})
    assert promoted.status_code == 200 and "<html" not in promoted.text and "役割を変更しました" in promoted.text
    assert memberships(database, people.team_a)[dan] is TeamRole.ADMIN
    removed = post_form(client, page, f"{page}/members/{people.ids['amy']}/remove", {})
    assert removed.status_code == 303
    assert people.ids["amy"] not in memberships(database, people.team_a)
    weak = post_form(client, page, f"{page}/users", {"email": "eve@example.go.jp", "password": "short"})
    assert weak.status_code == 400 and 'role="alert"' in weak.text and 'aria-invalid="true"' in weak.text
    with database.session() as db:
        assert db.scalar(select(User.id).where(User.email == "eve@example.go.jp")) is None


def test_team_admin_cannot_pull_in_strangers_and_cannot_tell_who_exists(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("alice")
    page = f"/admin/teams/{people.team_a}"
    answers = []
    for email in ("carol@example.go.jp", "nobody@example.go.jp"):
        response = post_form(client, page, f"{page}/members", {"email": email, "role": "member"})
        assert response.status_code == 404 and 'role="alert"' in response.text
        answers.append(response.text.split('role="alert"', 1)[1].split("</div>", 1)[0])
    assert answers[0] == answers[1]
    assert people.ids["carol"] not in memberships(database, people.team_a)
    bad_role = post_form(client, page, f"{page}/members", {"email": "amy@example.go.jp", "role": "owner"})
    assert bad_role.status_code == 400
    assert memberships(database, people.team_a)[people.ids["amy"]] is TeamRole.MEMBER


def test_system_admin_adds_any_user_to_a_team(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("root")
    page = f"/admin/teams/{people.team_b}"
    added = post_form(client, page, f"{page}/members", {"email": "carol@example.go.jp", "role": "admin"})
    assert added.status_code == 303
    assert memberships(database, people.team_b)[people.ids["carol"]] is TeamRole.ADMIN


def test_admin_page_in_english(as_user: Callable[[str], TestClient], people: Directory) -> None:
    page = as_user("root").get("/admin?lang=en").text
    assert '<html lang="en">' in page
    assert "Administration" in page and "Create user" in page and "管理" not in page


def _admin_form_routes(app: FastAPI) -> list[str]:
    """The admin pages' POST routes a plain member may never use (those under a team's own page are
    the team admin's and are scoped by the team in the path)."""
    return sorted(
        route.path
        for route in iter_route_contexts(app.routes)
        if route.path
        and route.path.startswith("/admin/")
        and not route.path.startswith("/admin/teams/")
        and "POST" in (route.methods or set())
    )


def test_a_member_is_refused_on_admin_forms_before_the_form_is_validated(app: FastAPI, as_user) -> None:
    client = as_user("amy")  # a member of one team, admin of none
    token = csrf_from(client.get("/account").text)
    paths = _admin_form_routes(app)
    assert {"/admin/organisations", "/admin/teams", "/admin/models"} <= set(paths)
    refused = {}
    for template in paths:
        path = re.sub(r"\{[a-z_]+(:int)?\}", "1", template)  # every id in the path: 1
        response = client.post(path, data={"organisation_id": "abc", "context_window": "x", csrf.FIELD: token})
        refused[path] = (response.status_code, "この操作を行う権限" in response.text or "管理者のみ" in response.text)
    assert refused == dict.fromkeys(refused, (403, True))
