"""How long small documents wait behind a large one: a large generated PDF is submitted to one
knowledge base, then 13 small documents to two others (each of another team), as in issue 13; one
worker ingests everything (SQLite, lexical-only). Prints when each became searchable, in seconds
from the worker's start (each document's ``updated_at`` is set by the commit that publishes it).

    PYTHONPATH=. nice -n 19 .venv/bin/python -m bench.ingest.fairness --pages 1000
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.ingest.common import large_pdf_world, run
from bench.retrieval.ingest_rate import ROOT, bench_knowledge_base
from sqlalchemy import select

from hiraga.knowledge import service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.store.tables import KbDocument

SMALL = 13


def small_document(n: int) -> bytes:
    return "\n\n".join(f"# 第{k}節\n\n文書{n}の第{k}節は窓口{k}で受け付けます。" for k in range(8)).encode()


def measure(pages: int) -> dict[str, object]:
    with large_pdf_world(pages) as world:
        pdf = world.pdf
        with world.database.session() as db:
            big = bench_knowledge_base(db, "large")
            service.submit_document(db, ROOT, big, filename=pdf.name, data=pdf.read_bytes())
            others = [bench_knowledge_base(db, "manuals"), bench_knowledge_base(db, "forms")]
            for n in range(SMALL):
                data = small_document(n)
                service.submit_document(db, ROOT, others[n % 2], filename=f"small-{n}.md", data=data)
        started = datetime.now(UTC)
        IngestWorker(world.runtime).run_pending()
        with world.database.session() as db:
            ready = {d.name: (d.updated_at - started).total_seconds() for d in db.scalars(select(KbDocument))}
    small = sorted(v for k, v in ready.items() if k.startswith("small-"))
    return {
        "pages": pages,
        "large_ready_s": round(ready[pdf.name], 1),
        "first_small_ready_s": round(small[0], 1),
        "last_small_ready_s": round(small[-1], 1),
    }


if __name__ == "__main__":
    run(measure, __doc__ or "")
