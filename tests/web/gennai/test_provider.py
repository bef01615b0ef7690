"""Contract tests, caller → hiraga: hiraga's own apps over the Gennai AI-app protocol at
/gennai/apps/{name} (sync, async with status_url, keys, errors), and the round trip — hiraga's
registry registers hiraga's own app over the protocol and runs it through a real HTTP server."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from app_world import World
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway_stub import ServerThread

from hiraga.apps.forms import Upload
from hiraga.apps.protocol import TokenCount, UsageEntry
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import InvalidInput
from hiraga.web.gennai.routes import RUNNER_KEY

ECHO_FORM = {
    "question": {"type": "text", "title": "質問", "required": True},
    "doc": {"type": "file", "title": "資料", "accept": [".txt"], "max_files": 1},
}


class EchoApp:
    """A test app: answers with what it received, reporting one model's usage."""

    def definition(self) -> AppDefinition:
        return AppDefinition(title="こだま", description="入力を返します。", form=ECHO_FORM)

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        if inputs["question"] == "だめ":
            raise InvalidInput("「だめ」は受け付けません。")
        names = [u.filename + ":" + u.data.decode() for u in files.get("doc", [])]
        usage = UsageEntry(model_version="echo-model", tokens=TokenCount(input_tokens=4, output_tokens=2))
        return AppResult(outputs=f"こだま: {inputs['question']} {names}", usage=[usage])


@pytest.fixture
def echo_app(app: FastAPI) -> FastAPI:
    app.state.ctx.extras[RUNNER_KEY].apps["echo"] = EchoApp()
    return app


def issue_key(client: TestClient, world: World, app_name: str = "echo") -> str:
    body = {"app_name": app_name, "name": "ポータル用", "team_id": world.team_a}
    response = client.post("/api/v1/provided-apps/keys", json=body, headers=world.auth("admin_a"))
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def test_sync_call_answers_outputs_and_usage(echo_app: FastAPI, client: TestClient, world: World):
    key = issue_key(client, world)
    doc = base64.b64encode("資料本文".encode()).decode()
    body = {"inputs": {"question": "天気", "files": [{"key": "doc", "files": [{"filename": "a.txt", "content": doc}]}]}}
    response = client.post("/gennai/apps/echo", json=body, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outputs"] == "こだま: 天気 ['a.txt:資料本文']"
    assert answer["usageMetadata"] == [
        {
            "modelVersion": "echo-model",
            "requestCount": 1,
            "tokens": {"inputTokens": 4, "outputTokens": 2, "totalTokens": 6},
        }
    ]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"x-api-key": "hga-wrong"}, 401), ({"x-api-key": "SUMMARISE_KEY"}, 401)],
)
def test_keys_are_per_app(echo_app: FastAPI, client: TestClient, world: World, headers: dict[str, str], status: int):
    issue_key(client, world)
    if headers.get("x-api-key") == "SUMMARISE_KEY":
        headers = {"x-api-key": issue_key(client, world, "summarise")}
    response = client.post("/gennai/apps/echo", json={"inputs": {"question": "x"}}, headers=headers)
    assert response.status_code == status
    assert isinstance(response.json()["error"], str) and response.json()["error"]


@pytest.mark.parametrize(
    ("inputs", "words"),
    [({}, "「質問」は必須です"), ({"question": "だめ"}, "受け付けません"), ({"question": 3}, "文字列")],
)
def test_bad_requests_answer_400_with_the_protocol_error(
    echo_app: FastAPI, client: TestClient, world: World, inputs: dict[str, Any], words: str
):
    key = issue_key(client, world)
    response = client.post("/gennai/apps/echo", json={"inputs": inputs}, headers={"x-api-key": key})
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_unknown_apps_are_404(echo_app: FastAPI, client: TestClient, world: World):
    key = issue_key(client, world)
    assert client.post("/gennai/apps/nothing", json={"inputs": {}}, headers={"x-api-key": key}).status_code == 404


