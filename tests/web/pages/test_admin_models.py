"""Model registry and policy pages: system admins only, CSRF, forms without JavaScript, write-only API keys."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import Directory, csrf_from, post_form
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway"))
from gateway_stub import REPLY, StubUpstream
from gateway_world import settings  # noqa: F401  (the gateway's settings: loopback upstreams allowed)

from hiraga.gateway.registry import BUILTIN_CHAT
from hiraga.store.database import Database
from hiraga.store.tables import ModelAlias, ModelEndpoint, PlatformSetting

HTML = {"accept": "text/html"}
SECRET = "sk-upstream-very-secret-4711"


@pytest.fixture(scope="module")
def upstream() -> Iterator[StubUpstream]:
    yield StubUpstream().start()


def endpoint_form(upstream: StubUpstream, **fields: str) -> dict[str, str]:
    return {
        "name": "llm-jp-4",
        "provider": "openai",
        "kind": "chat",
        "base_url": upstream.base_url,
        "upstream_model": "llm-jp-4-instruct",
        "api_key": SECRET,
        "context_window": "8192",
        "price_input_per_1k": "0.5",
        "price_output_per_1k": "1.5",
        "clearance": "2",
        "external": "1",
        "pii_policy": "block",
        "all_teams": "1",
        "timeout_seconds": "30",
        "max_concurrent": "4",
        "tags": "ja-specialist, summarize",
        "enabled": "1",
        **fields,
    }


def endpoint_row(database: Database, name: str) -> ModelEndpoint | None:
    with database.session() as db:
        row = db.scalar(select(ModelEndpoint).where(ModelEndpoint.name == name))
        if row is not None:
            db.expunge(row)
        return row


def test_only_system_admins_get_the_pages(
    as_user: Callable[[str], TestClient], client: TestClient, people: Directory
) -> None:
    anonymous = client.get("/admin/models", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for name in ("alice", "amy"):  # a team admin and a member
        user = as_user(name)
        for page in ("/admin/models", "/admin/policy"):
            assert user.get(page, headers=HTML).status_code == 403
        assert 'href="/admin/models"' not in user.get("/admin", headers=HTML).text
        token = csrf_from(user.get("/account").text)
        refused = user.post(
            "/admin/policy/default-classification", data={"default_classification": "3", "csrf_token": token}
        )
        assert refused.status_code == 403
    root = as_user("root")
    assert 'href="/admin/models"' in root.get("/admin").text
    page = root.get("/admin/models")
    assert page.status_code == 200 and BUILTIN_CHAT in page.text and "接続テスト" in page.text


def test_add_endpoint_by_form_keeps_the_key_write_only(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, upstream: StubUpstream
) -> None:
    root = as_user("root")
    created = post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream))
    assert created.status_code == 303 and created.headers["location"] == "/admin/models?notice=model_created"
    row = endpoint_row(database, "llm-jp-4")
    assert row is not None
    assert (row.clearance, row.external, row.pii_policy, row.all_teams) == (2, True, "block", True)
    assert row.tags == ["ja-specialist", "summarize"] and row.context_window == 8192
    assert row.api_key_encrypted and SECRET not in row.api_key_encrypted
    listing = root.get("/admin/models").text
    edit = root.get(f"/admin/models/{row.id}").text
    for page in (listing, edit):
        assert SECRET not in page
    assert "llm-jp-4-instruct" in listing and "遮断" in listing
    assert "保存済み（表示されません）" in edit


def test_a_bad_form_changes_nothing_shows_the_error_and_never_echoes_the_key(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, upstream: StubUpstream
) -> None:
    root = as_user("root")
    bad = post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream, context_window="10"))
    assert bad.status_code == 400
    assert 'role="alert"' in bad.text and 'aria-invalid="true"' in bad.text
    assert SECRET not in bad.text and 'value="llm-jp-4-instruct"' in bad.text  # the rest comes back
    private = post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream, base_url="http://10.1.2.3/v1"))
    assert private.status_code == 400 and 'role="alert"' in private.text  # SSRF guard
    assert endpoint_row(database, "llm-jp-4") is None
    token = csrf_from(root.get("/admin/models").text)
    no_csrf = root.post("/admin/models", data=endpoint_form(upstream), headers=HTML)
    assert no_csrf.status_code == 403 and token not in no_csrf.text
    assert endpoint_row(database, "llm-jp-4") is None


def test_edit_keeps_or_removes_the_stored_key_and_test_button_probes(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, upstream: StubUpstream
) -> None:
    root = as_user("root")
    post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream, pii_policy="mask"))
    row = endpoint_row(database, "llm-jp-4")
    assert row is not None
    page = f"/admin/models/{row.id}"
    changes = endpoint_form(upstream, api_key="", description="庁内 vLLM", clearance="3")
    del changes["external"]
    saved = post_form(root, page, page, changes)
    assert saved.status_code == 303
    after = endpoint_row(database, "llm-jp-4")
    assert after is not None
    assert (after.description, after.clearance, after.external) == ("庁内 vLLM", 3, False)
    assert after.api_key_encrypted == row.api_key_encrypted  # an empty key field keeps the stored one
    upstream.reset()
    probe = post_form(root, page, f"{page}/test", {})
    assert probe.status_code == 200 and "成功" in probe.text and REPLY in probe.text
    assert upstream.chat_requests()[0].headers["authorization"] == f"Bearer {SECRET}"
    upstream.plan(("status", 401))
    failed = post_form(root, page, f"{page}/test", {})
    assert failed.status_code == 200 and 'role="alert"' in failed.text
    post_form(root, page, page, {**changes, "remove_api_key": "1"})
    removed = endpoint_row(database, "llm-jp-4")
    assert removed is not None and removed.api_key_encrypted is None


def test_aliases_and_removal(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, upstream: StubUpstream
) -> None:
    root = as_user("root")
    post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream))
    alias = {"alias_name": "hiraga/ja", "members": f"llm-jp-4\n{BUILTIN_CHAT} 5"}
    assert post_form(root, "/admin/models", "/admin/models/aliases", alias).status_code == 303
    with database.session() as db:
        chain = {a.priority for a in db.scalars(select(ModelAlias).where(ModelAlias.name == "hiraga/ja"))}
    assert chain == {0, 5}
    unknown = post_form(root, "/admin/models", "/admin/models/aliases", {"alias_name": "x", "members": "nope"})
    assert unknown.status_code == 404 and 'role="alert"' in unknown.text
    bad_name = post_form(root, "/admin/models", "/admin/models/aliases", {"alias_name": "a b", "members": "llm-jp-4"})
    assert bad_name.status_code == 400
    deleted = post_form(root, "/admin/models", "/admin/models/aliases/delete", {"alias_name": "hiraga/ja"})
    assert deleted.status_code == 303 and "hiraga/ja" not in root.get("/admin/models").text
    row = endpoint_row(database, "llm-jp-4")
    assert row is not None
    removed = post_form(root, "/admin/models", f"/admin/models/{row.id}/delete", {})
    assert removed.status_code == 303 and endpoint_row(database, "llm-jp-4") is None


def test_policy_page_sets_the_default_classification_and_endpoint_policies(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, upstream: StubUpstream
) -> None:
    root = as_user("root")
    post_form(root, "/admin/models", "/admin/models", endpoint_form(upstream))
    row = endpoint_row(database, "llm-jp-4")
    assert row is not None
    page = root.get("/admin/policy").text
    assert "llm-jp-4" in page and 'id="field-clearance-' in page
    saved = post_form(root, "/admin/policy", "/admin/policy/default-classification", {"default_classification": "2"})
    assert saved.status_code == 303
    bad = post_form(root, "/admin/policy", "/admin/policy/default-classification", {"default_classification": "9"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    with database.session() as db:
        setting = db.get(PlatformSetting, "classification.default")
        assert setting is not None and setting.value == "2"
    changed = post_form(
        root, "/admin/policy", f"/admin/policy/endpoints/{row.id}", {"clearance": "1", "pii_policy": "allow"}
    )
    assert changed.status_code == 303
    after = endpoint_row(database, "llm-jp-4")
    assert after is not None and (after.clearance, after.pii_policy) == (1, "allow")
    assert 'value="2" selected' in root.get("/admin/policy").text
