"""The app pages through the app (TestClient, both backends): registration form, the form rendered
from the definition, a run shown as safe Markdown, and hostile outputs that stay inert."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser

from app_world import ReferenceApp, World, form_definition
from fastapi.testclient import TestClient

from hiraga.identity import web_sessions
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.web import csrf

NONCE = "page-test-nonce"


class Elements(HTMLParser):
    """Every element and its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def browser_headers(database: Database, settings: Settings, world: World, role: str) -> dict[str, str]:
    with database.session() as db:
        token = web_sessions.start_session(db, world.users[role], ttl_hours=1)
    return {"cookie": f"hiraga_session={token}; {csrf.COOKIE}={NONCE}", "accept": "text/html"}


def register_page(client: TestClient, headers: dict[str, str], settings: Settings, world: World, **fields: str):
    form = {
        "csrf_token": csrf.token_for(settings.secret(), NONCE),
        "name": "参照",
        "slug": "ref-page",
        "description": "説明",
        "endpoint_url": "",
        "api_key": "",
        "mode": "sync",
        "timeout_seconds": "10",
        "classification": "2",
        "owner_team_id": str(world.team_a),
        "team_ids": str(world.team_a),
        "form_definition": json.dumps(form_definition(), ensure_ascii=False),
        **fields,
    }
    return client.post("/apps/new", data=form, headers=headers, follow_redirects=False)


def test_registration_page_and_the_rendered_form(
    client: TestClient, database: Database, settings: Settings, world: World, reference_app: ReferenceApp
):
    headers = browser_headers(database, settings, world, "admin_a")
    bad = register_page(client, headers, settings, world, endpoint_url=reference_app.url("sync"), form_definition="{")
    assert bad.status_code == 400 and "JSON として読めません" in bad.text
    done = register_page(
        client, headers, settings, world, endpoint_url=reference_app.url("sync"), api_key=reference_app.key
    )
    assert done.status_code == 303, done.text
    page = client.get("/apps/ref-page", headers=headers)
    assert page.status_code == 200
    assert re.search(r'<textarea id="app-input_text" name="in_input_text" required', page.text)
    assert '<input type="number" id="app-count" name="in_count"' in page.text and 'max="5"' in page.text
    assert 'accept=".txt,.pdf"' in page.text and "テスト実行" in page.text


def poll_run(client: TestClient, headers: dict[str, str], url: str) -> str:
    for _ in range(300):
        fragment = client.get(url, headers=headers | {"hx-request": "true"}).text
        if "hx-trigger" not in fragment:
            return fragment
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def test_hostile_output_is_inert_and_runs_are_polled(
    client: TestClient, database: Database, settings: Settings, world: World, reference_app: ReferenceApp
):
    admin = browser_headers(database, settings, world, "admin_a")
    hostile = reference_app.url("hostile")
    done = register_page(
        client, admin, settings, world, endpoint_url=hostile, slug="hostile", api_key=reference_app.key
    )
    assert done.status_code == 303
    token = csrf.token_for(settings.secret(), NONCE)
    client.post("/apps/hostile/status", data={"csrf_token": token, "status": "published"}, headers=admin)
    member = browser_headers(database, settings, world, "member_a")
    started = client.post(
        "/apps/hostile/run", data={"csrf_token": token, "in_input_text": "x"}, headers=member | {"hx-request": "true"}
    )
    assert started.status_code == 200, started.text
    run_url = re.search(r'hx-get="([^"]+)"', started.text)
    fragment = poll_run(client, member, run_url.group(1)) if run_url else started.text
    assert "<strong>安全な太字</strong>" in fragment
    tags = Elements()
    tags.feed(fragment)
    assert {"script", "img", "iframe"} & {t for t, _ in tags.found} == set()
    assert [a for _, attrs in tags.found for a, v in attrs if a.startswith("on") or "javascript:" in (v or "")] == []
    assert "&lt;script&gt;" in fragment  # the hostile markup is shown as text


def test_bad_inputs_on_the_page_say_what_is_wrong(
    client: TestClient, database: Database, settings: Settings, world: World, reference_app: ReferenceApp
):
    admin = browser_headers(database, settings, world, "admin_a")
    register_page(client, admin, settings, world, endpoint_url=reference_app.url("sync"))
    token = csrf.token_for(settings.secret(), NONCE)
    answer = client.post(
        "/apps/ref-page/run",
        data={"csrf_token": token, "in_input_text": "x", "in_count": "99", "test_call": "1"},
        headers=admin | {"hx-request": "true"},
    )
    assert answer.status_code == 400 and "1〜5" in answer.text and 'role="alert"' in answer.text
    member_b = browser_headers(database, settings, world, "member_b")
    assert client.get("/apps/ref-page", headers=member_b).status_code == 404
