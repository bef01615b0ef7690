"""A served reranker named on a knowledge base (``hiraga.knowledge.reranking``): set by its
managers (a registered rerank endpoint cleared for the level, or refused), then search and answers
take their passages in its order, the call billed and recorded; a failing or malformed reranker
leaves the built-in order with a notice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from hiraga.settings import Settings
from hiraga.store.database import Database

from ..world import World
from .support import STUB_MODEL, ask

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "knowledge"))
from rag_support import ScriptedUpstream

QUERY = "行政庁は審査基準を定める"  # the built-in ranking puts 第五条（審査基準） first


def add_reranker(client: TestClient, world: World, upstream: ScriptedUpstream, name: str, clearance: int) -> None:
    body = {
        "name": name,
        "provider": "openai",
        "kind": "rerank",
        "base_url": upstream.base_url,
        "upstream_model": "bge-reranker-v2-m3",
        "all_teams": True,
        "clearance": clearance,
    }
    response = client.post("/api/v1/models", json=body, headers=world.headers("system_admin"))
    assert response.status_code == 201, response.text


def set_reranker(client: TestClient, world: World, kb_id: int, model: str | None, role: str = "team_admin") -> Any:
    return client.patch(f"/api/v1/kb/{kb_id}", json={"reranker_model": model}, headers=world.headers(role))


def search(client: TestClient, world: World, kb_id: int, top_k: int = 3) -> Any:
    body = {"query": QUERY, "top_k": top_k}
    response = client.post(f"/api/v1/kb/{kb_id}/search", json=body, headers=world.headers("member"))
    assert response.status_code == 200, response.text
    return response.json()


def usage_sources(settings: Settings) -> list[tuple[str, str]]:
    database = Database(settings.database_url)
    with database.session() as db:
        rows = db.execute(sa.text("select kind, source from usage_records order by id")).all()
    database.dispose()
    return [(str(kind), str(source)) for kind, source in rows]


def rerank_requests(upstream: ScriptedUpstream) -> list[dict[str, Any]]:
    return [r.body or {} for r in upstream.requests if r.path.endswith("/rerank")]


def test_only_managers_name_a_registered_cleared_reranker(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    add_reranker(client, world, upstream, "reranker", 3)
    add_reranker(client, world, upstream, "reranker-public", 1)
    member = set_reranker(client, world, law_kb, "reranker", role="member")
    assert member.status_code == 403
    for model, code in (("reranker-public", "reranker_not_cleared"), (STUB_MODEL, "reranker_not_found")):
        refused = set_reranker(client, world, law_kb, model)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == code
    kb = client.get(f"/api/v1/kb/{law_kb}", headers=world.headers("member")).json()
    assert kb["reranker_model"] is None  # nothing changed by the refusals
    chosen = set_reranker(client, world, law_kb, "reranker")
    assert chosen.status_code == 200 and chosen.json()["reranker_model"] == "reranker"
    cleared = set_reranker(client, world, law_kb, None)
    assert cleared.json()["reranker_model"] is None


def test_search_takes_the_rerankers_order_of_the_pool(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream, settings: Settings
) -> None:
    built_in = search(client, world, law_kb)
    assert built_in["hits"][0]["article"] == "第五条" and built_in["reranked_by"] is None
    add_reranker(client, world, upstream, "reranker", 3)
    assert set_reranker(client, world, law_kb, "reranker").status_code == 200
    upstream.plan(("prefer", "第七条"))
    reranked = search(client, world, law_kb)
    hits = reranked["hits"]
    assert hits[0]["article"] == "第七条" and len(hits) == 3
    assert reranked["reranked_by"] == "reranker" and reranked["notices"] == []
    [sent] = rerank_requests(upstream)
    assert sent["query"] == QUERY and sent["model"] == "bge-reranker-v2-m3"
    documents = sent["documents"]
    assert isinstance(documents, list) and 3 < len(documents) <= 20  # the pool, not just the top 3
    assert usage_sources(settings) == [("rerank", f"rag-rerank:{law_kb}")]


def test_answers_cite_the_passages_in_the_rerankers_order_and_bill_it(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream, settings: Settings
) -> None:
    add_reranker(client, world, upstream, "reranker", 3)
    set_reranker(client, world, law_kb, "reranker")
    upstream.plan(("prefer", "第八条"), ("say", "理由を示さなければならない[1]。"))
    answer = ask(client, world, law_kb, "申請を拒否するとき理由は示すのか").json()
    assert answer["reranked_by"] == "reranker"
    assert answer["passages"][0]["label"] == "行政手続法第八条" and answer["passages"][0]["number"] == 1
    assert len(answer["passages"]) == 5 and answer["cited"] == [1]
    assert usage_sources(settings) == [("rerank", f"rag-rerank:{law_kb}"), ("chat", f"rag:{law_kb}")]


def test_a_failing_or_malformed_reranker_leaves_the_built_in_order_with_a_notice(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    add_reranker(client, world, upstream, "reranker", 3)
    set_reranker(client, world, law_kb, "reranker")
    for scripts in ([("status", 500)] * 6, [("bad_index",)]):
        upstream.reset()
        upstream.plan(*scripts)
        result = search(client, world, law_kb)
        assert result["hits"][0]["article"] == "第五条" and result["reranked_by"] is None
        notices = result["notices"]
        assert isinstance(notices, list) and len(notices) == 1 and "再ランキング用モデル「reranker」" in notices[0]
