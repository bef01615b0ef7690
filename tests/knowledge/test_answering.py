"""Answering: retrieval and its relevance gate, the prompt with numbered passages, the model call's
classification, and one end-to-end answer by the embedded model through the real gateway."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.audit import keys as audit_keys
from hiraga.cli.common import CLI_OPERATOR
from hiraga.errors import InvalidInput
from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.knowledge import answering, service
from hiraga.knowledge.citations import NOT_FOUND_MESSAGE
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

from .conftest import World

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rag_support import LAW_SAMPLE

from model_cache import MODEL_CACHE_DIR


def law_kb(world: World) -> int:
    kb_id = world.team_kb("法令")
    world.add(kb_id, LAW_SAMPLE.name, LAW_SAMPLE.read_bytes())
    assert world.ingest() == 1
    return kb_id


def retrieval_for(world: World, kb_id: int, question: str, **options: object) -> answering.Retrieval:
    scope = world.scope("member_a")
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, scope, kb_id)
        return answering.retrieve(db, scope, kb, world.runtime, question, answering.AskOptions(**options))  # type: ignore[arg-type]


def test_retrieval_finds_the_article_and_numbers_the_passages(world: World) -> None:
    retrieval = retrieval_for(world, law_kb(world), "行政庁は審査基準を公にしておかなければなりませんか")
    assert retrieval.relevant
    assert [p.number for p in retrieval.passages] == list(range(1, len(retrieval.passages) + 1))
    assert retrieval.passages[0].label == "行政手続法第五条"
    assert retrieval.team_id == world.team_a and retrieval.knowledge_base_level == 2


def test_a_question_the_passages_do_not_cover_is_not_relevant(world: World) -> None:
    retrieval = retrieval_for(world, law_kb(world), "来週の東京の天気予報")
    assert not retrieval.relevant
    assert answering.not_found(retrieval, answering.AskOptions()).text == NOT_FOUND_MESSAGE


def test_blank_and_overlong_questions_are_refused(world: World) -> None:
    kb_id = law_kb(world)
    for question, code in (("  ", "empty_question"), ("あ" * 2001, "question_too_long")):
        with pytest.raises(InvalidInput) as refused:
            retrieval_for(world, kb_id, question)
        assert refused.value.code == code


def test_the_prompt_numbers_the_passages_within_the_budget(world: World) -> None:
    retrieval = retrieval_for(world, law_kb(world), "申請に対する処分の理由の提示")
    options = answering.AskOptions(prompt_chars=400, passage_chars=300)
    messages = answering.build_messages(retrieval.question, retrieval.passages, options)
    prompt = messages[-1]["content"]
    shown = answering.shown_passages(retrieval.passages, messages)
    assert 1 <= len(shown) < len(retrieval.passages)
    assert [int(n) for n in re.findall(r"^\[(\d+)\] ", prompt, re.MULTILINE)] == [p.number for p in shown]
    assert prompt.rstrip().endswith("回答（文末に資料番号を付ける）:") and retrieval.question in prompt
    assert "[1]" in messages[0]["content"]  # the system prompt asks for markers


def test_the_model_call_carries_the_highest_level_and_the_knowledge_base(world: World) -> None:
    retrieval = retrieval_for(world, law_kb(world), "審査基準")
    principal = Principal(2, "member_a@example.jp", "member_a", team_roles={world.team_a: TeamRole.MEMBER})
    for chosen, expected in ((None, 2), (1, 2), (3, 3)):
        options = answering.AskOptions(classification=chosen)
        call = answering.model_call(principal, retrieval, options, {"messages": []})
        assert int(call.classification) == expected
        assert call.drawn_on == {f"kb:{retrieval.knowledge_base_id}": 2}
        assert call.source == f"rag:{retrieval.knowledge_base_id}" and call.team_id == world.team_a


@pytest.mark.slow
@pytest.mark.model
def test_the_embedded_model_answers_with_only_valid_citations(database_url: str, tmp_path: Path) -> None:
    """End to end with the packaged models: e5 retrieval, the embedded chat model, the real gateway."""
    scope = AccessScope(CLI_OPERATOR)
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x1y2z3" * 8,
        embedded_model_dir=MODEL_CACHE_DIR,
        embedded_threads=2,
    )
    database = Database(database_url)
    audit_keys.bind(database.engine, settings)
    with database.session() as db:
        org = directory.create_organisation(db, scope, "A市")
        team = directory.create_team(db, scope, org.id, "法務課")
        user = directory.create_user(db, scope, email="admin@a.example.jp", password=None)
        directory.set_membership(db, scope, team.id, user.id, TeamRole.ADMIN)
        headers = {"authorization": f"Bearer {api_keys.issue_key(db, CLI_OPERATOR, user.id, 'e2e', 1).secret}"}
        team_id = team.id
    database.dispose()
    with TestClient(create_app(settings)) as client:
        kb = client.post("/api/v1/kb", json={"name": "法令", "team_id": team_id, "classification": 1}, headers=headers)
        kb_id = kb.json()["id"]
        files = [("files", (LAW_SAMPLE.name, LAW_SAMPLE.read_bytes(), "application/xml"))]
        assert client.post(f"/api/v1/kb/{kb_id}/documents", files=files, headers=headers).status_code == 202
        deadline = time.monotonic() + 600
        while client.get(f"/api/v1/kb/{kb_id}/documents", headers=headers).json()[0]["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        body = {"question": "行政庁は審査基準を定めなければなりませんか。", "max_tokens": 160}
        response = client.post(f"/api/v1/kb/{kb_id}/ask", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["found"] and answer["model_name"] == "hiraga-embedded-qwen2.5-coder-0.5b"
    shown = {p["number"] for p in answer["passages"]}
    assert set(answer["cited"]) <= shown and not set(answer["invalid_citations"]) & shown
    written = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"].split("根拠条文")[0])}
    assert written <= set(answer["cited"])  # every marker left in the text names a passage shown
    assert any(p["label"] == "行政手続法第五条" for p in answer["passages"])
