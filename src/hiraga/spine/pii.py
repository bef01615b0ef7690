"""Spine step between route and provider: personal data in requests to external endpoints.

For each endpoint a call is about to be sent to, the endpoint's PII policy applies when the
endpoint is marked ``external`` (internal ones get the request as is): ``mask`` replaces what the
detectors find by placeholders (〔氏名1〕) and the answer gets the values back, JSON and streamed;
``block`` takes the endpoint out of this call when anything is found (403 ``pii_blocked`` naming the
kinds when no other endpoint remains); ``allow`` sends as is. A fallback to another endpoint applies
that endpoint's policy. Counts per kind go into the call's outcome for the audit record; the values
and the placeholder map stay in memory for the length of the call only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import orjson

from hiraga.pii import PiiGuard, PiiPolicy, PlaceholderMap, StreamingRestorer, prepare_messages, restore
from hiraga.pii.guard import PreparedTexts, blocked_error
from hiraga.providers.base import EndpointConfig, Json
from hiraga.providers.sse import data_of
from hiraga.spine.call import CallOutcome

log = logging.getLogger("hiraga.pii")
Tiers = list[list[EndpointConfig]]
INLINE_SCAN_BYTES = 4000  # larger requests are scanned in a worker thread (Sudachi is CPU-bound)
DONE = b"[DONE]"

_guard: PiiGuard | None = None
_guard_lock = threading.Lock()


def shared_guard() -> PiiGuard:
    """The process's one PiiGuard, built on first use from the installed detector plugins."""
    global _guard
    if _guard is None:
        with _guard_lock:
            if _guard is None:
                _guard = PiiGuard.from_plugins()
    return _guard


def policy_for(endpoint: EndpointConfig) -> PiiPolicy | None:
    """The policy that applies to ``endpoint``; None for internal endpoints (nothing is scanned)."""
    if not endpoint.external:
        return None
    try:
        return PiiPolicy(endpoint.pii_policy)
    except ValueError:
        log.warning("endpoint %s has an unknown PII policy %r; masking", endpoint.name, endpoint.pii_policy)
        return PiiPolicy.MASK


class PiiStep:
    """Hands each model call its ``PiiSession``; ``guard`` is called only when a scan is needed."""

    def __init__(self, guard: Callable[[], PiiGuard] = shared_guard) -> None:
        self._guard = guard

    def begin(self, kind: str, body: Json) -> PiiSession:
        return PiiSession(self._guard, kind, body)


class PiiSession:
    """One call's PII handling: which endpoints may get it, what each is sent, and the way back."""

    def __init__(self, guard: Callable[[], PiiGuard], kind: str, body: Json) -> None:
        self._guard, self._kind, self._body = guard, kind, body
        self._masked: tuple[Json, PreparedTexts] | None = None

    async def admissible(self, tiers: Tiers, outcome: CallOutcome) -> Tiers:
        """``tiers`` without the endpoints whose ``block`` policy refuses this request; raises
        ``PiiBlocked`` (403, the kinds and counts) when none would remain."""
        blocking = {ep.id for tier in tiers for ep in tier if policy_for(ep) is PiiPolicy.BLOCK}
        if not blocking:
            return tiers
        _, prepared = await self._masked_body()
        if not prepared.counts:
            return tiers
        kept = [[ep for ep in tier if ep.id not in blocking] for tier in tiers]
        kept = [tier for tier in kept if tier]
        if not kept:
            outcome.pii_counts, outcome.pii_policy = dict(prepared.counts), PiiPolicy.BLOCK.value
            raise blocked_error(prepared.counts, self._guard().labels)
        outcome.decisions["pii_blocked_endpoints"] = sorted(ep.name for t in tiers for ep in t if ep.id in blocking)
        return kept

    async def body_for(self, endpoint: EndpointConfig) -> Json:
        """What ``endpoint`` is sent: masked under ``mask``, else the request as it came."""
        if policy_for(endpoint) is not PiiPolicy.MASK:
            return self._body
        masked, _ = await self._masked_body()
        return masked

    def settle(self, endpoint: EndpointConfig, outcome: CallOutcome) -> None:
        """Note what was done for the endpoint that answered (counts only, never values)."""
        policy = policy_for(endpoint)
        outcome.pii_policy = policy.value if policy is not None else None
        outcome.pii_counts = dict(self._masked[1].counts) if policy is PiiPolicy.MASK and self._masked else {}

    def restore_answer(self, endpoint: EndpointConfig, answer: Json) -> Json:
        """The chat answer with this call's placeholders put back (in place)."""
        mapping = self._mapping_for(endpoint)
        if mapping is None:
            return answer
        for choice in answer.get("choices") or []:
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict):
                message["content"] = _restored_content(message.get("content"), mapping)
        return answer

    def stream_restorer(self, endpoint: EndpointConfig) -> SseRestorer | None:
        mapping = self._mapping_for(endpoint)
        return SseRestorer(mapping) if mapping is not None else None

    # -- internals -------------------------------------------------------------------------------
    def _mapping_for(self, endpoint: EndpointConfig) -> PlaceholderMap | None:
        if policy_for(endpoint) is not PiiPolicy.MASK or self._masked is None:
            return None
        mapping = self._masked[1].mapping
        return mapping if len(mapping) else None

    async def _masked_body(self) -> tuple[Json, PreparedTexts]:
        if self._masked is None:
            sent = self._body.get("messages") or self._body.get("input") or self._body.get("documents") or ""
            size = len(orjson.dumps(sent))
            if size <= INLINE_SCAN_BYTES:
                self._masked = self._mask()
            else:
                self._masked = await anyio.to_thread.run_sync(self._mask)
        return self._masked

    def _mask(self) -> tuple[Json, PreparedTexts]:
        guard = self._guard()
        if self._kind == "embeddings":
            return _mask_inputs(guard, self._body)
        if self._kind == "rerank":
            return _mask_rerank(guard, self._body)
        messages = self._body.get("messages")
        if not isinstance(messages, list):
            return self._body, guard.prepare([], PiiPolicy.MASK)
        prepared = prepare_messages(guard, [m for m in messages if isinstance(m, dict)], PiiPolicy.MASK)
        return {**self._body, "messages": prepared.messages}, prepared.prepared


