"""A stub OpenAI-compatible model server for a local try of the scale-out shape (docker compose's
``model-stub`` service) and for checks of a deployment: it answers chat by quoting the last user
message, streamed or not, and embeddings with deterministic unit vectors. It knows nothing; every
answer says it is the stub. Run: ``python -m hiraga.devtools.stub_upstream --host 0.0.0.0 --port 8001``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "stub"
DIMENSIONS = 384
PREFIX = "（スタブ応答・モデルではありません）"


def reply_to(messages: list[dict[str, Any]]) -> str:
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = last.get("content", "")
    if isinstance(content, list):  # content parts
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return PREFIX + str(content)[:2000]


def unit_vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
    return [float(x) for x in vector / np.linalg.norm(vector)]


async def models(_: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "hiraga-stub"}]})


async def chat(request: Request) -> Response:
    delay: float = request.app.state.chunk_delay
    body = await request.json()
    text = reply_to(body.get("messages", []))
    prompt_tokens = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(text), "total_tokens": prompt_tokens + len(text)}
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.get("stream"):
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return JSONResponse(
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": MODEL,
                "choices": [choice],
                "usage": usage,
            }
        )

    async def events() -> AsyncIterator[bytes]:
        base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL}
        for start in range(0, len(text), 8):
            if delay:
                await asyncio.sleep(delay)
            delta = (
                {"role": "assistant", "content": text[start : start + 8]}
                if start == 0
                else {"content": text[start : start + 8]}
            )
            yield (
                b"data: "
                + orjson.dumps({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                + b"\n\n"
            )
        yield (
            b"data: "
            + orjson.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            + b"\n\n"
        )
        yield b"data: " + orjson.dumps({**base, "choices": [], "usage": usage}) + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def embeddings(request: Request) -> Response:
    body = await request.json()
    inputs = body.get("input", [])
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
    data = [{"object": "embedding", "index": i, "embedding": unit_vector(t)} for i, t in enumerate(texts)]
    tokens = sum(len(t) for t in texts)
    return JSONResponse(
        {"object": "list", "model": MODEL, "data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    )


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(chunk_delay: float = 0.0) -> Starlette:
    """``chunk_delay``: seconds before each streamed piece (to look like generation, or to keep
    answers in flight in a check of a rolling restart)."""
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )
    app.state.chunk_delay = chunk_delay
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds before each streamed piece")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.chunk_delay), host=args.host, port=args.port, log_level="warning", server_header=False)


if __name__ == "__main__":
    main()
