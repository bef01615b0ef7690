"""hiraga as an MCP server: the SDK's client lists and calls hiraga's tools at /mcp with an API key;
each call runs as the key's owner, within their teams and the 機密性 limit, and is audited."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
import sqlalchemy as sa
from mcp_support import People, ToolCallingUpstream, mcp_client, result_json

from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

SERVED_TOOLS = {"list_knowledge_bases", "search_knowledge", "list_apps", "run_app", "check_kouyoubun", "mask_pii"}


def audit_rows(database: Database, action: str) -> list[AuditRecord]:
    with database.session() as db:
        return list(db.scalars(sa.select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))


def test_without_a_key_or_with_a_bad_one_mcp_answers_401(served: str, database: Database) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = httpx.post(served, json=initialize)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
    bad = httpx.post(served, json=initialize, headers={"Authorization": "Bearer hrg_not-a-real-key"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "invalid_api_key"
    assert audit_rows(database, "api_key_refused")


def test_a_client_lists_the_tools_and_masks_pii_and_the_call_is_audited_without_the_values(
    served: str, people: People, database: Database
) -> None:
    async def run() -> tuple[set[str], object]:
        async with mcp_client(served, people.keys["alice"]) as client:
            listed = await client.list_tools()
            result = await client.call_tool("mask_pii", {"text": "担当の電話番号は 03-1234-5678 です。"})
            return {tool.name for tool in listed.tools}, result

    names, result = anyio.run(run)
    assert names == SERVED_TOOLS
    masked = result_json(result)
    assert "03-1234-5678" not in masked["masked_text"]
    assert masked["counts"] == {"phone_number": 1}
    [row] = audit_rows(database, "mcp_tool_served")
    assert row.actor_user_id == people.ids["alice"] and row.via == "api_key" and row.outcome == "ok"
    detail = json.loads(row.detail)
    assert detail["tool"] == "mask_pii" and detail["result_chars"] > 0
    assert "03-1234-5678" not in row.detail


def test_kouyoubun_check_finds_what_the_portal_finds(served: str, people: People, client: httpx.Client) -> None:
    text = "令和６年に申請して下さい。"
    portal = client.post("/api/v1/kouyoubun/check", json={"text": text}, headers=people.auth("alice")).json()

    async def run() -> object:
        async with mcp_client(served, people.keys["alice"]) as mcp:
            return await mcp.call_tool("check_kouyoubun", {"text": text})

    served_findings = result_json(anyio.run(run))["findings"]
    assert served_findings == portal["findings"] and served_findings


@pytest.fixture
def kb_ids(client: httpx.Client, people: People) -> dict[str, int]:
    """A 機密性2 knowledge base of the team with one document, and a 機密性3 one."""
    ids = {}
    for name, level in (("規程集", 2), ("人事秘", 3)):
        body = {"name": name, "team_id": people.team, "classification": level}
        response = client.post("/api/v1/kb", json=body, headers=people.auth("lead"))
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    document = "# 旅費規程\n\n第三条 出張の旅費は、出張命令に基づき支給する。日当は一日につき二千円とする。\n".encode()
    files = [("files", ("旅費規程.md", document, "text/markdown"))]
    response = client.post(f"/api/v1/kb/{ids['規程集']}/documents", files=files, headers=people.auth("lead"))
    assert response.status_code == 202, response.text
    return ids


def wait_ready(client: httpx.Client, people: People, kb_id: int) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        documents = client.get(f"/api/v1/kb/{kb_id}/documents", headers=people.auth("alice")).json()
        if documents and all(d["status"] == "ready" for d in documents):
            return
        time.sleep(0.05)
    raise AssertionError(documents)


def test_knowledge_search_returns_numbered_citations_within_the_callers_teams_and_clearance(
    served: str, people: People, client: httpx.Client, kb_ids: dict[str, int], database: Database
) -> None:
    wait_ready(client, people, kb_ids["規程集"])

    async def call(role: str, name: str, arguments: dict[str, object]) -> object:
        async with mcp_client(served, people.keys[role]) as mcp:
            return await mcp.call_tool(name, arguments)

    listed = result_json(anyio.run(call, "alice", "list_knowledge_bases", {}))
    assert [kb["name"] for kb in listed["knowledge_bases"]] == ["規程集"]  # the 機密性3 one is not offered
    found = result_json(anyio.run(call, "alice", "search_knowledge", {"knowledge_base": "規程集", "query": "日当"}))
    [hit] = found["hits"]
    assert hit["ref"] == "[1]" and "二千円" in hit["text"] and hit["file"] == "旅費規程.md"

    outsider = anyio.run(call, "bob", "search_knowledge", {"knowledge_base": "規程集", "query": "日当"})
    assert outsider.is_error and "見つかりません" in outsider.content[0].text
    secret = anyio.run(call, "alice", "search_knowledge", {"knowledge_base": "人事秘", "query": "日当"})
    assert secret.is_error and "mcp_above_clearance" in secret.content[0].text
    outcomes = [
        (json.loads(r.detail)["tool"], r.outcome, r.error_code) for r in audit_rows(database, "mcp_tool_served")
    ]
    assert outcomes == [
        ("list_knowledge_bases", "ok", None),
        ("search_knowledge", "ok", None),
        ("search_knowledge", "refused", "not_found"),
        ("search_knowledge", "refused", "mcp_above_clearance"),
    ]


def test_a_task_app_runs_with_the_callers_models_and_says_which_model_wrote_it(
    served: str, people: People, tool_model: str, upstream: ToolCallingUpstream
) -> None:
    upstream.plan(("say", "窓口の受付時間が変わります。"))

    async def run() -> tuple[object, object]:
        async with mcp_client(served, people.keys["alice"]) as mcp:
            listed = await mcp.call_tool("list_apps", {})
            inputs = {"purpose": "受付時間の変更を知らせる"}
            done = await mcp.call_tool("run_app", {"app": "generate", "inputs": inputs, "model": tool_model})
            return listed, done

    listed, done = anyio.run(run)
    assert "generate" in {app["name"] for app in result_json(listed)["apps"]}
    result = result_json(done)
    assert result["outputs"] and result["models"] == [tool_model]
    assert "確認されていません" in result["note"]
    assert any("受付時間の変更" in json.dumps(r.body, ensure_ascii=False) for r in upstream.chat_requests())
