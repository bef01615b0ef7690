"""``hiraga kb`` end to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from hiraga.cli.common import CLI_OPERATOR
from hiraga.cli.main import cli
from hiraga.knowledge import service
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import KbDocument
from hiraga.store.tables.knowledge import DocumentStatus
from shared_data import shared_data

from .conftest import CliTarget

LAW = shared_data("egov-law-xml", "411AC0000000128.xml")  # 不正アクセス禁止法, 14 articles


def run(target: CliTarget, *words: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, target.args(*words), input=stdin, env=target.env)


def setup_kb(target: CliTarget) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    assert run(target, "admin", "create-team", "情報政策課", "--org", "A市").exit_code == 0
    created = run(target, "kb", "create", "規程", "--team", "情報政策課", "--classification", "2")
    assert created.exit_code == 0, created.output
    assert "区分=2" in created.output


def test_ingest_list_search_and_remove(target: CliTarget, tmp_path: Path) -> None:
    setup_kb(target)
    guide = tmp_path / "guide.md"
    guide.write_text("# パスワード\n\nパスワードは十二文字以上とし、他人に教えてはならない。\n", encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a pdf")
    result = run(target, "kb", "ingest", "規程", str(guide), str(LAW), str(broken))
    assert result.exit_code == 1  # one file failed ...
    assert "取り込み完了: 2/3 件" in result.output  # ... alone
    assert "broken.pdf" in result.output and "PDF ファイルが壊れている" in result.output

    listed = run(target, "kb", "list")
    assert listed.exit_code == 0 and "規程" in listed.output and "文書=2/3" in listed.output

    lines = run(
        target, "kb", "search", "規程", "-", "--top-k", "2", stdin="パスワードの長さ\n不正アクセス行為の禁止\n\n"
    )
    assert lines.exit_code == 0, lines.output
    records = [json.loads(line) for line in lines.stdout.strip().split("\n")]
    assert [r["query"] for r in records] == ["パスワードの長さ", "不正アクセス行為の禁止", ""]
    first, second, empty = records
    assert first["hits"][0]["document"] == "guide.md" and "十二文字以上" in first["hits"][0]["text"]
    assert second["hits"][0]["document"] == LAW.name and second["hits"][0]["article"] == "第三条"
    assert {"rank", "chunk_id", "score", "text"} <= set(second["hits"][0]) and len(second["hits"]) == 2
    assert empty["hits"] == []

    human = run(target, "kb", "search", "規程", "パスワード")
    assert human.exit_code == 0 and "[1] guide.md" in human.output

    assert run(target, "kb", "rm", "規程", "--yes").exit_code == 0
    missing = run(target, "kb", "search", "規程", "パスワード")
    assert missing.exit_code == 1 and "見つかりません" in missing.output


def test_reingesting_the_same_file_is_reported_unchanged(target: CliTarget, tmp_path: Path) -> None:
    setup_kb(target)
    guide = tmp_path / "guide.md"
    guide.write_text("# 案内\n\n受付は九時からです。\n", encoding="utf-8")
    assert run(target, "kb", "ingest", "規程", str(guide)).exit_code == 0
    again = run(target, "kb", "ingest", "規程", str(guide))
    assert again.exit_code == 0 and "変更なし" in again.output


def test_worker_processes_jobs_queued_elsewhere(target: CliTarget) -> None:
    setup_kb(target)
    database = Database(target.database_url)
    try:
        with database.session() as db:
            scope = AccessScope(CLI_OPERATOR)
            kb = service.find_knowledge_base(db, scope, "規程")
            service.submit_document(
                db, scope, kb, filename="memo.txt", data="庁舎の開庁時間は八時半からです。".encode()
            )
        worker = run(target, "worker", "--once")
        assert worker.exit_code == 0, worker.output
        assert "1 件のジョブを処理しました" in worker.output
        with database.session() as db:
            document = db.scalar(select(KbDocument))
            assert document is not None and document.status is DocumentStatus.READY and document.chunk_count == 1
    finally:
        database.dispose()
    hits = run(target, "kb", "search", "規程", "開庁時間", "--json")
    assert json.loads(hits.stdout)["hits"][0]["document"] == "memo.txt"


def test_a_rerank_model_is_registered_and_named_on_a_knowledge_base(target: CliTarget) -> None:
    setup_kb(target)
    url = "http://127.0.0.1:9/v1"  # never called: naming a reranker makes no request
    env = {**target.env, "HIRAGA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1"}
    for name, clearance in (("reranker", "2"), ("reranker-public", "1")):
        words = ("models", "add", name, "--base-url", url, "--kind", "rerank", "--clearance", clearance, "--all-teams")
        added = CliRunner().invoke(cli, target.args(*words), env=env)
        assert added.exit_code == 0, added.output
    assert run(target, "kb", "reranker", "規程").output.strip() == "（なし: 組み込みの順位）"
    refused = run(target, "kb", "reranker", "規程", "reranker-public")
    assert refused.exit_code == 1 and "reranker_not_cleared" in refused.output
    chosen = run(target, "kb", "reranker", "規程", "reranker")
    assert chosen.exit_code == 0 and "再ランキング用モデル = reranker" in chosen.output
    assert run(target, "kb", "reranker", "規程").output.strip() == "reranker"
    assert run(target, "kb", "reranker", "規程", "--none").exit_code == 0
    assert run(target, "kb", "reranker", "規程").output.strip() == "（なし: 組み込みの順位）"
