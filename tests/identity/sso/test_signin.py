"""OpenID Connect sign-in against a real provider: just-in-time provisioning into the mapped teams,
re-sync at every sign-in, and every way a sign-in must fail (with nothing created and an audit record)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sso_support import OPERATOR, Org, audit, back, memberships, person, sign_in, start

from hiraga.identity.sso import providers
from hiraga.store.database import Database
from hiraga.store.tables import SsoIdentity, SsoLoginState, User
from oidc_provider import RunningProvider, new_key, query_of

EMAIL = "hanako@city.example.jp"


def user_count(database: Database) -> int:
    with database.session() as db:
        return int(db.scalar(select(func.count(User.id))) or 0)


def test_first_sign_in_creates_the_user_in_the_mapped_team_and_comes_back(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    url = start(client, next_path="/account")
    query = query_of(url)
    assert url.startswith(f"{idp.issuer}/oauth2/authorize")
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] and query["nonce"]
    assert query["redirect_uri"] == "http://testserver/auth/sso/city/callback"
    response = back(client, idp.authorize(url, "hanako"))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account"
    assert "hiraga_session=" in response.headers["set-cookie"]
    assert EMAIL in client.get("/account").text
    assert memberships(database, EMAIL) == {org.planning: "member"}
    [record] = audit(database, "sso_login")
    assert record["actor"] == EMAIL and record["user_created"] is True and record["subject"] == "hanako"
    assert record["teams_added"] == [{"team_id": org.planning, "role": "member"}]
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(SsoLoginState)) == 0  # the state is used up


def test_memberships_follow_the_groups_at_every_sign_in(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画", "audit"]))
    assert sign_in(client, idp, "hanako").status_code == 303
    assert memberships(database, EMAIL) == {org.planning: "member"}
    idp.set_user("hanako", person("hanako", ["総務", "企画-admin"]))
    assert sign_in(client, idp, "hanako").status_code == 303
    assert memberships(database, EMAIL) == {org.planning: "admin", org.general: "member"}
    idp.set_user("hanako", person("hanako", ["総務"]))  # removed from 企画 at the provider
    assert sign_in(client, idp, "hanako").status_code == 303
    assert memberships(database, EMAIL) == {org.general: "member"}
    last = audit(database, "sso_login")[-1]
    assert last["teams_removed"] == [org.planning] and last["user_created"] is False
    synced = audit(database, "sso_memberships_synced")
    assert [r.get("platform_roles") for r in synced] == [{"is_auditor": True}, {"is_auditor": False}, None]
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(SsoIdentity)) == 1


def test_an_existing_user_is_linked_by_verified_email(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("taro", person("taro", ["総務"]))
    assert sign_in(client, idp, "taro").status_code == 303
    idp.set_user("taro-2", {**person("taro", ["総務"]), "email": "taro@city.example.jp"})
    assert sign_in(client, idp, "taro-2").status_code == 303  # a second subject, same verified address
    assert user_count(database) == 1


def expect_refusal(client: TestClient, database: Database, response: Any, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert "サインインできませんでした" in response.text and f"sso_{reason}" in response.text
    assert "hiraga_session=" not in response.headers.get("set-cookie", "")
    assert audit(database, "sso_login_refused")[-1]["reason"] == reason
    assert user_count(database) == 0
    assert client.get("/", follow_redirects=False).status_code == 303  # still anonymous


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda c: {**c, "aud": "someone-else"}, "aud"),
        (lambda c: {**c, "iss": "https://evil.example"}, "iss"),
        (lambda c: {**c, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "exp"),
        (lambda c: {**c, "nonce": "not-the-one-we-sent"}, "nonce"),
        (lambda c: {**c, "sub": "someone-else"}, "userinfo_sub"),
    ],
    ids=["audience", "issuer", "expired", "nonce", "other-subject"],
)
def test_an_id_token_with_wrong_claims_is_refused(
    client: TestClient, database: Database, idp: RunningProvider, org: Org, mutate: Any, check: str
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    idp.behaviour.mutate = mutate
    expect_refusal(client, database, sign_in(client, idp, "hanako"), 401, "token_invalid")
    assert audit(database, "sso_login_refused")[-1]["check"] == check


def test_unsigned_and_unknown_key_tokens_are_refused_and_rotation_is_followed(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    idp.behaviour.signing_key = None  # alg: none
    expect_refusal(client, database, sign_in(client, idp, "hanako"), 401, "token_invalid")
    idp.behaviour.signing_key = new_key("key-1")  # same kid, a key the provider does not publish
    expect_refusal(client, database, sign_in(client, idp, "hanako"), 401, "token_invalid")
    idp.behaviour.signing_key = new_key("stranger")  # a kid nobody publishes
    expect_refusal(client, database, sign_in(client, idp, "hanako"), 401, "token_invalid")

    rotated = new_key("key-2")  # the provider rotates: publishes and signs with a new key
    idp.behaviour.published.append(rotated)
    idp.behaviour.signing_key = rotated
    fetches = idp.behaviour.jwks_fetches
    assert sign_in(client, idp, "hanako").status_code == 303
    assert idp.behaviour.jwks_fetches == fetches + 1  # refetched once for the new kid


def test_replayed_state_and_replayed_code_are_refused(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    callback = idp.authorize(start(client), "hanako")
    assert back(client, callback).status_code == 303
    client.cookies.delete("hiraga_session")
    again = back(client, callback)  # the same state again
    assert again.status_code == 400 and "sso_state_invalid" in again.text
    state = query_of(start(client))["state"]  # a fresh sign-in, completed with the used code
    replay = back(client, f"/auth/sso/city/callback?code={query_of(callback)['code']}&state={state}")
    assert replay.status_code == 401 and "sso_provider_error" in replay.text  # the provider refuses the code
    reasons = [r["reason"] for r in audit(database, "sso_login_refused")]
    assert reasons == ["state_invalid", "provider_error"]


def test_a_state_from_another_browser_is_refused(
    client: TestClient, app: Any, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    callback = idp.authorize(start(client), "hanako")
    with TestClient(app) as victim:  # login CSRF: the attacker's callback URL opened in the victim's browser
        expect_refusal(victim, database, back(victim, callback), 400, "state_invalid")


@pytest.mark.parametrize(
    ("claims", "status", "reason"),
    [
        (person("hanako", ["企画"], verified=False), 401, "email_unverified"),
        ({"name": "no mail", "groups": ["企画"]}, 401, "email_missing"),
        (person("hanako", ["人事"]), 403, "no_mapping"),
    ],
    ids=["unverified-email", "no-email", "no-team"],
)
def test_claims_that_do_not_qualify_create_nothing(
    client: TestClient, database: Database, idp: RunningProvider, org: Org, claims: Any, status: int, reason: str
) -> None:
    idp.set_user("hanako", claims)
    expect_refusal(client, database, sign_in(client, idp, "hanako"), status, reason)


def test_denied_at_the_provider(client: TestClient, database: Database, idp: RunningProvider, org: Org) -> None:
    # this provider leaves the state out of its error redirect: an answer we cannot tie to our request
    expect_refusal(client, database, back(client, idp.deny(start(client))), 400, "state_invalid")
    state = query_of(start(client))["state"]  # what providers that keep the state send
    denied = back(client, f"/auth/sso/city/callback?error=access_denied&state={state}")
    expect_refusal(client, database, denied, 401, "provider_error")
    assert audit(database, "sso_login_refused")[-1]["error"] == "access_denied"


def test_provider_down_or_slow_is_a_clear_page(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    callback = idp.authorize(start(client), "hanako")
    idp.behaviour.delay_seconds = 3  # the test settings time out after 2 s
    expect_refusal(client, database, back(client, callback), 504, "provider_timeout")
    idp.behaviour.delay_seconds = 0
    idp.behaviour.down = True
    from hiraga.identity.sso import oidc

    oidc.forget_cached()
    response = client.get("/auth/sso/city/login", follow_redirects=False)
    expect_refusal(client, database, response, 502, "provider_unavailable")


def test_one_state_brought_twice_at_once_signs_in_once(
    client: TestClient, app: Any, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    callback = idp.authorize(start(client), "hanako")
    browser_cookie = client.cookies.get("hiraga_sso", path="/auth/sso/")
    tabs = [TestClient(app) for _ in range(2)]
    for tab in tabs:
        tab.cookies.set("hiraga_sso", browser_cookie or "", path="/auth/sso/")
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda tab: back(tab, callback).status_code, tabs))
    assert statuses == [303, 400]
    assert len(audit(database, "sso_login")) == 1


def test_a_subject_longer_than_we_store_is_refused(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    sub = "s" * 300
    idp.set_user(sub, person("hanako", ["企画"]))
    expect_refusal(client, database, sign_in(client, idp, sub), 401, "token_invalid")
    assert audit(database, "sso_login_refused")[-1]["check"] == "sub"


def test_each_enabled_provider_has_a_button_and_a_disabled_one_refuses(
    client: TestClient, database: Database, settings: Any, idp: RunningProvider, org: Org
) -> None:
    with database.session() as db:
        second = providers.ProviderInput("pref", "県の共通 ID", idp.issuer, "hiraga-2", "secret-2")
        providers.create_provider(db, OPERATOR, second, settings)
    page = client.get("/login").text
    assert "さくら市 ID でサインイン" in page and "県の共通 ID でサインイン" in page
    assert 'href="/auth/sso/pref/login?next=/"' in page
    with database.session() as db:
        providers.set_enabled(db, OPERATOR, "city", False)
    assert "さくら市 ID でサインイン" not in client.get("/login").text
    response = client.get("/auth/sso/city/login", follow_redirects=False)
    expect_refusal(client, database, response, 404, "provider_disabled")
    idp.set_user("hanako", person("hanako", ["企画"]))
    other = sign_in(client, idp, "hanako", slug="pref")
    assert other.status_code == 303, str(audit(database, "sso_login_refused")[-1])  # the other one still works
