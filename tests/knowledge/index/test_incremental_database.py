"""The database as the embedded index's source: documents' versions, and ingestion served by deltas
(SQLite and PostgreSQL without pgvector, where the embedded index is the one used)."""

from __future__ import annotations

from pathlib import Path

from hiraga.knowledge import service
from hiraga.knowledge.index.base import ChunkFilter
from hiraga.knowledge.index.embedded import EmbeddedIndex
from hiraga.knowledge.runtime import DatabaseChunkSource
from hiraga.knowledge.tokenise import search_terms
from hiraga.store.tables import KbDocument

from ..conftest import World

DOCUMENTS = {
    "juminhyo.md": "# 住民票\n\n住民票の写しは市民課の窓口で交付します。本人確認書類が必要です。\n",
    "zei.md": "# 税\n\n市県民税の申告期限は三月十五日です。申告は税務課の窓口で受け付けます。\n",
    "gomi.md": "# ごみ\n\n燃えるごみは月曜日と木曜日の朝八時までに出してください。\n",
}
QUERIES = ["住民票の交付", "申告期限", "燃えるごみ", "粗大ごみの申込み", "窓口"]


def names(world: World, kb_id: int, query: str) -> list[str]:
    return [h.document_name for h in world.search(kb_id, query, top_k=10)]


def index_of(world: World) -> EmbeddedIndex:
    index = world.runtime.index
    assert isinstance(index, EmbeddedIndex)
    return index


def assert_like_a_rebuild(world: World, kb_id: int, root: Path) -> None:
    reference = EmbeddedIndex(root, DatabaseChunkSource(world.database))
    for query in QUERIES:
        terms = search_terms(query)
        got = index_of(world).lexical(kb_id, terms, 100, ChunkFilter())
        assert got == reference.lexical(kb_id, terms, 100, ChunkFilter())


def test_document_versions_are_the_ready_documents_with_the_generation(world: World) -> None:
    kb_id = world.team_kb()
    source = DatabaseChunkSource(world.database)
    assert source.document_versions(kb_id) == (0, {})
    world.add(kb_id, "juminhyo.md", DOCUMENTS["juminhyo.md"].encode())
    assert source.document_versions(kb_id) == (0, {})  # pending documents are not searchable
    world.ingest()
    with world.database.session() as db:
        document = db.query(KbDocument).one()
        expected = {document.id: document.content_hash}
    assert source.document_versions(kb_id) == (1, expected)
    assert [r.document_id for r in source.document_rows(kb_id, [document.id])] == [document.id]
    assert list(source.document_rows(kb_id, [document.id + 1])) == []
    assert source.document_versions(kb_id + 1000) == (0, {})


def test_ingestion_and_deletion_reach_search_through_deltas(world: World, tmp_path: Path) -> None:
    kb_id = world.team_kb()
    for name in ("juminhyo.md", "zei.md"):
        world.add(kb_id, name, DOCUMENTS[name].encode())
    world.ingest()
    assert names(world, kb_id, "住民票の交付")[0] == "juminhyo.md"
    world.add(kb_id, "gomi.md", DOCUMENTS["gomi.md"].encode())
    world.ingest()
    assert names(world, kb_id, "燃えるごみ")[0] == "gomi.md"
    assert len(index_of(world).snapshot(kb_id).parts) == 2  # base + the new document's delta
    world.add(kb_id, "gomi.md", "# ごみ\n\n粗大ごみの収集は事前の申込みが必要です。\n".encode())
    world.ingest()
    assert not [h for h in world.search(kb_id, "燃えるごみ 月曜日 木曜日") if "月曜日" in h.text]  # the old chunk
    assert names(world, kb_id, "粗大ごみの申込み")[0] == "gomi.md"
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, world.scope("admin_a"), kb_id)
        zei = db.query(KbDocument).filter_by(kb_id=kb_id, name="zei.md").one()
        service.delete_document(db, world.scope("admin_a"), kb, zei.id)
    assert "zei.md" not in names(world, kb_id, "申告期限")
    snapshot = index_of(world).snapshot(kb_id)
    # the base with zei.md's chunks deleted, and the new gomi.md (the delta of the old one emptied and went)
    assert len(snapshot.parts) == 2 and len(snapshot.parts[0].deleted) > 0 and not len(snapshot.parts[1].deleted)
    assert_like_a_rebuild(world, kb_id, tmp_path / "reference")
