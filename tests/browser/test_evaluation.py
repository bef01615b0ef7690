"""Evaluation pages in a real browser against a real ``hiraga serve``: a team admin opens 評価 from
the header navigation, uploads a private test set with the file picker (a broken file first: the
error names the line), sees it listed under its run name, and opens the arena; a member compares two
runs (scores side by side, B − A, the stored pairwise judgement). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser, expect
from test_apps import log_in, seed_people
from test_first_run import Server, start_server
from test_portal import axe_violations
from test_portal import log_in as log_in_with

from hiraga.evaluation import runs
from hiraga.evaluation.base import suite_named
from hiraga.store.database import Database
from hiraga.store.tables import EvalPairwise, EvalResult, EvalRun

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
GOOD = '{"prompt": "転入届の期限は？", "reference": "14日以内", "scorer": "contains"}\n'


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    yield from start_server(tmp_path, database_url)


def test_a_team_admin_uploads_a_private_set_and_opens_the_arena(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = log_in(browser, server.base_url, "admin@city.example.jp")
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="評価").click()
    expect(page.get_by_role("heading", name="行政実務適性評価", level=1)).to_be_visible()
    expect(page.get_by_text("完了した評価はまだありません。")).to_be_visible()

    page.get_by_role("link", name="非公開テストセット").click()
    broken, good = tmp_path / "broken.jsonl", tmp_path / "faq.jsonl"
    broken.write_text(GOOD + '{"prompt": "様式は？", "scorer": "bleu"}\n', encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    for path, name in ((broken, "壊れたセット"), (good, "窓口FAQ")):
        page.get_by_role("textbox", name="名前", exact=True).fill(name)
        page.get_by_label("機密性区分").select_option("2")
        page.get_by_label("ファイル").set_input_files(str(path))
        page.get_by_role("button", name="登録").click()
        if path == broken:
            expect(page.get_by_role("alert")).to_contain_text("2 行目")
    expect(page.get_by_role("status")).to_contain_text("テストセットを登録しました。")
    row = page.get_by_role("row").filter(has_text="窓口FAQ")
    expect(row).to_contain_text("set:")
    expect(page.get_by_role("row").filter(has_text="壊れたセット")).to_have_count(0)

    page.goto(f"{server.base_url}/eval/arena")
    expect(page.get_by_role("heading", name="アリーナ（匿名比較）", level=1)).to_be_visible()
    expect(page.get_by_text("アリーナが有効なチームに所属していません。")).to_be_visible()
    page.close()


def seed_compared_runs(database_url: str) -> tuple[int, int]:
    """Two completed translation runs (B worse on one item) and a stored pairwise judgement."""
    database = Database(database_url)
    version = suite_named("translation").version
    outputs = {"ja-en:06": ("The fee is 300 yen per copy.", 1.0, "The fee is free.", 0.2)}
    outputs["ja-en:21"] = ("Stay away from the coast.", 0.5, "Stay away from the coast.", 0.5)
    with database.session() as db:
        ids = []
        for model in ("stub-a", "stub-b"):
            run = EvalRun(suite="translation", suite_version=version, model=model, state=runs.COMPLETED)
            db.add(run)
            db.flush()
            ids.append(run.id)
            for ordinal, (item, answers) in enumerate(outputs.items()):
                output, score = answers[:2] if model == "stub-a" else answers[2:]
                db.add(EvalResult(run_id=run.id, item_id=item, ordinal=ordinal, prompt="訳して", output=output,
                                  score=score, reference="The fee is 300 yen per copy."))  # fmt: skip
        verdicts = [{"item": "ja-en:06", "ab": "A", "ba": "B", "outcome": 0.0}]
        verdicts.append({"item": "ja-en:21", "ab": "A", "ba": "A", "outcome": 0.5})
        db.add(EvalPairwise(
            suite="translation", run_a_id=ids[0], run_b_id=ids[1], judge_model="judge-x", judge_version="pairwise-v1",
            items=2, b_wins=0, ties=1, a_wins=1, position_bias=1, judge_errors=0, b_win_rate=0.25, low=0.0, high=0.5,
            verdicts_json=json.dumps(verdicts, ensure_ascii=False),
        ))  # fmt: skip
        db.commit()
    database.dispose()
    return ids[0], ids[1]


def test_the_compare_page_shows_scores_side_by_side_and_the_stored_pairwise_judgement(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    seed_people(database_url, tmp_path / "data")
    run_a, run_b = seed_compared_runs(database_url)
    for server in start_server(tmp_path, database_url):
        page = log_in_with(browser, server.base_url, "member@city.example.jp", bypass_csp=True)  # for axe
        page.goto(f"{server.base_url}/eval/runs/{run_a}")
        page.get_by_role("spinbutton", name="比べる実行（同じスイート）の番号").fill(str(run_b))
        page.get_by_role("button", name="比較する").click()
        expect(page.get_by_role("heading", name="実行の比較", level=1)).to_be_visible()
        expect(page.get_by_test_id("difference")).to_contain_text("-0.400")
        judged = page.get_by_test_id("pairwise")
        for shown in ("0.250", "judge-x", "pairwise-v1", "0・1・1"):
            expect(judged).to_contain_text(shown)
        worse = page.get_by_role("row").filter(has_text="ja-en:06")
        for shown in ("The fee is free.", "1.000", "0.200", "-0.800", "A の勝ち"):
            expect(worse).to_contain_text(shown)
        expect(page.get_by_role("row").filter(has_text="ja-en:21")).to_contain_text("引き分け")
        assert axe_violations(page) == []

        page.goto(f"{server.base_url}/eval/compare?a={run_b}&b={run_a}")  # not judged in this order
        expect(page.get_by_text("この 2 つの実行の一対比較はまだありません。")).to_be_visible()
        expect(page.get_by_test_id("difference")).to_contain_text("+0.400")
        page.close()
