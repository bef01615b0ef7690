"""Watching a relayed SSE stream: usage, the end marker, upstream errors and malformed events,
without parsing every event (only the few that mention ``usage`` are decoded)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Protocol

import orjson

from hiraga.providers.base import EndpointConfig, UpstreamError
from hiraga.providers.sse import data_of
from hiraga.spine.call import CallOutcome, Outcome, Usage
from hiraga.spine.pii import SseRestorer

DONE = b"[DONE]"


class StreamWatch:
    """Feed it each upstream event; it says what to forward and remembers what it saw."""

    def __init__(self, *, client_wants_usage: bool) -> None:
        self.client_wants_usage = client_wants_usage
        self.usage: Usage | None = None
        self.done = False
        self.first_token_at: float | None = None
        self._payloads: list[bytes] = []

    def check_first(self, event: bytes) -> None:
        """The first event decides whether this upstream is committed to; raise to fail over."""
        payload = data_of(event)
        if payload is None or payload == DONE:
            if payload == DONE or not event.startswith(b":"):
                raise UpstreamError(
                    "モデルサーバーのストリームが空か、形式が正しくありません。", code="upstream_malformed"
                )
            return
        self._parse(payload)

    def feed(self, event: bytes) -> bytes | None:
        """The bytes to send on (None: drop); raises UpstreamError on a malformed or error event."""
        if not event.endswith(b"\n\n"):
            raise UpstreamError("モデルサーバーのストリームが途中で切れました。", code="upstream_truncated")
        payload = data_of(event)
        if payload is None:
            return event  # comments and keep-alives
        if payload == DONE:
            self.done = True
            return event
        if not (payload.startswith(b"{") and payload.endswith(b"}")):
            raise UpstreamError(
                "モデルサーバーのストリームに不正なデータが含まれていました。", code="upstream_malformed"
            )
        if payload.startswith(b'{"error"'):
            raise UpstreamError(_error_message(payload), code="upstream_stream_error")
        if self.first_token_at is None and _has_text(payload):
            self.first_token_at = time.monotonic()
        self._payloads.append(payload)
        if b'"usage"' in payload and b'"usage":null' not in payload:
            chunk = self._parse(payload)
            usage = chunk.get("usage")
            if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
                self.usage = Usage(usage["prompt_tokens"], int(usage.get("completion_tokens") or 0))
                if not self.client_wants_usage and not chunk.get("choices"):
                    return None
        return event

    def finish(self) -> None:
        if not self.done:
            raise UpstreamError("モデルサーバーのストリームが終了の合図なしに切れました。", code="upstream_truncated")

    def output_text(self) -> str:
        """The answer's text as relayed so far (for counting when the upstream sent no usage)."""
        text = []
        for payload in self._payloads:
            try:
                for choice in orjson.loads(payload).get("choices") or []:
                    text.append((choice.get("delta") or {}).get("content") or "")
            except (orjson.JSONDecodeError, AttributeError):
                continue
        return "".join(text)

    @staticmethod
    def _parse(payload: bytes) -> dict[str, object]:
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            chunk = None
        if not isinstance(chunk, dict):
            raise UpstreamError(
                "モデルサーバーのストリームに不正なデータが含まれていました。", code="upstream_malformed"
            )
        if "error" in chunk:
            raise UpstreamError(_error_message(payload), code="upstream_stream_error")
        return chunk


def _has_text(payload: bytes) -> bool:
    if b'"content"' not in payload:
        return False
    return not any(
        empty in payload for empty in (b'"content":""', b'"content": ""', b'"content":null', b'"content": null')
    )


def _error_message(payload: bytes) -> str:
    try:
        error = orjson.loads(payload).get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    return (
        f"モデルサーバーが生成中にエラーを返しました: {message}"
        if message
        else "モデルサーバーが生成中にエラーを返しました。"
    )


def error_event(code: str, message: str) -> bytes:
    """An OpenAI-style error event for failures after the stream has started."""
    return b"data: " + orjson.dumps({"error": {"message": message, "type": "api_error", "code": code}}) + b"\n\n"


class ReplayedStream:
    """The first event (already read to commit to the upstream) followed by the rest."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes]) -> None:
        self._first: bytes | None = first
        self._rest = rest

    def __aiter__(self) -> ReplayedStream:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await anext(self._rest)

    async def aclose(self) -> None:
        closer = getattr(self._rest, "aclose", None)
        if closer is not None:
            await closer()


class StreamSink(Protocol):
    """Where a relayed stream goes: the client's response (``/v1``), or a collector in the portal."""

    async def start(self, endpoint: EndpointConfig) -> None: ...

    async def send(self, frame: bytes) -> None: ...


async def relay(
    events: ReplayedStream, watch: StreamWatch, sink: StreamSink, outcome: CallOutcome, restorer: SseRestorer | None
) -> bool:
    """Forward the upstream's events to the sink (names restored); False, with an error event sent, when
    the upstream failed mid-stream."""
    try:
        async for event in events:
            frame = watch.feed(event)
            if frame is not None:
                await sink.send(restorer.rewrite(frame) if restorer is not None else frame)
        watch.finish()
    except UpstreamError as exc:
        outcome.outcome, outcome.error_code = Outcome.FAILED, exc.code
        await sink.send(error_event(exc.code, exc.message))
        return False
    return True
