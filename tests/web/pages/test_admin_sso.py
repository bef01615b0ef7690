"""The single sign-on admin page: system admins only; providers (secret encrypted, never shown), mapping
rules and SCIM tokens (shown once) through forms, with bad input shown in the page and nothing kept."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pages_support import Directory, post_form
from sqlalchemy import select

from hiraga.identity.sso.scim import tokens as scim_tokens
from hiraga.store.database import Database
from hiraga.store.tables import SsoMappingRule, SsoProvider

PAGE = "/admin/sso"
HTML = {"accept": "text/html"}
PROVIDER = {
    "slug": "entra",
    "display_name": "Entra ID",
    "issuer": "https://login.example.com/tenant-1/v2.0",
    "client_id": "app-1",
    "client_secret": "very-secret-value",
    "allow_unverified_email": "1",
}


def test_only_system_admins_reach_the_page(as_user: Any) -> None:
    client = as_user("alice")  # a team admin
    assert client.get(PAGE, headers=HTML).status_code == 403
    assert post_form(client, "/account", PAGE + "/scim-tokens", {"name": "x"}).status_code == 403


def test_provider_is_registered_with_its_secret_encrypted(as_user: Any, database: Database) -> None:
    client: TestClient = as_user("root")
    response = post_form(client, PAGE, PAGE + "/providers", PROVIDER)
    assert response.status_code == 303 and response.headers["location"] == PAGE + "?notice=provider_created"
    page = client.get(PAGE).text
    assert "/auth/sso/entra/callback</code>" in page and "very-secret-value" not in page
    with database.session() as db:
        row = db.scalar(select(SsoProvider))
        assert row is not None and not row.require_verified_email
        assert row.client_secret_enc and "very-secret-value" not in row.client_secret_enc
    disabled = post_form(client, PAGE, PAGE + "/providers/entra/enabled", {})
    assert disabled.status_code == 303
    with database.session() as db:
        assert db.scalar(select(SsoProvider.enabled)) is False


def test_bad_input_is_shown_in_the_page_and_keeps_nothing(as_user: Any, database: Database) -> None:
    client: TestClient = as_user("root")
    response = post_form(client, PAGE, PAGE + "/providers", {**PROVIDER, "slug": "Not A Slug"})
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text  # on the slug field
    rule = post_form(client, PAGE, PAGE + "/rules", {"claim": "groups", "value": "g-1", "grant": "member"})
    assert rule.status_code == 400 and "チーム" in rule.text
    with database.session() as db:
        assert db.scalar(select(SsoProvider)) is None and db.scalar(select(SsoMappingRule)) is None


def test_rules_are_added_and_removed(as_user: Any, database: Database, people: Directory) -> None:
    client: TestClient = as_user("root")
    data = {"claim": "groups", "value": "g-planning", "grant": "admin", "team_id": str(people.team_a)}
    assert post_form(client, PAGE, PAGE + "/rules", data).status_code == 303
    page = client.get(PAGE).text
    assert "g-planning" in page and "企画課" in page
    with database.session() as db:
        rule_id = db.scalar(select(SsoMappingRule.id))
    assert post_form(client, PAGE, f"{PAGE}/rules/{rule_id}/remove", {}).status_code == 303
    assert "g-planning" not in client.get(PAGE).text


def test_scim_token_is_shown_once_and_can_be_revoked(as_user: Any, database: Database) -> None:
    client: TestClient = as_user("root")
    response = post_form(client, PAGE, PAGE + "/scim-tokens", {"name": "Entra provisioning"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    secret = response.text.split('data-testid="new-scim-token" type="text" readonly value="', 1)[1].split('"')[0]
    assert secret.startswith("hs-")
    assert secret not in client.get(PAGE).text
    with database.session() as db:
        token = scim_tokens.find_active(db, secret)
        assert token is not None
        token_id = token.id
    assert post_form(client, PAGE, f"{PAGE}/scim-tokens/{token_id}/revoke", {}).status_code == 303
    with database.session() as db:
        assert scim_tokens.find_active(db, secret) is None
