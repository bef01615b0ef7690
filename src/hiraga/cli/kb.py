"""``hiraga kb ...`` and ``hiraga worker``: knowledge bases from the shell.

``hiraga kb search NAME -`` reads one query per line from stdin and prints one JSON line per query
(ranked hits with document name, chunk id, score and text), so quality can be measured from outside.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.cli.common import CLI_OPERATOR, data_dir_option, reports_errors, settings_for
from hiraga.errors import HiragaError
from hiraga.identity import directory
from hiraga.knowledge import service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.reindex import reindex_knowledge_base
from hiraga.knowledge.runtime import KnowledgeRuntime, SearchHit
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import KbDocument
from hiraga.store.tables.knowledge import DocumentStatus


@contextmanager
def _knowledge(settings: Settings) -> Iterator[tuple[Database, AccessScope, KnowledgeRuntime]]:
    migrate.upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        yield database, AccessScope(CLI_OPERATOR), KnowledgeRuntime(database, settings.data_dir)
    finally:
        database.dispose()


@contextmanager
def knowledge_context(data_dir: Path | None) -> Iterator[tuple[Database, AccessScope, KnowledgeRuntime]]:
    with _knowledge(settings_for(data_dir)) as found:
        yield found


@contextmanager
def worker_context(data_dir: Path | None) -> Iterator[tuple[Database, AccessScope, IngestWorker]]:
    """Like :func:`knowledge_context`, with an ingestion worker that takes over jobs whose heartbeat
    is older than the settings' ``kb_job_stale_seconds``."""
    settings = settings_for(data_dir)
    with _knowledge(settings) as (database, scope, runtime):
        yield database, scope, IngestWorker.from_settings(runtime, settings)


@click.group()
def kb() -> None:
    """ナレッジベース（文書検索・RAG 用の文書集合）の管理と検索。"""


@kb.command("create")
@click.argument("name")
@click.option("--team", "team", default=None, help="所有チーム名（省略時は --org の組織全体）")
@click.option("--org", "org", default=None, help="組織名（組織全体のナレッジベース、またはチーム名の区別に使用）")
@click.option("--classification", type=click.IntRange(1, 3), required=True, help="機密性区分 1〜3")
@click.option("--description", default="", help="説明")
@data_dir_option
@reports_errors
def create(
    name: str, team: str | None, org: str | None, classification: int, description: str, data_dir: Path | None
) -> None:
    """ナレッジベースを作成します。"""
    if team is None and org is None:
        raise click.UsageError("--team または --org を指定してください。")
    with knowledge_context(data_dir) as (database, scope, _), database.session() as db:
        team_id = directory.find_team(db, team, org).id if team else None
        org_id = None if team else directory.find_organisation(db, org or "").id
        created = service.create_knowledge_base(
            db,
            scope,
            name=name,
            team_id=team_id,
            organisation_id=org_id,
            classification=classification,
            description=description,
        )
        click.echo(f"ナレッジベースを作成しました: {created.name} (id={created.id}, 区分={created.classification})")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return found


def _submit_all(
    database: Database, scope: AccessScope, name: str, files: list[Path], tags: list[str]
) -> tuple[int, list[str]]:
    problems: list[str] = []
    with database.session() as db:
        target = service.find_knowledge_base(db, scope, name)
        for file in files:
            try:
                with db.begin_nested():
                    outcome = service.submit_document(
                        db, scope, target, filename=file.name, data=file.read_bytes(), tags=tags
                    )
                if outcome.outcome != "queued":
                    label = "同じ内容の文書が既にあります" if outcome.outcome == "duplicate" else "変更なし"
                    click.echo(f"  {file.name}: {label}（{outcome.document.name}）")
            except HiragaError as exc:
                problems.append(f"{file}: {exc.message}")
            except OSError as exc:
                problems.append(f"{file}: ファイルを読み込めません（{exc.strerror}）")
        return target.id, problems


def _documents(db: Session, kb_id: int) -> list[KbDocument]:
    return list(db.scalars(select(KbDocument).where(KbDocument.kb_id == kb_id).order_by(KbDocument.id)))


@kb.command("ingest")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tag", "tags", multiple=True, help="文書に付けるタグ（複数可）")
@data_dir_option
@reports_errors
def ingest(name: str, paths: tuple[Path, ...], tags: tuple[str, ...], data_dir: Path | None) -> None:
    """ファイル（またはディレクトリ内の全ファイル）を取り込みます。1 つの失敗は他に影響しません。"""
    files = _files(paths)
    with worker_context(data_dir) as (database, scope, worker):
        started = time.perf_counter()
        kb_id, problems = _submit_all(database, scope, name, files, list(tags))
        with click.progressbar(length=len(files), label="取り込み中", file=sys.stderr) as bar:
            while (job_id := worker.claim(kb_id)) is not None:
                if worker.process(job_id, kb_id=kb_id):
                    bar.update(1)
        with database.session() as db:
            documents = _documents(db, kb_id)
        names = {f.name for f in files}
        problems += [f"{d.name}: {d.error_message}" for d in documents if d.name in names and d.error_message]
        chunks = sum(d.chunk_count for d in documents if d.name in names)
        elapsed = time.perf_counter() - started
        click.echo(f"取り込み完了: {len(files) - len(problems)}/{len(files)} 件、{chunks} 区画（{elapsed:.1f} 秒）")
        for problem in problems:
            click.echo(f"  失敗 {problem}", err=True)
        if problems:
            sys.exit(1)


