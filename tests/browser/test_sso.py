"""Single sign-on in a real browser against a real ``hiraga serve`` and a real OpenID Connect provider
(oidc-provider-mock on a thread of this process): sign in through the provider's form and land in the
mapped team; log out (the provider's session too); move to another group at the provider, sign in again
and the team follows; deactivate by SCIM and the open page is logged out at once; all of it in the audit
log. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import test_first_run
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from test_apps import PASSWORD
from test_first_run import Server, start_server
from test_portal import axe_violations

from hiraga.audit import keys as audit_keys
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.identity.sso import providers
from hiraga.identity.sso.scim import tokens as scim_tokens
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, User
from oidc_provider import RunningProvider, running_provider

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))
EMAIL = "hanako@city.example.jp"
ADMIN = "admin@city.example.jp"


@pytest.fixture(scope="module")
def idp() -> Iterator[RunningProvider]:
    with running_provider() as provider:
        yield provider


def seed(database_url: str, data_dir: Path, issuer: str) -> str:
    """Two teams, the provider with a rule per group, and a SCIM token (returned)."""
    migrate.upgrade(database_url)
    settings = load_settings(data_dir=data_dir, database_url=database_url, allowed_upstream_hosts=["localhost"])
    database = Database(database_url)
    audit_keys.bind(database.engine, settings)  # the server's key
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "さくら市")
        for group, team in (("g-planning", "企画課"), ("g-general", "総務課")):
            team_id = directory.create_team(db, ROOT, org.id, team).id
            providers.add_rule(db, ROOT, claim="groups", value=group, grant="member", team_id=team_id)
        data = providers.ProviderInput("city", "さくら市 ID", issuer, "hiraga-web", "client-secret-1")
        providers.create_provider(db, ROOT, data, settings)
        token = scim_tokens.issue(db, ROOT, "IdP provisioning").secret
        directory.create_user(db, ROOT, email=ADMIN, password=PASSWORD, is_system_admin=True)
    database.dispose()
    return token


@pytest.fixture
def server(
    tmp_path: Path, database_url: str, idp: RunningProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Server, str]]:
    idp.app.reset()
    token = seed(database_url, tmp_path / "data", idp.issuer)
    monkeypatch.setenv("HIRAGA_ALLOWED_UPSTREAM_HOSTS", "localhost")
    for running in start_server(tmp_path, database_url):
        yield running, token


def sign_in_at_the_provider(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_role("link", name="さくら市 ID でサインイン").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()  # the provider's own form
    page.get_by_placeholder("sub").fill("hanako")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()


def teams_on_home(page: Page) -> list[str]:
    return [t.strip() for t in page.get_by_role("region", name="所属チーム").get_by_role("listitem").all_inner_texts()]


def test_sign_in_follow_the_groups_and_deactivate_by_scim(
    server: tuple[Server, str], idp: RunningProvider, browser: Browser, database_url: str
) -> None:
    running, scim_token = server
    claims = {"email": EMAIL, "email_verified": True, "name": "山田 花子", "groups": ["g-planning"]}
    idp.set_user("hanako", claims)
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in_at_the_provider(page, running.base_url)
    assert any("企画課" in t for t in teams_on_home(page))

    page.get_by_role("button", name="ログアウト").click()  # hiraga's session ends, then the provider's
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("status")).to_contain_text("ログアウトしました")

    idp.set_user("hanako", {**claims, "groups": ["g-general"]})  # moved to another group at the provider
    sign_in_at_the_provider(page, running.base_url)
    teams = teams_on_home(page)
    assert any("総務課" in t for t in teams) and not any("企画課" in t for t in teams)

    scim = httpx.Client(base_url=f"{running.base_url}/scim/v2", headers={"Authorization": f"Bearer {scim_token}"})
    found = scim.get("/Users", params={"filter": f'userName eq "{EMAIL}"'}).json()
    assert found["totalResults"] == 0  # signed up just in time, never provisioned: adopt it by SCIM
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": EMAIL, "emails": [{"value": EMAIL}]}
    user_id = scim.post("/Users", json=body).json()["id"]
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert scim.patch(f"/Users/{user_id}", json=patch).status_code == 204
    page.reload()
    expect(page.get_by_role("heading", name="ログイン", exact=True)).to_be_visible()  # the session ended at once
    page.close()

    actions = audit_actions(database_url, running.env["HIRAGA_DATA_DIR"])
    for action in ("sso_login", "logout", "sso_memberships_synced", "scim_user_created", "scim_user_deactivated"):
        assert action in actions, (action, actions)
    assert [a for a in actions if a == "sso_login"] == ["sso_login", "sso_login"]


def audit_actions(database_url: str, data_dir: str) -> list[str]:
    database = Database(database_url)
    try:
        with database.session() as db:
            user = db.scalar(select(User).where(User.email == EMAIL))
            assert user is not None and not user.is_active
            rows = db.scalars(select(AuditRecord).order_by(AuditRecord.id))
            return [
                r.action
                for r in rows
                if r.actor_email == EMAIL or EMAIL in json.dumps(r.detail or "") or r.model == EMAIL
            ]
    finally:
        database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sign_in_error_and_admin_pages_are_accessible(server: tuple[Server, str], browser: Browser) -> None:
    running, _ = server
    page = browser.new_context(locale="ja-JP", bypass_csp=True).new_page()  # CSP would block axe
    problems: dict[str, list[str]] = {}
    page.goto(f"{running.base_url}/login")
    problems["/login"] = axe_violations(page)
    page.goto(f"{running.base_url}/auth/sso/city/callback?state=forged&code=x")
    expect(page.get_by_role("alert")).to_contain_text("サインインの要求が無効")
    problems["callback error"] = axe_violations(page)
    page.goto(f"{running.base_url}/login")
    page.get_by_role("textbox", name="メールアドレス", exact=True).fill(ADMIN)
    page.get_by_role("textbox", name="パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.goto(f"{running.base_url}/admin")
    page.get_by_role("link", name="シングルサインオン").click()
    expect(page.get_by_role("heading", name="シングルサインオン", level=1)).to_be_visible()
    problems["/admin/sso"] = axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