def test_async_call_gives_202_and_a_status_url_to_poll(echo_app: FastAPI, client: TestClient, world: World):
    key = issue_key(client, world)
    accepted = client.post(
        "/gennai/apps/echo?mode=async", json={"inputs": {"question": "遅延"}}, headers={"x-api-key": key}
    )
    assert accepted.status_code == 202
    status_url, request_id = accepted.json()["status_url"], accepted.json()["request_id"]
    assert status_url.endswith(f"/gennai/apps/echo/requests/{request_id}")
    seen = []
    for _ in range(200):
        state = client.get(status_url, headers={"x-api-key": key}).json()
        seen.append(state["status"])
        if state["status"] in ("COMPLETED", "ERROR"):
            break
        time.sleep(0.02)
    assert seen[-1] == "COMPLETED" and state["outputs"].startswith("こだま: 遅延")
    assert set(seen) <= {"PENDING", "IN_PROGRESS", "COMPLETED"}
    other_key = issue_key(client, world)
    assert client.get(status_url, headers={"x-api-key": other_key}).status_code == 404


def test_the_definition_is_published_for_registration(echo_app: FastAPI, client: TestClient, world: World):
    key = issue_key(client, world)
    definition = client.get("/gennai/apps/echo", headers={"x-api-key": key}).json()
    assert definition["form"]["question"]["type"] == "text" and definition["title"] == "こだま"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_round_trip_hiraga_registers_its_own_app(echo_app: FastAPI, world: World, mode: str):
    """The registry registers /gennai/apps/echo of a running hiraga and runs it over the protocol."""
    with ServerThread(echo_app) as base_url, TestClient(echo_app) as client:
        key = issue_key(client, world)
        definition = client.get("/gennai/apps/echo", headers={"x-api-key": key}).json()
        suffix = "?mode=async" if mode == "async" else ""
        registration = {
            "slug": f"own-echo-{mode}",
            "name": "hiraga のこだま",
            "endpoint_url": f"{base_url}/gennai/apps/echo{suffix}",
            "api_key": key,
            "form_definition": definition["form"],
            "mode": mode,
            "owner_team_id": world.team_a,
            "team_ids": [world.team_a],
            "status": "published",
            "timeout_seconds": 30,
        }
        registered = client.post("/api/v1/apps", json=registration, headers=world.auth("admin_a"))
        assert registered.status_code == 201, registered.text
        run = client.post(
            f"/api/v1/apps/{registered.json()['id']}/runs",
            json={"inputs": {"question": "往復"}},
            headers=world.auth("member_a"),
        )
        assert run.status_code == 201, run.text
        assert run.json()["outputs"] == "こだま: 往復 []"
        assert (run.json()["input_tokens"], run.json()["output_tokens"]) == (4, 2)


@pytest.mark.slow
@pytest.mark.model
def test_round_trip_with_the_built_in_summarise_app_and_the_embedded_model(app: FastAPI, world: World):
    with ServerThread(app) as base_url, TestClient(app) as client:
        key = issue_key(client, world, "summarise")
        definition = client.get("/gennai/apps/summarise", headers={"x-api-key": key}).json()
        registration = {
            "slug": "own-summarise",
            "name": "要約（hiraga）",
            "endpoint_url": f"{base_url}/gennai/apps/summarise",
            "api_key": key,
            "form_definition": definition["form"],
            "owner_team_id": world.team_a,
            "team_ids": [world.team_a],
            "status": "published",
            "timeout_seconds": 300,
        }
        app_id = client.post("/api/v1/apps", json=registration, headers=world.auth("admin_a")).json()["id"]
        text = "市役所の窓口は月曜から金曜の午前8時30分から午後5時15分まで開いています。土日祝日は休みです。"
        run = client.post(
            f"/api/v1/apps/{app_id}/runs",
            json={"inputs": {"input_text": text, "length": "short"}},
            headers=world.auth("member_a"),
        )
        assert run.status_code == 201, run.text
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", run.json()["outputs"])
        assert run.json()["output_tokens"] > 0