@kb.command("list")
@data_dir_option
@reports_errors
def list_(data_dir: Path | None) -> None:
    """ナレッジベースの一覧（文書数・区画数）を表示します。"""
    with knowledge_context(data_dir) as (database, scope, _), database.session() as db:
        for found in service.list_knowledge_bases(db, scope):
            documents = _documents(db, found.id)
            ready = [d for d in documents if d.status is DocumentStatus.READY]
            owner = f"team={found.team_id}" if found.team_id else f"org={found.organisation_id}（組織全体）"
            click.echo(
                f"{found.id}\t{found.name}\t{owner}\t区分={found.classification}\t"
                f"文書={len(ready)}/{len(documents)}\t区画={sum(d.chunk_count for d in ready)}"
            )


@kb.command("rm")
@click.argument("name")
@click.option("--yes", is_flag=True, help="確認せずに削除する")
@data_dir_option
@reports_errors
def remove(name: str, yes: bool, data_dir: Path | None) -> None:
    """ナレッジベースを文書・索引ごと削除します。"""
    if not yes:
        click.confirm(f"ナレッジベース「{name}」を削除しますか？", abort=True)
    with knowledge_context(data_dir) as (database, scope, runtime), database.session() as db:
        service.delete_knowledge_base(db, scope, service.find_knowledge_base(db, scope, name), runtime)
        click.echo(f"削除しました: {name}")


@kb.command("reranker")
@click.argument("name")
@click.argument("model", required=False)
@click.option("--none", "clear", is_flag=True, help="再ランキング用モデルを使わない")
@data_dir_option
@reports_errors
def reranker(name: str, model: str | None, clear: bool, data_dir: Path | None) -> None:
    """ナレッジベースの再ランキング用モデル（種類 rerank のモデル）を表示・設定します。"""
    with knowledge_context(data_dir) as (database, scope, _), database.session() as db:
        found = service.find_knowledge_base(db, scope, name)
        if model is None and not clear:
            click.echo(found.reranker_model or "（なし: 組み込みの順位）")
            return
        service.set_reranker(db, scope, found, None if clear else model)
        click.echo(f"{name}: 再ランキング用モデル = {found.reranker_model or 'なし'}")


@kb.command("reindex")
@click.argument("name")
@data_dir_option
@reports_errors
def reindex(name: str, data_dir: Path | None) -> None:
    """保存済みの区画から語と埋め込みを作り直し、索引を再構築します。"""
    with knowledge_context(data_dir) as (database, scope, runtime):
        with database.session() as db:
            kb_id = service.find_knowledge_base(db, scope, name).id
        with click.progressbar(length=1, label="再索引中", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            count = reindex_knowledge_base(runtime, kb_id, progress)
        click.echo(f"再索引しました: {name}（{count} 区画）")


def _hit_json(rank: int, hit: SearchHit) -> dict[str, object]:
    return {
        "rank": rank,
        "document": hit.document_name,
        "chunk_id": hit.chunk_id,
        "score": hit.score,
        "text": hit.text,
        "heading_path": list(hit.heading_path),
        "page": hit.page,
        "article": hit.article,
        "url": hit.url,
    }


@kb.command("search")
@click.argument("name")
@click.argument("query")
@click.option("--top-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する（QUERY が - のときは常に JSON Lines）")
@data_dir_option
@reports_errors
def search_(name: str, query: str, top_k: int, as_json: bool, data_dir: Path | None) -> None:
    """ナレッジベースを検索します（組み込みの順位。再ランキング用モデルは API と画面で使われます）。
    QUERY に - を渡すと標準入力の各行を 1 件の検索として扱います。"""
    with knowledge_context(data_dir) as (database, scope, runtime), database.session() as db:
        target = service.find_knowledge_base(db, scope, name)
        if query == "-":
            for line in sys.stdin:
                text = line.rstrip("\r\n")
                hits = service.search(db, scope, target, runtime, text, top_k=top_k) if text.strip() else []
                record = {"query": text, "hits": [_hit_json(i + 1, h) for i, h in enumerate(hits)]}
                click.echo(json.dumps(record, ensure_ascii=False))
            return
        hits = service.search(db, scope, target, runtime, query, top_k=top_k)
        if as_json:
            click.echo(
                json.dumps(
                    {"query": query, "hits": [_hit_json(i + 1, h) for i, h in enumerate(hits)]}, ensure_ascii=False
                )
            )
            return
        if not hits:
            click.echo("該当する文書は見つかりませんでした。")
        for rank, hit in enumerate(hits, start=1):
            where = " / ".join([*hit.heading_path, *([hit.article] if hit.article else [])])
            click.echo(f"[{rank}] {hit.document_name}  {where}  (score={hit.score:.4f}, chunk={hit.chunk_id})")
            click.echo("    " + hit.text[:200].replace("\n", " "))


@click.command("worker")
@click.option("--once", is_flag=True, help="待ちの取り込みジョブを処理したら終了する")
@click.option("--poll", type=float, default=2.0, show_default=True, help="ジョブ確認の間隔（秒）")
@data_dir_option
@reports_errors
def worker(once: bool, poll: float, data_dir: Path | None) -> None:
    """取り込みジョブを処理するワーカー（スケールアウト用。複数台で同じジョブ表を処理できます）。"""
    with worker_context(data_dir) as (_, _scope, ingest_worker):
        click.echo(f"ワーカーを開始しました: {ingest_worker.name}", err=True)
        while True:
            handled = ingest_worker.run_pending()
            if handled:
                click.echo(f"{handled} 件のジョブを処理しました。", err=True)
            if once:
                return
            time.sleep(poll)
