"""Task apps like chat: a run's model calls streamed through the gateway, the pieces handed to the
page as they come (``TaskEvents``), the usage counted from the stream's last event."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from hiraga.errors import UpstreamFailed
from hiraga.gateway.service import Gateway
from hiraga.portal.chat import frame_content, frame_tool_deltas
from hiraga.portal.models import EMBEDDED_TAG
from hiraga.providers.base import EndpointConfig
from hiraga.providers.sse import data_of
from hiraga.spine.call import ModelCall, Usage


class TaskEvents(Protocol):
    """What a page hears of a run while it goes: steps, the model that answers, text pieces."""

    async def progress(self, step: str) -> None: ...

    async def model(self, name: str, builtin: bool) -> None: ...

    async def delta(self, text: str) -> None: ...


class Quiet:
    """TaskEvents that go nowhere (a run over the API)."""

    async def progress(self, step: str) -> None:
        return None

    async def model(self, name: str, builtin: bool) -> None:
        return None

    async def delta(self, text: str) -> None:
        return None


class _Collector:
    """The gateway's StreamSink for one call: pieces to ``events`` and to ``partial``; usage kept."""

    def __init__(self, events: TaskEvents, partial: list[str]) -> None:
        self.events, self.partial = events, partial
        self.pieces: list[str] = []
        self.endpoint: EndpointConfig | None = None
        self.usage: Usage | None = None
        self.error: str | None = None
        self.tool_deltas: list[dict[str, Any]] = []

    async def start(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint
        await self.events.model(endpoint.name, endpoint.provider == "embedded" or EMBEDDED_TAG in endpoint.tags)

    async def send(self, frame: bytes) -> None:
        pieces, error = frame_content(frame)
        self.error = error or self.error
        self.usage = _usage_of(frame) or self.usage
        for piece in pieces:
            self.pieces.append(piece)
            self.partial.append(piece)
            await self.events.delta(piece)
        self.tool_deltas.extend(frame_tool_deltas(frame))


def _usage_of(frame: bytes) -> Usage | None:
    payload = data_of(frame)
    if not payload or payload == b"[DONE]":
        return None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    usage = chunk.get("usage") if isinstance(chunk, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


async def streamed_chat(
    gateway: Gateway,
    call: ModelCall,
    body: dict[str, Any],
    events: TaskEvents,
    partial: list[str],
    tool_deltas: list[dict[str, Any]] | None = None,
) -> tuple[str, EndpointConfig, Usage]:
    """One call, streamed: (the whole text, the endpoint that answered, the usage); the pieces of
    the ``tool_calls`` the model asked for (if any) are added to ``tool_deltas``."""
    collector = _Collector(events, partial)
    streaming = {**body, "stream": True, "stream_options": {"include_usage": True}}
    await gateway.stream_chat(call, streaming, collector)
    if collector.error is not None or collector.endpoint is None:
        raise UpstreamFailed(f"モデルの応答が途中で失敗しました: {collector.error or '応答がありません'}")
    text = "".join(collector.pieces)
    if tool_deltas is not None:
        tool_deltas.extend(collector.tool_deltas)
    return text, collector.endpoint, collector.usage or Usage(call.estimated_input_tokens, len(text), estimated=True)
