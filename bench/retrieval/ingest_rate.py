"""Ingestion throughput through the real path (job table → parse → chunk → Sudachi → e5 → commit),
on SQLite in a temporary data directory, with and without the embedding model.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.ingest_rate
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from hiraga.identity.principal import Principal
from hiraga.knowledge import service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import KnowledgeBase, Organisation, Team

FILES = [
    Path("/work/shared/data/egov-law-xml/405AC0000000088_20240401_504AC0100000052.xml"),
    Path("/work/shared/data/egov-law-xml/411AC0000000128.xml"),
]
ROOT = AccessScope(Principal(0, "bench@localhost", "bench", is_system_admin=True))


def bench_knowledge_base(db: Session, name: str) -> KnowledgeBase:
    """A knowledge base of a new team of a new organisation (both named after it)."""
    org = Organisation(name=f"bench {name}")
    db.add(org)
    db.flush()
    team = Team(organisation_id=org.id, name=f"bench {name}")
    db.add(team)
    db.flush()
    return service.create_knowledge_base(db, ROOT, name=name, team_id=team.id, classification=1)


def rate(with_embedding: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        database = Database(url)
        runtime = KnowledgeRuntime(database, Path(tmp), embedder=None if with_embedding else (lambda: None))
        assert with_embedding is (runtime.embedder is not None)  # loads the model before timing
        with database.session() as db:
            kb = bench_knowledge_base(db, "laws")
            for file in FILES:
                service.submit_document(db, ROOT, kb, filename=file.name, data=file.read_bytes())
        started = time.perf_counter()
        IngestWorker(runtime).run_pending()
        elapsed = time.perf_counter() - started
        with database.session() as db:
            chunks = sum(d.chunk_count for d in service.list_documents(db, ROOT, kb))
        database.dispose()
    return {"chunks": chunks, "seconds": round(elapsed, 1), "chunks_per_s": round(chunks / elapsed, 2)}


if __name__ == "__main__":
    print(json.dumps({"with_embedding": rate(True), "lexical_only": rate(False)}, indent=1))
