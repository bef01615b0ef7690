"""The same hybrid-search behaviour from the embedded index files (SQLite) and from PostgreSQL with
pgvector (HNSW) + full-text, both with the packaged e5 model. PostgreSQL 16 + pgvector comes from
``pgserver`` (the machine's PostgreSQL has no pgvector)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hiraga.store import migrate
from hiraga.store.database import Database

from ..conftest import World, make_world

DOCUMENTS = {
    "leave.md": "# 休暇\n\n年次有給休暇は前年度の出勤率が八割以上の職員に付与されます。\n",
    "tax.md": "# 税\n\n市県民税の申告期限は三月十五日です。\n",
    "garbage.md": "# ごみ\n\n燃えるごみは月曜日と木曜日の朝八時までに出してください。\n",
}


@pytest.fixture(scope="module")
def pgvector_url() -> Iterator[str]:
    """As root, pgserver runs PostgreSQL as its own user and opens the folders above the data folder
    to it; pytest closes ``/tmp/pytest-of-<user>`` again whenever a pytest session starts on the
    machine, so the data folder lives in a temporary folder of its own."""
    pgserver = pytest.importorskip("pgserver")
    home = Path(tempfile.mkdtemp(prefix="hiraga-pgvector-"))
    server = pgserver.get_server(home / "data", cleanup_mode="stop")
    name = f"kb_{uuid.uuid4().hex[:8]}"
    server.psql(f"CREATE DATABASE {name};")
    url = sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg", database=name).render_as_string(False)
    migrate.upgrade(url)
    yield url
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(params=["embedded-files", "pgvector"])
def backend_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = (
        f"sqlite:///{tmp_path / 'kb.db'}"
        if request.param == "embedded-files"
        else request.getfixturevalue("pgvector_url")
    )
    if request.param == "embedded-files":
        migrate.upgrade(url)
    database = Database(url)
    world = make_world(database, tmp_path / "data", with_embedder=True)
    kb_id = world.team_kb(f"kb-{uuid.uuid4().hex[:6]}")
    for name, text in DOCUMENTS.items():
        world.add(kb_id, name, text.encode())
    world.ingest()
    world.kb_id = kb_id  # type: ignore[attr-defined]
    yield world
    if request.param == "pgvector":
        with database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "TRUNCATE kb_ingest_jobs, kb_chunks, kb_documents, knowledge_bases, teams, organisations CASCADE"
                )
            )
    database.dispose()


def test_the_backend_is_the_one_intended(backend_world: World) -> None:
    dialect = backend_world.database.engine.dialect.name
    assert backend_world.runtime.pgvector is (dialect == "postgresql")


def test_a_paraphrase_without_shared_words_is_found_by_the_dense_half(backend_world: World) -> None:
    # no word or character bigram of the query occurs in any document: only the e5 vectors can match
    hits = backend_world.search(backend_world.kb_id, "休みを取るための条件", top_k=1)  # type: ignore[attr-defined]
    assert hits[0].document_name == "leave.md"


@pytest.mark.parametrize(
    ("query", "document"),
    [("申告の締め切りはいつ", "tax.md"), ("燃えるごみの収集日", "garbage.md"), ("出勤率 八割", "leave.md")],
)
def test_both_backends_rank_the_same_document_first(backend_world: World, query: str, document: str) -> None:
    assert backend_world.search(backend_world.kb_id, query, top_k=3)[0].document_name == document  # type: ignore[attr-defined]
