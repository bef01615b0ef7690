"""One model call through the spine: route → pii → policy.admit → provider → restore → policy.settle
+ audit.record.

Framework-free: the web layer hands in a ModelCall and the client's JSON body; streaming answers
are pushed into a StreamSink. ``settle`` runs for every admitted call and ``record`` for every
call — answered, refused, failed or cancelled by the client's disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import anyio

from hiraga.errors import HiragaError, NotFound
from hiraga.gateway.admin_protocol import EndpointTestResult
from hiraga.gateway.catalog import CatalogCache, model_card
from hiraga.gateway.probe import SanityAnswer, probe_reply, reranker, sanity_check
from hiraga.gateway.protocol import (
    ModelList,
    estimate_tokens,
    message_text,
    rerank_text,
    rerank_usage,
    usage_of,
)
from hiraga.gateway.streaming import ReplayedStream, StreamSink, StreamWatch, relay
from hiraga.gateway.token_count import estimated_usage
from hiraga.identity.principal import Principal
from hiraga.providers.base import EndpointConfig, Json, ModelProvider, UpstreamError
from hiraga.spine.call import CallOutcome, ModelCall, Outcome, Usage
from hiraga.spine.pii import PiiSession, PiiStep
from hiraga.spine.route import Router, Tiers, team_may_use

log = logging.getLogger("hiraga.gateway")
FINALISE_TIMEOUT = 30.0


class GatewayHooks(Protocol):
    """Policy and audit as the gateway calls them. ``admit`` raises (429/403) to refuse; ``settle`` is
    called once for every admitted call, ``record`` once for every call, whatever the outcome (the
    two run concurrently)."""

    async def admit(self, call: ModelCall) -> None: ...

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None: ...

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None: ...


class NoopHooks:
    """Admits everything and records nothing: the default until policy and audit are wired in."""

    async def admit(self, call: ModelCall) -> None:
        return None

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None:
        return None

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None:
        return None


NOOP_HOOKS = NoopHooks()


class ClientGone(Exception):
    """The client disconnected while the answer was being sent."""


@dataclass(frozen=True, slots=True)
class Answer:
    body: Json
    endpoint: EndpointConfig


def cost_of(endpoint: EndpointConfig, usage: Usage) -> Decimal:
    return (
        Decimal(usage.input_tokens) * endpoint.price_input_per_1k
        + Decimal(usage.output_tokens) * endpoint.price_output_per_1k
    ) / 1000


class Gateway:
    def __init__(
        self,
        *,
        catalog: CatalogCache,
        providers: Mapping[str, ModelProvider],
        router: Router | None = None,
        hooks: GatewayHooks | None = None,
        hooks_lookup: Callable[[], GatewayHooks | None] | None = None,
        pii: PiiStep | None = None,
    ) -> None:
        self.catalog = catalog
        self.providers = dict(providers)
        self.router = router or Router()
        self.pii = pii or PiiStep()
        self._hooks = hooks
        self._hooks_lookup = hooks_lookup

    @property
    def hooks(self) -> GatewayHooks:
        """Policy and audit: given ones, else whatever the app wired in (looked up per call), else none."""
        if self._hooks is not None:
            return self._hooks
        found = self._hooks_lookup() if self._hooks_lookup is not None else None
        return found if found is not None else NOOP_HOOKS

    # -- listing -----------------------------------------------------------------------------
    async def models(self, principal: Principal) -> ModelList:
        catalog = await self.catalog.get()
        probe = ModelCall(principal=principal, kind="list", requested_model="")
        cards = [model_card(ep.name, ep) for ep in catalog.endpoints.values() if ep.enabled and team_may_use(probe, ep)]
        for alias, tiers in catalog.aliases.items():
            usable = [ep for tier in tiers for ep in tier if ep.enabled and team_may_use(probe, ep)]
            if usable:
                cards.append(model_card(alias, usable[0], alias_of=[ep.name for ep in usable]))
        return ModelList(data=sorted(cards, key=lambda c: c.id))

    async def probe(self, name: str) -> EndpointTestResult:
        """Send one short request straight to an endpoint (no routing, no policy): the admin's test."""
        self.catalog.invalidate()
        endpoint = (await self.catalog.get()).endpoints.get(name)
        if endpoint is None:
            raise NotFound(
                f"モデル「{name}」が見つからないか、設定に問題があり読み込めません。", code="model_not_found"
            )
        started = time.monotonic()
        try:
            reply = await probe_reply(self.provider(endpoint), endpoint)
        except (HiragaError, KeyError, IndexError, TypeError) as exc:
            message = exc.message if isinstance(exc, HiragaError) else "応答の形式が正しくありません。"
            return EndpointTestResult(ok=False, endpoint=name, latency_ms=_ms(started), error=message)
        return EndpointTestResult(ok=True, endpoint=name, latency_ms=_ms(started), reply=reply[:500])

    async def sanity(self, name: str) -> list[SanityAnswer]:
        """The tiny Japanese sanity check of a chat endpoint, straight to it (like ``probe``)."""
        endpoint = (await self.catalog.get()).endpoints.get(name)
        if endpoint is None or endpoint.kind != "chat":
            raise NotFound(f"チャット用のモデル「{name}」が見つかりません。", code="model_not_found")
        return await sanity_check(self.provider(endpoint), endpoint)

    # -- calls -------------------------------------------------------------------------------
    async def chat(self, call: ModelCall, body: Json) -> Answer:
        async with self._governed(call, "chat", body) as (outcome, tiers, pii):

            async def attempt(ep: EndpointConfig) -> Json:
                return await self.provider(ep).chat(ep, await pii.body_for(ep), caller=_caller(call))

            lease = await self.router.run(tiers, attempt, outcome)
            lease.done(True)
            answer = lease.value
            usage = usage_of(answer) or await estimated_usage(
                self.provider(lease.endpoint), lease.endpoint, body, _answer_text(answer), call.estimated_input_tokens
            )
            self._finish(call, outcome, lease.endpoint, usage, Outcome.OK, pii)
            return Answer(pii.restore_answer(lease.endpoint, answer), lease.endpoint)

    async def embeddings(self, call: ModelCall, body: Json) -> Answer:
        return await self._input_only(call, "embeddings", body, lambda ep, sent: self.provider(ep).embed(ep, sent))

    async def rerank(self, call: ModelCall, body: Json) -> Answer:
        """Relevance scores of ``body["documents"]`` for ``body["query"]`` from a rerank endpoint."""
        return await self._input_only(
            call, "rerank", body, lambda ep, sent: reranker(self.provider(ep)).rerank(ep, sent), rerank_usage
        )

    async def _input_only(
        self,
        call: ModelCall,
        kind: str,
        body: Json,
        send: Callable[[EndpointConfig, Json], Awaitable[Json]],
        counted: Callable[[Json], Usage | None] = usage_of,
    ) -> Answer:
        """A call whose reply carries no text to restore (embeddings, rerank): the reply as the
        upstream gave it, its usage as ``counted`` reads it (else the input estimate)."""
        async with self._governed(call, kind, body) as (outcome, tiers, pii):

            async def attempt(ep: EndpointConfig) -> Json:
                return await send(ep, await pii.body_for(ep))

            lease = await self.router.run(tiers, attempt, outcome)
            lease.done(True)
            usage = counted(lease.value) or Usage(call.estimated_input_tokens, 0, estimated=True)
            self._finish(call, outcome, lease.endpoint, usage, Outcome.OK, pii)
            return Answer(lease.value, lease.endpoint)

    async def stream_chat(self, call: ModelCall, body: Json, sink: StreamSink) -> None:
        """Relay the answer as SSE into ``sink``; errors before the first event raise (nothing was
        sent yet), errors after it end the stream with an error event."""
        options = body.get("stream_options")
        wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        upstream = {**body, "stream": True, "stream_options": {**(options or {}), "include_usage": True}}
        watch = StreamWatch(client_wants_usage=wants_usage)
        async with self._governed(call, "chat", upstream) as (outcome, tiers, pii):
            lease = await self.router.run(tiers, lambda ep: self._open_stream(ep, pii, call, watch), outcome)
            events = lease.value
            ok: bool | None = None
            try:
                await sink.start(lease.endpoint)
                ok = await relay(events, watch, sink, outcome, pii.stream_restorer(lease.endpoint))
            finally:
                with anyio.CancelScope(shield=True):
                    await events.aclose()
                lease.done(ok)
                outcome.ttft_ms = _ms_since(call.started_at, watch.first_token_at)
                usage = watch.usage or await estimated_usage(
                    self.provider(lease.endpoint),
                    lease.endpoint,
                    upstream,
                    watch.output_text(),
                    call.estimated_input_tokens,
                )
                result = outcome.outcome if ok is False else Outcome.OK
                self._finish(call, outcome, lease.endpoint, usage, result, pii)

    async def _open_stream(
        self, endpoint: EndpointConfig, pii: PiiSession, call: ModelCall, watch: StreamWatch
    ) -> ReplayedStream:
        body = await pii.body_for(endpoint)
        events = self.provider(endpoint).stream_chat(endpoint, body, caller=_caller(call))
        try:
            first = await anext(events)
            watch.check_first(first)
        except StopAsyncIteration:
            raise UpstreamError("モデルサーバーのストリームが空でした。", code="upstream_malformed") from None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await events.aclose()  # type: ignore[attr-defined]
            raise
        return ReplayedStream(first, events)

    # -- plumbing ----------------------------------------------------------------------------
    def provider(self, endpoint: EndpointConfig) -> ModelProvider:
        provider = self.providers.get(endpoint.provider)
        if provider is None:
            raise UpstreamError(
                f"プロバイダー「{endpoint.provider}」が導入されていません。", code="provider_missing", retry_same=False
            )
        return provider

    async def _tiers(self, call: ModelCall, kind: str, outcome: CallOutcome) -> Tiers:
        catalog = await self.catalog.get()
        name = task_alias(call, catalog.aliases)
        if name != call.requested_model:
            outcome.decisions["routed_by"] = name  # the task's alias, set from evaluation results
        return self.router.candidates(call, catalog.tiers(name), kind)

    @staticmethod
    def _finish(
        call: ModelCall, outcome: CallOutcome, endpoint: EndpointConfig, usage: Usage, result: Outcome, pii: PiiSession
    ) -> None:
        outcome.outcome = result
        outcome.endpoint_id, outcome.endpoint_name = endpoint.id, endpoint.name
        outcome.upstream_model = endpoint.upstream_model or endpoint.name
        outcome.usage = usage
        outcome.cost_jpy = cost_of(endpoint, usage)
        outcome.decisions.update(clearance=endpoint.clearance, external=endpoint.external)
        pii.settle(endpoint, outcome)

    @asynccontextmanager
    async def _governed(
        self, call: ModelCall, kind: str, body: Json
    ) -> AsyncIterator[tuple[CallOutcome, Tiers, PiiSession]]:
        """Candidates (404/403 refuse before admission: unknown, not cleared, PII blocked), admission,
        then the caller's work; settle and record afterwards whatever happened, shielded from the
        client's cancellation."""
        outcome = CallOutcome()
        hooks = self.hooks
        admitted = False
        pii = self.pii.begin(kind, body)
        try:
            tiers = await pii.admissible(await self._tiers(call, kind, outcome), outcome)
            tiers = _choose_team(call, tiers)
            _set_price_ceiling(call, tiers)
            await hooks.admit(call)
            admitted = True
            yield outcome, tiers, pii
        except BaseException as exc:
            _classify_failure(outcome, exc)
            raise
        finally:
            outcome.latency_ms = (time.monotonic() - call.started_at) * 1000
            with anyio.CancelScope(shield=True), anyio.move_on_after(FINALISE_TIMEOUT):
                await _after(hooks, call, outcome, admitted)

    async def aclose(self) -> None:
        for provider in self.providers.values():
            closer: Callable[[], Awaitable[None]] | None = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()


