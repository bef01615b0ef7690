"""``hiraga kb reindex``: stored chunks get their terms back and a new generation is published."""

from __future__ import annotations

from sqlalchemy import select

from hiraga.knowledge.reindex import reindex_knowledge_base
from hiraga.store.tables import KbChunk, KnowledgeBase

from .conftest import World

GUIDE = "# 窓口案内\n\n住民票の写しは市民課の窓口で交付します。\n".encode()


def test_reindex_rebuilds_terms_and_publishes_a_new_generation(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    world.ingest()
    with world.database.session() as db:
        before = db.get(KnowledgeBase, kb_id)
        assert before is not None
        generation = before.generation
        for chunk in db.scalars(select(KbChunk)):
            chunk.terms = ""  # as if indexed by a broken tokeniser
        before.generation += 1
    assert world.search(kb_id, "住民票") == []
    assert reindex_knowledge_base(world.runtime, kb_id) == 1
    with world.database.session() as db:
        after = db.get(KnowledgeBase, kb_id)
        assert after is not None and after.generation == generation + 2
    assert world.search(kb_id, "住民票")[0].document_name == "guide.md"
