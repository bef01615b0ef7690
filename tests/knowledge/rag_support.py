"""Support for the RAG tests: the gateway's real HTTP stub upstream (OpenAI protocol) taught one more
script, ``("say", text)``, which answers with ``text`` (as JSON, or streamed two characters per
event) — so a test can craft answers with valid and invalid [n] markers; and the law fixture."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.knowledge.wiring import EMBEDDER_KEY
from hiraga.store.database import Database
from hiraga.store.tables import KbDocument, KbIngestJob
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.knowledge import DocumentStatus, JobState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_stub import Script, SeenRequest, StubUpstream, _events, _json, _usage
from gateway_stub import stub_settings as stub_settings  # re-exported for the RAG web tests

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LAW_SAMPLE = FIXTURES / "405AC0000000088_gyosei_tetsuzuki_sample.xml"  # 行政手続法, an excerpt (see SOURCES.md)
LAW_ID = "405AC0000000088"


class ScriptedUpstream(StubUpstream):
    async def _answer(self, script: Script, seen: SeenRequest, writer: asyncio.StreamWriter) -> bool:
        if not (isinstance(script, tuple) and script[0] == "say"):
            return await super()._answer(script, seen, writer)
        text, request = str(script[1]), seen.body or {}
        if request.get("stream"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
            for event in _events(request, with_usage=True, count=0, text=text):
                writer.write(event)
                await writer.drain()
            seen.finished = True
            return False
        body: dict[str, Any] = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "deployment"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": _usage(),
        }
        return await _json(writer, 200, body)


@contextmanager
def lexical_client(app: FastAPI) -> Iterator[TestClient]:
    """A client of ``app`` with the embedder switched off (lexical search only, for speed)."""
    app.state.ctx.extras[EMBEDDER_KEY] = lambda: None
    with TestClient(app) as test_client:
        yield test_client


_UPSTREAM: ScriptedUpstream | None = None


def scripted_upstream() -> ScriptedUpstream:
    """One stub per test session (reset by the caller)."""
    global _UPSTREAM
    if _UPSTREAM is None:
        _UPSTREAM = ScriptedUpstream()
        _UPSTREAM.start()
    _UPSTREAM.reset()
    return _UPSTREAM


def prompt_of(seen: SeenRequest) -> str:
    messages = (seen.body or {}).get("messages") or []
    return "\n".join(str(m.get("content") or "") for m in messages)


def halfway_pdf_job(database_url: str, kb_id: int) -> None:
    """A 5-page PDF in ``kb_id`` that another worker is halfway through: page 2, 192 chunks staged
    (a paged document's chunk total is not known before its last page)."""
    database = Database(database_url)
    try:
        with database.session() as db:
            document = KbDocument(kb_id=kb_id, name="例規集.pdf", status=DocumentStatus.PENDING, content_hash="0" * 64)
            document.byte_size = 9_000_000
            db.add(document)
            db.flush()
            job = KbIngestJob(kb_id=kb_id, document_id=document.id, state=JobState.RUNNING, payload=b"%PDF-")
            job.worker, job.heartbeat_at, job.attempts = "elsewhere", utcnow(), 1
            job.chunks_done, job.chunks_total, job.pages_done, job.pages_total = 192, 0, 2, 5
            db.add(job)
    finally:
        database.dispose()