async def _after(hooks: GatewayHooks, call: ModelCall, outcome: CallOutcome, admitted: bool) -> None:
    """Settle (admitted calls) and record side by side: the counters' reconciliation (a Redis round
    trip in scale-out mode) does not wait for the records' commit, nor the commit for it. Both are
    awaited; a failure of either is raised, the record's first."""
    if not admitted:
        await hooks.record(call, outcome)
        return
    settled, recorded = await asyncio.gather(
        hooks.settle(call, outcome), hooks.record(call, outcome), return_exceptions=True
    )
    for result in (recorded, settled):
        if isinstance(result, BaseException):
            raise result


def _choose_team(call: ModelCall, tiers: Tiers) -> Tiers:
    """Before admission (so the team's limits apply): a caller in several teams who named none is
    charged to the lowest-id team of theirs that may use the first candidate; the call then keeps to
    the endpoints that team may use."""
    if call.team_id is not None or not call.principal.team_ids:
        return tiers
    first = tiers[0][0]
    teams = call.principal.team_ids & first.team_ids if first.team_ids is not None else call.principal.team_ids
    call.team_id = min(teams)
    return [kept for tier in tiers if (kept := [ep for ep in tier if team_may_use(call, ep)])]


def _set_price_ceiling(call: ModelCall, tiers: Tiers) -> None:
    endpoints = [ep for tier in tiers for ep in tier]
    call.max_input_price_per_1k_jpy = max(ep.price_input_per_1k for ep in endpoints)
    call.max_output_price_per_1k_jpy = max(ep.price_output_per_1k for ep in endpoints)


