"""Task apps like chat: a run streamed as SSE (steps, the model, text pieces, then the result's
HTML), kept in the user's history (only theirs), and stopped by the page's stop button (the client
leaves): the model call is cancelled and the partial output kept as a stopped run."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import portal_pages
import pytest
from gateway_stub import ServerThread
from pages_support import csrf_from, post_form
from portal_pages import STUB_MODEL, stub_settings
from sqlalchemy import select

from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import DatasetItem, TaskRun

stub, stub_models = portal_pages.stub, portal_pages.stub_models
SSE = {"accept": "text/event-stream"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


def events_of(body: str) -> list[tuple[str, dict]]:
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_a_streamed_run_shows_steps_model_pieces_and_the_result_then_stays_in_history(
    as_user, stub_models, stub
) -> None:
    client = as_user("amy")
    stub.scripts.append(("say", "- 来場者は1万8千人。\n- 開催は令和7年5月1日。"))
    page = client.get("/tasks/summarise")
    assert "まだ実行していません" in page.text
    source = "令和7年4月1日の催しには1万8千人が来場しました。"
    data = {"input_text": source, "model": STUB_MODEL, "csrf_token": csrf_from(page.text)}
    response = client.post("/tasks/summarise", data=data, headers=SSE)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = events_of(response.text)
    names = [name for name, _ in events]
    assert names[0] == "progress" and "model" in names and names[-1] == "done"
    assert names.index("model") < names.index("delta")
    assert events[names.index("model")][1]["name"] == STUB_MODEL
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    assert streamed == "- 来場者は1万8千人。\n- 開催は令和7年5月1日。"
    assert any(d["step"].startswith("数字・日付") for n, d in events if n == "progress")
    done = events[-1][1]
    assert done["status"] == "ok" and "「令和7年5月1日」は原文に見つかりません" in done["html"]
    assert "1万8千人" in done["html"] and done["html"].count("原文に見つかりません") == 1
    run_url = f"/tasks/summarise/runs/{done['run_id']}"
    assert run_url in done["html"] and f'action="{run_url}/feedback"' in done["html"]  # 👍/👎 under the output
    history = client.get("/tasks/summarise").text
    assert run_url in history and "令和7年4月1日の催しには" in history
    again = client.get(run_url)
    assert again.status_code == 200 and "「令和7年5月1日」は原文に見つかりません" in again.text
    assert 'aria-current="page"' in again.text.split('data-testid="history"', 1)[1]
    other = as_user("bea")
    assert other.get(run_url, headers={"accept": "text/html"}).status_code == 404  # only the user's own runs
    assert run_url not in other.get("/tasks/summarise").text


def test_bad_input_is_refused_before_the_stream_starts(as_user, stub_models, stub) -> None:
    client = as_user("amy")
    page = client.get("/tasks/generate")
    data = {"purpose": "", "model": STUB_MODEL, "csrf_token": csrf_from(page.text)}
    response = client.post("/tasks/generate", data=data, headers=SSE)
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert stub.chat_requests() == []


def test_stop_cancels_the_model_call_and_keeps_the_partial_output(
    as_user, stub_models, stub, database: Database
) -> None:
    client = as_user("amy")
    token = csrf_from(client.get("/tasks/summarise").text)
    stub.scripts.append("slow_sse")  # one event every 50 ms, 200 events
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    with ServerThread(client.app) as base_url:
        pieces = 0
        with httpx.stream(
            "POST",
            f"{base_url}/tasks/summarise",
            data={"input_text": "長い文章を要約してください。", "model": STUB_MODEL, "csrf_token": token},
            headers={**SSE, "cookie": cookies},
            timeout=30,
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                pieces += line.startswith("event: delta")
                if pieces >= 3:
                    break  # the user pressed 停止
        kept: list[TaskRun] = []
        for _ in range(100):
            with database.session() as db:
                kept = db.query(TaskRun).all()
            if kept:
                break
            time.sleep(0.1)
    assert len(kept) == 1 and kept[0].status == "stopped" and 0 < len(kept[0].text) < 150
    deadline = time.monotonic() + 10
    while not stub.chat_requests()[-1].client_closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stub.chat_requests()[-1].client_closed
    assert "（停止）" in client.get("/tasks/summarise").text


def test_feedback_under_a_run_keeps_what_the_model_was_sent_and_only_the_owner_may_give_it(
    as_user, stub_models, stub, database: Database, people
) -> None:
    admin = as_user("alice")
    post_form(admin, "/feedback-data/review", f"/feedback-data/teams/{people.team_a}/policy", {"training_use": "1"})
    client = as_user("amy")
    stub.scripts.append(("say", "開催は5月1日です。"))
    page = client.get("/tasks/translate")
    data = {"input_text": "The event is on 1 May.", "model": STUB_MODEL, "csrf_token": csrf_from(page.text)}
    shown = client.post("/tasks/translate", data=data)
    run_id = int(re.findall(r"/tasks/translate/runs/(\d+)/feedback", shown.text)[0])
    assert "学習データ" in shown.text and 'name="category"' in shown.text  # the consent notice and the reasons
    url = f"/tasks/translate/runs/{run_id}"
    form = {"rating": "bad", "category": "numbers", "comment": "日付が違う", "corrected_answer": "開催は5月1日。"}
    bad = post_form(client, url, f"{url}/feedback", {**form, "category": "typo"})
    assert bad.status_code == 400 and "分類が正しくありません" in bad.text
    sent = post_form(client, url, f"{url}/feedback", form)
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"{url}?notice=feedback_saved")
    again = client.get(url).text
    assert "評価済み" in again and "数値・日付の誤り" in again and "開催は5月1日。</textarea>" in again
    with database.session() as db:
        [item] = db.scalars(select(DatasetItem))
        content = json.loads(item.content)
    [request] = stub.chat_requests()
    assert request.body is not None and content["prompt"] == request.body["messages"]  # as the model saw it
    assert content["prompt"][0]["role"] == "system" and content["answer"] == "開催は5月1日です。"
    assert (item.task, item.rating, item.category, item.model_name) == ("translate", "bad", "numbers", STUB_MODEL)
    assert content["corrected"] == "開催は5月1日。"
    other = as_user("bea")
    stolen = post_form(other, "/tasks/translate", f"{url}/feedback", {"rating": "good"})
    assert stolen.status_code == 404
