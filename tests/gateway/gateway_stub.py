"""Test support for the gateway: a real HTTP/1.1 OpenAI-compatible stub upstream (asyncio, on a free
loopback port, in its own thread) whose next replies are scripted per test, a uvicorn runner, and a
small world of teams, users and API keys.

Scripts (consumed one per request, then "ok"): "ok", "no_usage", ("status", code[, headers]),
"reset" (close without answering), ("delay", seconds), "non_json", "truncated_sse",
"malformed_sse" (first event), "garbled_mid_sse", "slow_sse" (one event per 50 ms, 200 events),
"echo" (answers with the last user message; streamed two characters per event), ("say", text)
(answers ``text``; streamed two characters per event). A test may set ``responder`` (request
body → reply text) to answer "ok" requests by what they ask.
``/rerank`` requests (the Jina/Cohere shape vLLM serves) are scored by how many of the query's
characters each document contains, or, scripted ``("prefer", text)``, 1.0 for documents containing
``text`` and 0.0 for the others; ``("bad_index",)`` answers an index out of range.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from hiraga.settings import Settings, load_settings


def stub_settings(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    """Settings for tests against the stub upstream: a fresh data dir, the loopback host allowed as
    an upstream, no gateway catalogue cache (models a test registers are seen at once)."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x1y2z3" * 8,
        allowed_upstream_hosts="127.0.0.1",
        gateway_cache_seconds=0,
        **extra,
    )


REPLY = "こんにちは！東京の天気は晴れです。日本語のマルチバイト文字が壊れずに届くか確認します。"
PROMPT_TOKENS, COMPLETION_TOKENS = 11, 29
Script = str | tuple[Any, ...]


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    finished: bool = False  # the stub wrote its whole answer
    client_closed: bool = False  # the client went away before the answer was complete


@dataclass
class StubUpstream:
    scripts: deque[Script] = field(default_factory=deque)
    requests: list[SeenRequest] = field(default_factory=list)
    port: int = 0
    responder: Callable[[dict[str, Any]], str] | None = None

    def start(self) -> StubUpstream:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def plan(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def reset(self) -> None:
        self.scripts.clear()
        self.requests.clear()
        self.responder = None

    def chat_requests(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- HTTP --------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = SeenRequest(method, path, headers, json.loads(raw) if raw else None)
                self.requests.append(seen)
                script = self.scripts.popleft() if self.scripts else "ok"
                if not await self._answer(script, seen, writer):
                    return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, script: Script, seen: SeenRequest, writer: asyncio.StreamWriter) -> bool:
        kind = script[0] if isinstance(script, tuple) else script
        if kind == "reset":
            return False
        if kind == "delay":
            await asyncio.sleep(float(script[1]))
        if kind == "status":
            extra = script[2] if len(script) > 2 else {}
            body = {"error": {"message": f"stub status {script[1]}", "type": "server_error"}}
            return await _json(writer, int(script[1]), body, extra)
        if kind == "non_json":
            return await _raw(writer, 200, "text/html", b"<html>gateway error</html>")
        if seen.path.endswith("/rerank"):
            return await _json(writer, 200, _rerank(seen.body or {}, script))
        if seen.path.endswith("/embeddings"):
            inputs = seen.body["input"] if isinstance(seen.body["input"], list) else [seen.body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": [0.25, -0.5, float(i)]} for i in range(len(inputs))
            ]
            usage = {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}
            return await _json(
                writer, 200, {"object": "list", "data": data, "model": seen.body["model"], "usage": usage}
            )
        if seen.body and seen.body.get("stream"):
            await self._stream(kind, seen, writer, said=script[1] if kind == "say" else None)
            return False
        reply = _last_user_text(seen.body or {}) if kind == "echo" else script[1] if kind == "say" else REPLY
        if kind == "ok" and self.responder is not None:
            reply = self.responder(seen.body or {})
        body: dict[str, Any] = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": (seen.body or {}).get("model", "deployment"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
        }
        if kind != "no_usage":
            body["usage"] = _usage()
        return await _json(writer, 200, body)

    async def _stream(
        self, kind: str, seen: SeenRequest, writer: asyncio.StreamWriter, said: str | None = None
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        events = _events(seen.body or {}, with_usage=kind != "no_usage", count=200 if kind == "slow_sse" else 6)
        if kind in ("echo", "say"):
            text = said if said is not None else _last_user_text(seen.body or {})
            events = _events(seen.body or {}, with_usage=True, count=0, text=text)
        if kind == "truncated_sse":
            events = events[:3]
        if kind == "malformed_sse":
            events = [b"data: <html>this is not json</html>\n\n"]
        if kind == "garbled_mid_sse":
            events = [*events[:2], b"data: {broken\n\n"]
        try:
            for event in events:
                cut = len(event) // 2 + 1  # usually inside a multi-byte character
                for piece in (event[:cut], event[cut:]):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.05 if kind == "slow_sse" else 0.001)
            seen.finished = True
        except (ConnectionError, RuntimeError):
            seen.client_closed = True


def _usage() -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }


def _last_user_text(request: dict[str, Any]) -> str:
    users = [m for m in request.get("messages") or [] if m.get("role") == "user"]
    return str(users[-1].get("content") or "") if users else ""


def _events(request: dict[str, Any], *, with_usage: bool, count: int, text: str | None = None) -> list[bytes]:
    pieces = [REPLY[i * len(REPLY) // 4 : (i + 1) * len(REPLY) // 4] for i in range(4)]
    while len(pieces) < count - 2:
        pieces.append("。")
    if text is not None:  # echo: two characters per event, so placeholders arrive split
        pieces = [text[i : i + 2] for i in range(0, len(text), 2)]
        count = len(pieces) + 2

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": request.get("model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        body.update(extra)
        return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": p}) for p in pieces[: count - 2]]
    out.append(chunk({}, "stop"))
    if with_usage and (request.get("stream_options") or {}).get("include_usage"):
        usage = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": request.get("model"),
            "choices": [],
            "usage": _usage(),
        }
        out.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


async def _json(writer: asyncio.StreamWriter, status: int, body: Any, extra: dict[str, str] | None = None) -> bool:
    return await _raw(writer, status, "application/json", json.dumps(body, ensure_ascii=False).encode(), extra)


async def _raw(
    writer: asyncio.StreamWriter, status: int, ctype: str, body: bytes, extra: dict[str, str] | None = None
) -> bool:
    head = f"HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (extra or {}).items())
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    return True


class ServerThread:
    """The app in a real uvicorn server on a free loopback port."""

    def __init__(self, app: Any, port: int = 0, lifespan: str = "on") -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def _rerank(body: dict[str, Any], script: Script) -> dict[str, Any]:
    query, documents = str(body.get("query") or ""), [str(d) for d in body.get("documents") or []]
    if isinstance(script, tuple) and script[0] == "prefer":
        scores = [1.0 if script[1] in d else 0.0 for d in documents]
    else:
        scores = [float(sum(ch in d for ch in set(query))) for d in documents]
    results = [{"index": i, "relevance_score": score} for i, score in enumerate(scores)]
    if isinstance(script, tuple) and script[0] == "bad_index":
        results.append({"index": len(documents), "relevance_score": 9.0})
    results.sort(key=lambda r: -r["relevance_score"])
    return {"id": "rerank-stub", "model": body.get("model"), "results": results, "usage": {"total_tokens": 7}}
