"""/api/v1/kb end to end: a team admin creates a knowledge base and uploads e-Gov law XML (ingested by
the in-process worker), members search and ask; the answer comes from a real HTTP stub upstream
(OpenAI protocol) through the real gateway, with crafted [n] markers, so the citation checks can be
asserted exactly. Lexical search only here (the embedder is switched off for speed); the
end-to-end test with the embedded models is in tests/knowledge/test_answering.py."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hiraga.audit.chain import AUDIT
from hiraga.knowledge.attribution import UNSUPPORTED_MARK
from hiraga.knowledge.citations import NOT_FOUND_MESSAGE
from hiraga.settings import Settings
from hiraga.store.database import Database

from ..world import World
from .support import STUB_MODEL, ask, create_kb, settled, upload

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "knowledge"))
from rag_support import LAW_ID, ScriptedUpstream, halfway_pdf_job, prompt_of


def test_upload_ingests_the_law_and_members_find_the_article(client: TestClient, world: World, law_kb: int) -> None:
    [document] = client.get(f"/api/v1/kb/{law_kb}/documents", headers=world.headers("member")).json()
    assert document["title"] == "行政手続法"
    assert document["job"]["state"] == "done"
    assert document["job"]["chunks_done"] == document["job"]["chunks_total"] == document["chunk_count"] > 5
    body = {"query": "行政庁は審査基準を定める", "top_k": 3}
    hits = client.post(f"/api/v1/kb/{law_kb}/search", json=body, headers=world.headers("member")).json()["hits"]
    assert hits[0]["article"] == "第五条"
    assert hits[0]["url"] == f"https://laws.e-gov.go.jp/law/{LAW_ID}#Mp-At_5"


def test_answer_keeps_valid_citations_and_removes_invalid_ones(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(
        ("say", "行政庁は審査基準を定めるものとされています[1]。審査基準は公にしておく必要があります[1][9]。")
    )
    response = ask(client, world, law_kb, "審査基準は誰が定めるのですか")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["cited"] == [1]
    assert answer["invalid_citations"] == [9]
    assert "[9]" not in answer["answer"] and "[1]" in answer["answer"]
    assert any("[9]" in notice for notice in answer["notices"])
    first = answer["passages"][0]
    assert first["number"] == 1 and first["cited"] is True
    assert first["label"] == "行政手続法第五条"
    assert first["link"] == f"https://laws.e-gov.go.jp/law/{LAW_ID}#Mp-At_5"
    assert "審査基準を定めるものとする" in first["text"]
    assert 'href="#passage-1"' in answer["html"] and "passage-9" not in answer["html"]
    assert "根拠条文" in answer["answer"] and "行政手続法第五条" in answer["answer"]
    prompt = prompt_of(upstream.chat_requests()[-1])
    assert "[1] 行政手続法第五条" in prompt and "審査基準は誰が定めるのですか" in prompt
    assert answer["classification"] == 2  # the knowledge base's level


def test_a_question_nothing_covers_is_answered_without_the_model(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    response = ask(client, world, law_kb, "明日の東京の天気予報を教えてください")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["found"] is False and answer["answer"] == NOT_FOUND_MESSAGE
    assert answer["cited"] == [] and upstream.chat_requests() == []


def test_a_claim_cited_with_an_invalid_number_is_tied_to_the_article_that_holds_it(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(("say", "申請者に対し理由を示さなければなりません[12]。"))
    answer = ask(client, world, law_kb, "申請を拒否するときに理由を示す必要はありますか").json()
    assert answer["invalid_citations"] == [12]
    assert answer["model_text"] == "申請者に対し理由を示さなければなりません[12]。"
    [number] = answer["cited"]
    assert answer["answer"].startswith(f"申請者に対し理由を示さなければなりません[{number}]。")
    assert answer["passages"][number - 1]["label"] == "行政手続法第八条"
    assert any("[12]" in n for n in answer["notices"]) and any("付け直しました" in n for n in answer["notices"])


def test_an_answer_without_a_supported_claim_is_flagged_and_quotes_a_passage(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(("say", "申請の手数料は千円です[1]。"))
    answer = ask(client, world, law_kb, "申請を拒否するときに理由を示す必要はありますか").json()
    assert answer["answer"].startswith(f"申請の手数料は千円です{UNSUPPORTED_MARK}。\n\n資料の該当箇所:")
    [number] = answer["cited"]
    quote = answer["answer"].split("> 「", 1)[1].split(f"」[{number}]", 1)[0]
    assert "理由" in quote and quote in answer["passages"][number - 1]["text"]
    assert any("確認できない" in n for n in answer["notices"])
    assert any("そのまま引用" in n for n in answer["notices"])


def test_the_model_must_be_cleared_for_the_knowledge_base_level(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    response = ask(client, world, law_kb, "審査基準は誰が定めるのですか", model="rag-stub-level1", classification=1)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "classification_not_cleared"
    assert upstream.chat_requests() == []


def test_streamed_answer_ends_with_the_checked_answer(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(("say", "申請者に対し理由を示さなければなりません[2][5]。"))
    response = ask(client, world, law_kb, "許認可等を拒否する処分の理由の提示", stream=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [block.split("\n", 1) for block in response.text.strip().split("\n\n")]
    names = [head.removeprefix("event: ") for head, _ in events]
    assert names[0] == "passages" and names[1] == "model" and names[-1] == "done" and "delta" in names
    streamed = "".join(orjson.loads(data.removeprefix("data: "))["text"] for head, data in events if "delta" in head)
    assert streamed == "申請者に対し理由を示さなければなりません[2][5]。"
    done = orjson.loads(events[-1][1].removeprefix("data: "))
    shown = len(done["passages"])
    assert done["invalid_citations"] == [n for n in (2, 5) if n > shown]
    [holding] = done["cited"]  # the claim is tied to the article that says it, whatever was cited
    assert done["passages"][holding - 1]["label"] == "行政手続法第八条"
    assert done["answer"].startswith(f"申請者に対し理由を示さなければなりません[{holding}]。")
    assert done["model_text"] == streamed


def test_other_teams_cannot_see_the_knowledge_base_and_the_attempt_is_audited(
    client: TestClient, world: World, law_kb: int, database: Database
) -> None:
    stranger = {"authorization": f"Bearer {world.stranger.key}"}
    listed = client.get("/api/v1/kb", headers=stranger).json()
    assert law_kb not in {kb["id"] for kb in listed}
    for method, path, body in (
        ("GET", f"/api/v1/kb/{law_kb}", None),
        ("POST", f"/api/v1/kb/{law_kb}/search", {"query": "審査基準"}),
        ("POST", f"/api/v1/kb/{law_kb}/ask", {"question": "審査基準は誰が定めるのですか"}),
    ):
        response = client.request(method, path, json=body, headers=stranger)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["message"] == "指定されたナレッジベースが見つかりません。"
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(AUDIT.c.actor_user_id, AUDIT.c.outcome).where(AUDIT.c.action == "kb_read_refused")
        ).all()
    assert rows == [(world.stranger.user_id, "refused")] * 3


def test_members_cannot_manage(client: TestClient, world: World, law_kb: int) -> None:
    response = upload(client, world, law_kb, ("a.txt", "文書".encode()), role="member")
    assert response.status_code == 403
    [document] = client.get(f"/api/v1/kb/{law_kb}/documents", headers=world.headers("member")).json()
    deleted = client.delete(f"/api/v1/kb/{law_kb}/documents/{document['id']}", headers=world.headers("member"))
    assert deleted.status_code == 403
    assert client.delete(f"/api/v1/kb/{law_kb}", headers=world.headers("member")).status_code == 403


def test_bad_uploads_fail_alone_with_a_reason(client: TestClient, world: World) -> None:
    kb_id = create_kb(client, world, "規程")
    nothing = client.post(
        f"/api/v1/kb/{kb_id}/documents", files=[], data={"tags": "x"}, headers=world.headers("team_admin")
    )
    assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "no_files"
    response = upload(
        client, world, kb_id, ("broken.xml", b"<Law><LawBody>"), ("memo.txt", "窓口は九時から開きます。".encode())
    )
    assert response.status_code == 202, response.text
    documents = {d["name"]: d for d in settled(client, world, kb_id)}
    assert documents["memo.txt"]["status"] == "ready"
    assert documents["broken.xml"]["status"] == "failed"
    assert documents["broken.xml"]["error_message"]
    hits = client.post(f"/api/v1/kb/{kb_id}/search", json={"query": "窓口"}, headers=world.headers("member")).json()
    assert [h["document_name"] for h in hits["hits"]] == ["memo.txt"]


def test_deleting_a_document_removes_it_from_search(client: TestClient, world: World, law_kb: int) -> None:
    admin = world.headers("team_admin")
    [document] = client.get(f"/api/v1/kb/{law_kb}/documents", headers=admin).json()
    assert client.delete(f"/api/v1/kb/{law_kb}/documents/{document['id']}", headers=admin).status_code == 204
    hits = client.post(f"/api/v1/kb/{law_kb}/search", json={"query": "審査基準"}, headers=admin).json()["hits"]
    assert hits == []
    assert client.delete(f"/api/v1/kb/{law_kb}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/kb/{law_kb}", headers=admin).status_code == 404


def test_bad_questions_are_refused(client: TestClient, world: World, law_kb: int) -> None:
    blank = ask(client, world, law_kb, "   ")
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "empty_question"
    bad_level = client.post(
        "/api/v1/kb",
        json={"name": "x", "team_id": world.team["own"], "classification": 5},
        headers=world.headers("team_admin"),
    )
    assert bad_level.status_code == 400


def test_rag_app_answers_over_the_gennai_protocol(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    listed = client.get("/api/v1/task-apps", headers=world.headers("member")).json()
    assert "rag_qa" in str(listed)  # in the catalogue like every app of the extension point
    body = {"app_name": "rag_qa", "name": "ポータル用", "team_id": world.team["own"]}
    secret = client.post("/api/v1/provided-apps/keys", json=body, headers=world.headers("team_admin")).json()["secret"]
    alias = {"members": [{"endpoint": STUB_MODEL, "priority": 0}]}  # apps ask for "default"
    assert client.put("/api/v1/models/aliases/default", json=alias, headers=world.headers("system_admin")).is_success
    upstream.plan(("say", "行政庁は審査基準を定めるものとされています[1][8]。"))
    inputs = {"knowledge_base": "法令集", "question": "審査基準は誰が定めるのですか"}
    response = client.post("/gennai/apps/rag_qa", json={"inputs": inputs}, headers={"x-api-key": secret})
    assert response.status_code == 200, response.text
    answer = response.json()
    body_text = answer["outputs"].split("### 根拠")[0]
    assert "[1]" in body_text and "[8]" not in body_text.replace("[8] を取り除きました", "")
    assert "### 根拠" in answer["outputs"] and "行政手続法第五条" in answer["outputs"]
    assert f"https://laws.e-gov.go.jp/law/{LAW_ID}#Mp-At_5" in answer["outputs"]
    assert answer["usageMetadata"][0]["modelVersion"] == STUB_MODEL
    stranger_kb = {"knowledge_base": "存在しない", "question": "審査基準"}
    refused = client.post("/gennai/apps/rag_qa", json={"inputs": stranger_kb}, headers={"x-api-key": secret})
    assert refused.status_code in (400, 404) and "見つかりません" in refused.text


# -- query expansion -------------------------------------------------------------------------------
LAYPERSON_QUESTION = "役所が頼みごとを断るとき、わけを言わなきゃいけない？"
PHRASINGS = "1. 行政庁が申請を拒否する処分をする場合の理由の提示\n- 申請者に対し処分の理由を示す\n\n"


def test_query_expansion_finds_the_article_the_question_alone_does_not(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream, settings: Settings
) -> None:
    plain = ask(client, world, law_kb, LAYPERSON_QUESTION).json()
    assert plain["found"] is False and upstream.chat_requests() == []
    upstream.plan(("say", PHRASINGS), ("say", "申請者に対し、同時に、当該処分の理由を示さなければならない[1]。"))
    answer = ask(client, world, law_kb, LAYPERSON_QUESTION, expand_query=True).json()
    assert answer["expansions"] == ["行政庁が申請を拒否する処分をする場合の理由の提示", "申請者に対し処分の理由を示す"]
    assert answer["found"] is True and answer["passages"][0]["label"] == "行政手続法第八条"
    assert answer["cited"] == [1] and answer["classification"] == 2
    expansion_request, answer_request = upstream.chat_requests()
    assert prompt_of(expansion_request).endswith(LAYPERSON_QUESTION) and "[1]" not in prompt_of(expansion_request)
    assert "[1] 行政手続法第八条" in prompt_of(answer_request)
    database = Database(settings.database_url)
    with database.session() as db:
        sources = db.scalars(sa.text("select source from usage_records order by id")).all()
    database.dispose()
    assert sources[-2:] == [f"rag-expand:{law_kb}", f"rag:{law_kb}"]


def test_search_with_query_expansion_returns_the_phrasings_and_their_hits(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(("say", PHRASINGS))
    body = {"query": LAYPERSON_QUESTION, "top_k": 3, "expand_query": True, "model": STUB_MODEL}
    result = client.post(f"/api/v1/kb/{law_kb}/search", json=body, headers=world.headers("member")).json()
    assert result["expansions"][0] == "行政庁が申請を拒否する処分をする場合の理由の提示"
    assert result["hits"][0]["article"] == "第八条" and result["notices"] == []


def test_a_failing_model_leaves_search_with_the_question_alone(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    upstream.plan(*[("status", 500)] * 6)
    body = {"query": "審査基準を定める", "top_k": 3, "expand_query": True, "model": STUB_MODEL}
    response = client.post(f"/api/v1/kb/{law_kb}/search", json=body, headers=world.headers("member"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["expansions"] == [] and result["hits"][0]["article"] == "第五条"
    assert any("クエリ拡張" in n for n in result["notices"])


def test_query_expansion_needs_a_model_cleared_for_the_knowledge_base(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    body = {"query": "審査基準", "expand_query": True, "model": "rag-stub-level1"}
    response = client.post(f"/api/v1/kb/{law_kb}/search", json=body, headers=world.headers("member"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "classification_not_cleared"
    assert upstream.chat_requests() == []


def test_rag_app_expands_the_query_when_asked_over_the_gennai_protocol(
    client: TestClient, world: World, law_kb: int, upstream: ScriptedUpstream
) -> None:
    body = {"app_name": "rag_qa", "name": "拡張", "team_id": world.team["own"]}
    secret = client.post("/api/v1/provided-apps/keys", json=body, headers=world.headers("team_admin")).json()["secret"]
    alias = {"members": [{"endpoint": STUB_MODEL, "priority": 0}]}
    assert client.put("/api/v1/models/aliases/default", json=alias, headers=world.headers("system_admin")).is_success
    upstream.plan(("say", PHRASINGS), ("say", "申請者に対し、同時に、当該処分の理由を示さなければならない[1]。"))
    inputs = {"knowledge_base": "法令集", "question": LAYPERSON_QUESTION, "expand_query": True}
    response = client.post("/gennai/apps/rag_qa", json={"inputs": inputs}, headers={"x-api-key": secret})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "行政手続法第八条" in answer["outputs"] and len(upstream.chat_requests()) == 2
    assert len(answer["usageMetadata"]) == 2  # the rewrite is billed too


def test_the_document_list_shows_a_long_documents_page_progress(
    client: TestClient, world: World, settings: Settings
) -> None:
    kb_id = create_kb(client, world)
    halfway_pdf_job(settings.database_url, kb_id)
    [listed] = client.get(f"/api/v1/kb/{kb_id}/documents", headers=world.headers("member")).json()
    assert listed["status"] == "pending" and listed["job"]["state"] == "running"
    progress = {k: listed["job"][k] for k in ("chunks_done", "chunks_total", "pages_done", "pages_total")}
    assert progress == {"chunks_done": 192, "chunks_total": 0, "pages_done": 2, "pages_total": 5}
