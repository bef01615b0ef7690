"""Task app pages and the catalogue: forms generated from each app's definition, runs through the
gateway with the chosen model and 機密性, errors on bad input, favourites and recently used."""

from __future__ import annotations

import re
from pathlib import Path

import portal_pages
import pytest
from portal_pages import REPLY, STUB_MODEL, stub_settings, submit

from hiraga.settings import Settings

stub, stub_models = portal_pages.stub, portal_pages.stub_models
TASKS = {"generate": "文章生成", "summarise": "要約", "proofread": "校正", "translate": "翻訳"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_app_has_a_labelled_form(as_user, stub_models, name: str) -> None:
    page = as_user("amy").get(f"/tasks/{name}").text
    assert f"<h1>{TASKS[name]}" in page
    for field_id in re.findall(r'<(?:textarea|select|input) id="([^"]+)"', page):
        assert f'for="{field_id}"' in page, field_id  # every field has its label


@pytest.mark.parametrize(
    ("name", "inputs", "level"),
    [
        ("generate", {"purpose": "窓口の受付時間の変更を知らせる", "audience": "residents", "tone": "polite"}, "1"),
        ("summarise", {"input_text": "令和6年4月1日から手数料を改定します。", "style": "bullets"}, "2"),
        ("proofread", {"input_text": "会議は午後３時から始めまする。", "focus": "all"}, "1"),
        ("translate", {"input_text": "窓口の受付時間が変わります。", "target_language": "en"}, "2"),
    ],
)
def test_each_task_app_runs_through_the_gateway(as_user, stub_models, stub, name, inputs, level) -> None:
    client = as_user("amy")
    response = submit(
        client, f"/tasks/{name}", f"/tasks/{name}", {**inputs, "model": STUB_MODEL, "classification": level}
    )
    assert response.status_code == 200, response.text
    assert f"回答したモデル: <strong>{STUB_MODEL}</strong>" in response.text
    sent = stub.chat_requests()[-1]
    assert sent.body["model"] == "stub-model"
    prompt = sent.body["messages"][-1]["content"]
    assert next(iter(inputs.values())) in prompt
    if name == "proofread":
        assert "モデルは修正が必要な箇所を見つけませんでした" in response.text  # the stub proposes no edits
        rules = response.text.split('data-testid="rule-notes"', 1)[1]
        assert "<mark>３</mark>" in rules and "3" in rules  # the full-width digit, found by a rule
    else:
        assert REPLY in response.text
    assert f'<a href="/tasks/{name}">' in client.get("/").text  # now among the recently used


def test_bad_input_shows_the_form_again_with_the_error(as_user, stub_models, stub) -> None:
    client = as_user("amy")
    missing = submit(client, "/tasks/generate", "/tasks/generate", {"purpose": "", "model": STUB_MODEL})
    assert missing.status_code == 400 and "「目的・伝えたいこと」は必須です" in missing.text
    assert 'aria-invalid="true"' in missing.text
    same = submit(
        client,
        "/tasks/translate",
        "/tasks/translate",
        {"input_text": "Hello", "source_language": "en", "target_language": "en", "model": STUB_MODEL},
    )
    assert same.status_code == 400 and "同じ言語" in same.text
    wrong_file = submit(
        client,
        "/tasks/summarise",
        "/tasks/summarise",
        {"model": STUB_MODEL},
        files=[("documents", ("x.exe", b"MZ"))],
    )
    assert wrong_file.status_code == 400 and "x.exe" in wrong_file.text
    refused = submit(
        client,
        "/tasks/summarise",
        "/tasks/summarise",
        {"input_text": "秘密", "model": STUB_MODEL, "classification": "3"},
    )
    assert refused.status_code == 403 and "機密性3" in refused.text
    assert stub.chat_requests() == []


def test_unknown_task_app_is_not_found(as_user) -> None:
    assert as_user("amy").get("/tasks/no-such-app").status_code == 404


def test_catalogue_search_and_favourites(as_user, stub_models) -> None:
    client = as_user("amy")
    page = client.get("/catalogue").text
    for title in ("チャット", "文章生成", "校正", "翻訳"):
        assert title in page
    found = client.get("/catalogue", params={"q": "翻訳"}).text
    assert "/tasks/translate" in found and "/tasks/proofread" not in found
    marked = submit(
        client, "/catalogue", "/catalogue/favourite", {"url": "/tasks/translate", "favourite": "1", "back": "/"}
    )
    assert marked.status_code == 303 and marked.headers["location"].startswith("/?")
    home = client.get("/").text
    assert home.index("/tasks/translate") < home.index("/tasks/generate")  # favourites come first
    assert "お気に入りから外す" in home
    unknown = submit(client, "/catalogue", "/catalogue/favourite", {"url": "/elsewhere", "favourite": "1"})
    assert unknown.status_code == 400


def test_summary_checks_are_precise_and_shown_once(as_user, stub_models, stub) -> None:
    """「1万8千人」 stands in the source: no warning for it; the invented date and name get one each."""
    stub.scripts.append(("say", "- 来場者は1万8千人。\n- 令和7年5月1日に横浜市で開催。"))
    source = "さくら市の催しには令和7年4月1日に1万8千人が来場しました。"
    page = submit(
        as_user("amy"), "/tasks/summarise", "/tasks/summarise", {"input_text": source, "model": STUB_MODEL}
    ).text
    assert "「1万」" not in page and "「1万8千」" not in page
    assert page.count("「令和7年5月1日」は原文に見つかりません") == 1
    assert page.count("「横浜市」は原文にありません") == 1
