"""What the ingestion benches share: a temporary SQLite world holding one large generated PDF, and
the command line (``--pages``, one JSON line out)."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.ingest.synthetic_pdf import write_pdf

from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.store import migrate
from hiraga.store.database import Database


@dataclass(frozen=True, slots=True)
class PdfWorld:
    pdf: Path
    pdf_bytes: int
    database: Database
    runtime: KnowledgeRuntime  # lexical-only: no embedding model


@contextmanager
def large_pdf_world(pages: int) -> Iterator[PdfWorld]:
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "large.pdf"
        size = write_pdf(pdf, pages)
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        database = Database(url)
        try:
            yield PdfWorld(pdf, size, database, KnowledgeRuntime(database, Path(tmp), embedder=lambda: None))
        finally:
            database.dispose()


def run(measure: Callable[[int], Mapping[str, object]], doc: str) -> None:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    print(json.dumps(measure(parser.parse_args().pages)))
