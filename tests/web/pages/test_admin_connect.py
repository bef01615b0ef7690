"""「モデルを接続する」: the first-run path to a real model — a short form, the connection test, the
tiny Japanese sanity check judged in code against a stub upstream that speaks the OpenAI protocol,
routing advice, and making it the default model with the built-in one kept as the fallback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_from, post_form
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway"))
from gateway_stub import StubUpstream
from gateway_world import settings  # noqa: F401  (the gateway's settings: loopback upstreams allowed)

from hiraga.gateway.probe import SANITY_QUESTIONS, judged, routing_advice
from hiraga.gateway.registry import BUILTIN_CHAT
from hiraga.store.database import Database
from hiraga.store.tables import ModelAlias, ModelEndpoint

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[StubUpstream]:
    yield StubUpstream().start()


def test_answers_are_judged_in_code_and_advice_follows_the_score() -> None:
    capital, sums, translation, keigo = SANITY_QUESTIONS
    assert judged(capital, "東京です。").passed and not judged(capital, "京都").passed
    assert judged(translation, "April 1, 2027").passed and not judged(translation, "2027年4月1日").passed
    assert judged(keigo, "伺う").passed and judged(keigo, "参る").passed and not judged(keigo, "行きます").passed
    good = [judged(q, a) for q, a in zip(SANITY_QUESTIONS, ("東京", "42", "April 1, 2027", "参る"), strict=True)]
    assert routing_advice(good)[0] == "good"
    assert routing_advice([*good[:3], judged(keigo, "行く")])[0] == "fair"
    assert routing_advice([judged(q, "わかりません") for q in SANITY_QUESTIONS])[0] == "poor"
    assert judged(sums, "答えは 42 です").passed and not judged(sums, "24").passed


def test_connect_a_server_test_it_and_make_it_the_default(
    as_user: Callable[[str], TestClient], upstream: StubUpstream, database: Database
) -> None:
    root = as_user("root")
    assert root.get("/admin/models/connect").status_code == 200
    form = {"source": "server", "name": "llm-jp-4", "base_url": upstream.base_url, "upstream_model": "llm-jp-4"}
    created = post_form(root, "/admin/models/connect", "/admin/models/connect", form)
    assert created.status_code == 303 and created.headers["location"].endswith("/check")
    seen = len(upstream.requests)
    check = root.get(created.headers["location"])
    assert check.status_code == 200 and "接続できました" in check.text
    assert len(upstream.requests) - seen == 1 + len(SANITY_QUESTIONS)
    # the stub always answers one fixed sentence that names 東京: one of four passes
    assert "1 / 4 問正解" in check.text and "日本語の業務には勧めません" in check.text
    assert "/make-default" in check.text
    endpoint_id = created.headers["location"].split("/")[3]
    token = csrf_from(check.text)
    done = root.post(f"/admin/models/{endpoint_id}/make-default", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    with database.session() as db:
        chain = db.execute(
            select(ModelEndpoint.name, ModelAlias.priority)
            .join(ModelEndpoint, ModelEndpoint.id == ModelAlias.endpoint_id)
            .where(ModelAlias.name == "default")
            .order_by(ModelAlias.priority)
        ).all()
    assert [name for name, _ in chain] == ["llm-jp-4", BUILTIN_CHAT]


def test_a_bad_form_keeps_nothing_and_members_are_refused(
    as_user: Callable[[str], TestClient], database: Database
) -> None:
    root = as_user("root")
    bad = post_form(root, "/admin/models/connect", "/admin/models/connect", {"source": "server", "name": "x y"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    with database.session() as db:
        assert db.scalar(select(ModelEndpoint).where(ModelEndpoint.name == "x y")) is None
    assert as_user("amy").get("/admin/models/connect", headers=HTML).status_code == 403


def test_an_unreachable_server_says_what_to_check(as_user: Callable[[str], TestClient]) -> None:
    root = as_user("root")
    form = {"source": "server", "name": "gone", "base_url": "http://127.0.0.1:9/v1", "upstream_model": "m"}
    created = post_form(root, "/admin/models/connect", "/admin/models/connect", form)
    check = root.get(created.headers["location"])
    assert check.status_code == 200 and "接続できませんでした" in check.text and "/make-default" not in check.text


def test_a_gguf_file_that_is_not_there_is_refused_and_kept_nowhere(
    as_user: Callable[[str], TestClient], database: Database, tmp_path: Path
) -> None:
    root = as_user("root")
    missing = tmp_path / "llm-jp-3-3.7b-instruct-Q4_K_M.gguf"
    form = {"source": "gguf", "name": "llm-jp-gguf", "model_path": str(missing)}
    refused = post_form(root, "/admin/models/connect", "/admin/models/connect", form)
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert 'value="gguf" checked' in refused.text  # the form comes back as it was filled in
    with database.session() as db:
        assert db.scalar(select(ModelEndpoint).where(ModelEndpoint.name == "llm-jp-gguf")) is None