def _classify_failure(outcome: CallOutcome, exc: BaseException) -> None:
    if isinstance(exc, asyncio.CancelledError | ClientGone):
        outcome.outcome, outcome.error_code = Outcome.CANCELLED, "client_disconnected"
    elif isinstance(exc, HiragaError):
        outcome.outcome = Outcome.REFUSED if exc.status < 500 else Outcome.FAILED
        outcome.error_code = exc.code
        if exc.status == 403 and exc.detail:  # the rule that refused it (clearance, PII)
            outcome.decisions["refusal"] = exc.detail
    else:
        outcome.outcome, outcome.error_code = Outcome.FAILED, "internal_error"


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _caller(call: ModelCall) -> str:
    return f"user:{call.principal.user_id}"


def _ms_since(start: float, moment: float | None) -> float | None:
    return None if moment is None else (moment - start) * 1000


def _answer_text(answer: Json) -> str:
    return "".join(
        str((choice.get("message") or {}).get("content") or "")
        for choice in answer.get("choices", [])
        if isinstance(choice, dict)
    )


AUTO = "auto"


def task_alias(call: ModelCall, aliases: Mapping[str, object]) -> str:
    """``auto`` asked by a task app (source ``app:<task>``) means the task's alias ``auto-<task>`` when
    an administrator set one (``hiraga eval route``: models ranked by measured scores); else the
    name as asked."""
    if call.requested_model == AUTO and call.source.startswith("app:"):
        specific = f"{AUTO}-{call.source.removeprefix('app:')}"
        if specific in aliases:
            return specific
    return call.requested_model


def input_estimate(body: Json) -> int:
    return estimate_tokens(message_text(body.get("messages")) if "messages" in body else rerank_text(body))
