from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from pages_support import PASSWORD, csrf_from
from sqlalchemy import func, select

from hiraga.identity.setup import issue_setup_token
from hiraga.store.database import Database
from hiraga.store.tables import Membership, Organisation, Team, TeamRole, User


def setup_token(database: Database) -> str:
    with database.session() as db:
        token = issue_setup_token(db)
    assert token
    return token


def fill_setup(client: TestClient, token: str, **fields: str) -> Response:
    page = client.get(f"/setup?token={token}")
    assert page.status_code == 200
    data = {
        "token": token,
        "email": "admin@city.example.jp",
        "display_name": "情報政策課 管理者",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "organisation": "さくら市",
        "csrf_token": csrf_from(page.text),
        **fields,
    }
    return client.post("/setup", data=data, follow_redirects=False)


def test_setup_creates_the_first_admin_once_and_logs_them_in(client: TestClient, database: Database) -> None:
    token = setup_token(database)
    response = fill_setup(client, token)
    assert response.status_code == 303
    home = client.get(response.headers["location"])
    assert home.status_code == 200 and "セットアップが完了しました" in home.text
    assert client.get("/admin").status_code == 200  # a system admin
    with database.session() as db:
        user = db.scalar(select(User))
        assert user is not None and user.is_system_admin and user.email == "admin@city.example.jp"
        assert db.scalar(select(Organisation.name)) == "さくら市"
    again = client.get(f"/setup?token={token}", headers={"accept": "text/html"})
    assert again.status_code == 403
    assert "既に使用されています" in again.text
    fresh = TestClient(client.app)
    replay = fresh.post(
        "/setup",
        data={
            "token": token,
            "email": "x@example.jp",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_from(fresh.get("/login").text),
        },
    )
    assert replay.status_code == 403
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_wrong_token_gets_no_form(client: TestClient, database: Database) -> None:
    setup_token(database)
    response = client.get("/setup?token=not-the-token", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "<form" not in response.text.split("<main", 1)[1]


def test_a_weak_password_keeps_the_token_usable(client: TestClient, database: Database) -> None:
    token = setup_token(database)
    response = fill_setup(client, token, password="short", password_confirm="short")
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    mismatch = fill_setup(client, token, password_confirm=PASSWORD + "x")
    assert mismatch.status_code == 400
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0
        assert db.scalar(select(func.count()).select_from(Organisation)) == 0
    assert fill_setup(client, token).status_code == 303


def test_setup_creates_the_first_team_with_the_admin_as_its_team_admin(client: TestClient, database: Database) -> None:
    response = fill_setup(client, setup_token(database), team="情報政策課")
    assert response.status_code == 303 and response.headers["location"].startswith("/welcome")
    with database.session() as db:
        team = db.scalar(select(Team))
        assert team is not None and team.name == "情報政策課"
        membership = db.scalar(select(Membership))
        assert membership is not None and membership.team_id == team.id and membership.role == TeamRole.ADMIN
    home = client.get("/")
    assert "情報政策課" in home.text and "チーム管理者" in home.text


def test_a_team_without_an_organisation_is_refused_and_creates_nothing(client: TestClient, database: Database) -> None:
    token = setup_token(database)
    response = fill_setup(client, token, team="情報政策課", organisation="")
    assert response.status_code == 400 and "組織名" in response.text
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0
        assert db.scalar(select(func.count()).select_from(Team)) == 0
