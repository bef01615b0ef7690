"""The floor for the gateway benchmark: the least a Python proxy on hiraga's own stack
(Starlette on uvicorn with httptools + uvloop, aiohttp to the upstream, as hiraga's OpenAI-compatible
provider) can do — forward POST /v1/chat/completions to the upstream and stream the answer back
unchanged. No auth, no parsing, no records.

    python bench/passthrough_proxy.py --port 18090 --upstream http://127.0.0.1:18000
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def build_app(upstream: str) -> Starlette:
    sessions: list[aiohttp.ClientSession] = []
    url = upstream.rstrip("/") + "/v1/chat/completions"

    async def forward(request: Request) -> Response:
        body = await request.body()
        answer = await sessions[0].post(url, data=body, headers={"content-type": "application/json"})
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}

        async def relay() -> AsyncIterator[bytes]:
            async for chunk in answer.content.iter_any():
                yield chunk

        return StreamingResponse(
            relay(), status_code=answer.status, headers=headers, background=BackgroundTask(answer.release)
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=60)
        sessions.append(aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)))
        yield
        await sessions[0].close()

    return Starlette(routes=[Route("/v1/chat/completions", forward, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--upstream", default="http://127.0.0.1:18000")
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.upstream),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        server_header=False,
    )


if __name__ == "__main__":
    main()
