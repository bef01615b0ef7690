"""Peak memory of ingesting one large generated PDF through the real job path (job table → parse →
chunk → Sudachi → commit) on SQLite in a temporary data directory, lexical-only (no embedding
model, whose fixed size would hide the document's share). Prints one JSON line.

    PYTHONPATH=. nice -n 19 .venv/bin/python -m bench.ingest.peak_memory --pages 1000

The peak is the process's maximum resident set size (``resource.getrusage``) minus the resident
size just before the worker starts; run each measurement in a fresh process.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from bench.ingest.common import large_pdf_world, run
from bench.retrieval.ingest_rate import ROOT, bench_knowledge_base
from pypdf import PdfReader
from sqlalchemy import func, select

from hiraga.knowledge import service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.tokenise import sentence_terms
from hiraga.store.tables import KbChunk


def resident_mb() -> float:
    """The current resident set size (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(pages: int) -> dict[str, float]:
    with large_pdf_world(pages) as world:
        with world.database.session() as db:
            kb = bench_knowledge_base(db, "bench")
            service.submit_document(db, ROOT, kb, filename=world.pdf.name, data=world.pdf.read_bytes())
        sentence_terms("住民票の写しを交付します。")  # load Sudachi and pypdf outside the measured part
        PdfReader(world.pdf)
        baseline = resident_mb()
        started = time.perf_counter()
        IngestWorker(world.runtime).run_pending()
        elapsed = time.perf_counter() - started
        with world.database.session() as db:
            chunks = db.scalar(select(func.count(KbChunk.id))) or 0
    return {
        "pages": pages,
        "pdf_mb": round(world.pdf_bytes / 1e6, 1),
        "chunks": chunks,
        "seconds": round(elapsed, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_mb(), 1),
        "peak_above_baseline_mb": round(peak_mb() - baseline, 1),
    }


if __name__ == "__main__":
    run(measure, __doc__ or "")
