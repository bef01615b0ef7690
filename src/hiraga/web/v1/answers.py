"""ASGI responses for gateway answers. Each one runs the gateway call while watching for the
client's disconnect, and cancels the call (and with it the upstream request) when it comes."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import anyio
import orjson
from starlette.types import Receive, Scope, Send

from hiraga.errors import HiragaError
from hiraga.gateway.protocol import ENDPOINT_HEADER
from hiraga.gateway.service import Answer, ClientGone
from hiraga.providers.base import EndpointConfig
from hiraga.web.error_responses import openai_error_body

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def endpoint_header(endpoint: EndpointConfig) -> tuple[bytes, bytes]:
    return ENDPOINT_HEADER.encode(), quote(endpoint.name, safe="/:@+-._").encode()


async def send_json(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: HiragaError) -> None:
    extra = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send_json(send, error.status, orjson.dumps(openai_error_body(error)), extra)


async def until_disconnect(receive: Receive, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work``; cancel it when the client disconnects (the request body is already read)."""
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            await work()
        finally:
            group.cancel_scope.cancel()


class JsonAnswer:
    def __init__(self, produce: Callable[[], Awaitable[Answer]]) -> None:
        self._produce = produce

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def work() -> None:
            try:
                answer = await self._produce()
            except HiragaError as error:
                await send_error(send, error)
                return
            await send_json(send, 200, orjson.dumps(answer.body), [endpoint_header(answer.endpoint)])

        await until_disconnect(receive, work)


class AsgiSink:
    """StreamSink onto an ASGI ``send``; a failed send means the client has gone."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def start(self, endpoint: EndpointConfig) -> None:
        headers = [*SSE_HEADERS, endpoint_header(endpoint)]
        await self._guarded({"type": "http.response.start", "status": 200, "headers": headers})
        self.started = True

    async def send(self, frame: bytes) -> None:
        await self._guarded({"type": "http.response.body", "body": frame, "more_body": True})

    async def end(self) -> None:
        await self._guarded({"type": "http.response.body", "body": b"", "more_body": False})

    async def _guarded(self, message: dict[str, object]) -> None:
        try:
            await self._send(message)
        except OSError as exc:
            raise ClientGone() from exc


class StreamAnswer:
    def __init__(self, relay: Callable[[AsgiSink], Awaitable[None]]) -> None:
        self._relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sink = AsgiSink(send)

        async def work() -> None:
            try:
                await self._relay(sink)
                await sink.end()
            except HiragaError as error:
                if not sink.started:
                    await send_error(send, error)
                    return
                with contextlib.suppress(ClientGone):
                    await sink.end()
            except ClientGone:
                return

        await until_disconnect(receive, work)
