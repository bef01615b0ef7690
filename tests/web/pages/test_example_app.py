"""The example app package (examples/hiraga-app-minutes) in the portal: its form (a file field named
``files``), the model called through the gateway (a stub upstream that speaks the OpenAI protocol),
rows checked in code, and its CSV artifact shown in the result and downloadable from the history."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import portal_pages
import pytest
from pages_support import csrf_from
from portal_pages import STUB_MODEL, stub_settings

from hiraga.apps.provider_side import discover_apps
from hiraga.portal.task_apps import runner
from hiraga.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hiraga-app-minutes"
stub, stub_models = portal_pages.stub, portal_pages.stub_models
ANSWER = "ToDo は次のとおりです。\n- [総務課] 会場を予約する（4月10日）\n- [情報政策課] 資料を配る\n以上です。"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example as if pip-installed: its entry point's class next to the built-in apps."""
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    module = importlib.import_module("hiraga_app_minutes.app")
    assert 'minutes_todo = "hiraga_app_minutes.app:MinutesTodoApp"' in (EXAMPLE / "pyproject.toml").read_text()
    monkeypatch.setattr(runner, "installed_apps", lambda: {**discover_apps(), "minutes_todo": module.MinutesTodoApp()})
    yield


def test_the_example_app_runs_in_the_portal_and_returns_a_csv(installed, as_user, stub_models, stub) -> None:
    client = as_user("amy")
    assert "/tasks/minutes_todo" in client.get("/catalogue").text
    page = client.get("/tasks/minutes_todo")
    assert 'name="files"' in page.text
    stub.scripts.append(("say", ANSWER))
    files = {"files": ("minutes.txt", "議題: 説明会の準備\n総務課が会場を予約する。".encode())}
    data = {"input_text": "", "output": "csv", "model": STUB_MODEL, "csrf_token": csrf_from(page.text)}
    result = client.post("/tasks/minutes_todo", data=data, files=files)
    assert result.status_code == 200, result.text
    sent = stub.chat_requests()[-1].body["messages"][-1]["content"]
    assert "総務課が会場を予約する" in sent  # the file's text reached the model
    assert "2 件の ToDo" in result.text and "以上です" not in result.text.split('data-testid="result-output"')[1]
    link = re.search(r'href="(/tasks/minutes_todo/runs/\d+/files/0)" download>todo.csv<', result.text)
    assert link, result.text
    download = client.get(link.group(1))
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines == ["担当,内容,期限", "総務課,会場を予約する,4月10日", "情報政策課,資料を配る,"]
    assert as_user("bea").get(link.group(1), headers={"accept": "text/html"}).status_code == 404
