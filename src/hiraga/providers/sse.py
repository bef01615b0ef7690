"""Server-sent events as bytes: split a byte stream into whole events without decoding it, so a
multi-byte character split across network reads is never cut or re-encoded."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

DONE = b"data: [DONE]\n\n"


async def sse_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Yield each complete event (ending in a blank line); a trailing partial event is yielded as is
    (without its terminator) so the reader can tell the stream was cut."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
            if buffer.endswith(b"\r"):
                continue
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            yield buffer[start : end + 2]
            start = end + 2
        buffer = buffer[start:]
    if buffer.strip():
        yield buffer


def data_of(event: bytes) -> bytes | None:
    """The payload of a ``data:`` event, None for comments and other fields."""
    if event.startswith(b"data:"):
        return event[5:].strip()
    return None