def _mask_inputs(guard: PiiGuard, body: Json) -> tuple[Json, PreparedTexts]:
    """Embeddings: mask the text inputs (token-id inputs carry no readable text and pass as they are)."""
    given = body.get("input")
    if isinstance(given, str):
        prepared = guard.prepare([given], PiiPolicy.MASK)
        return {**body, "input": prepared.texts[0]}, prepared
    if isinstance(given, list) and all(isinstance(item, str) for item in given):
        prepared = guard.prepare(given, PiiPolicy.MASK)
        return {**body, "input": prepared.texts}, prepared
    return body, guard.prepare([], PiiPolicy.MASK)


def _mask_rerank(guard: PiiGuard, body: Json) -> tuple[Json, PreparedTexts]:
    """Rerank: mask the query and the documents (one placeholder map across them)."""
    documents = body.get("documents")
    if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
        return body, guard.prepare([], PiiPolicy.MASK)
    prepared = guard.prepare([str(body.get("query") or ""), *documents], PiiPolicy.MASK)
    return {**body, "query": prepared.texts[0], "documents": prepared.texts[1:]}, prepared


def _restored_content(content: Any, mapping: PlaceholderMap) -> Any:
    if isinstance(content, str):
        return restore(content, mapping)
    if isinstance(content, list):
        return [
            {**part, "text": restore(part["text"], mapping)}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return content


class SseRestorer:
    """Rewrites relayed chat-completion chunks so the client sees the values, not the placeholders,
    also when a placeholder is split across chunks (the undecided tail is held back, at most a few
    dozen characters, and sent with the next chunk, the choice's finish or before ``[DONE]``)."""

    def __init__(self, mapping: PlaceholderMap) -> None:
        self._mapping = mapping
        self._choices: dict[int, StreamingRestorer] = {}
        self._last: dict[str, Any] = {}

    def rewrite(self, frame: bytes) -> bytes:
        payload = data_of(frame)
        if payload is None:
            return frame
        if payload == DONE:
            return self._flush_frame() + frame
        chunk = orjson.loads(payload)
        if not isinstance(chunk, dict):
            return frame
        self._last = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict):
                self._restore_choice(choice)
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def _restore_choice(self, choice: dict[str, Any]) -> None:
        restorer = self._choices.setdefault(int(choice.get("index") or 0), StreamingRestorer(self._mapping))
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        content = delta.get("content")
        text = restorer.feed(content) if isinstance(content, str) else ""
        if choice.get("finish_reason"):
            text += restorer.flush()
        if isinstance(content, str) or text:
            delta["content"] = text
            choice["delta"] = delta

    def _flush_frame(self) -> bytes:
        """Whatever is still held back (an upstream that sent no finish_reason), as one last chunk."""
        pending = [(index, restorer.flush()) for index, restorer in sorted(self._choices.items())]
        choices = [
            {"index": index, "delta": {"content": text}, "finish_reason": None} for index, text in pending if text
        ]
        if not choices:
            return b""
        return b"data: " + orjson.dumps({**self._last, "choices": choices}) + b"\n\n"
