"""Step 4 of the spine: pick the endpoint that serves a ModelCall.

Candidates are the endpoints behind the requested name (an endpoint or an alias) that the
caller's teams may use and whose clearance covers the call's classification. They come in tiers
(alias priority): within a tier the least busy healthy replica goes first; a failing endpoint is
retried with backoff when that may help (connect errors, timeouts, 429, 5xx), then the next
replica, then the next tier. A circuit breaker takes an endpoint out after repeated failures and
lets one probe through once its cool-down has passed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from hiraga.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable, UpstreamFailed
from hiraga.providers.base import EndpointConfig, UpstreamError
from hiraga.spine.call import CallOutcome, ModelCall

T = TypeVar("T")
Tiers = list[list[EndpointConfig]]


KIND_NAMES = {"chat": "チャット", "embeddings": "埋め込み（embeddings）", "rerank": "再ランキング（rerank）"}


class ModelNotFound(NotFound):
    code = "model_not_found"
    message = "指定されたモデルが見つからないか、利用が許可されていません。"


class NotCleared(Forbidden):
    code = "classification_not_cleared"
    message = "このモデルには、指定された機密性の情報を送信できません。"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts_per_endpoint: int = 2
    backoff_seconds: float = 0.2
    max_backoff_seconds: float = 2.0
    max_retry_after_seconds: float = 2.0  # a longer Retry-After moves on to the next endpoint

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retrying the same endpoint; None: do not retry it."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after_seconds else None
        base = min(self.max_backoff_seconds, self.backoff_seconds * (2**attempt))
        return float(base * (0.5 + random.random() / 2))


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 3
    cooldown_seconds: float = 10.0
    max_cooldown_seconds: float = 120.0


@dataclass(slots=True)
class _Health:
    cooldown: float
    failures: int = 0
    open_until: float = 0.0
    probing: bool = False
    in_flight: int = 0


class Lease(Generic[T]):
    """A successful attempt. ``done`` must be called once the endpoint's work is over."""

    def __init__(self, router: Router, endpoint: EndpointConfig, value: T) -> None:
        self.router, self.endpoint, self.value = router, endpoint, value
        self._open = True

    def done(self, ok: bool | None) -> None:
        """``ok`` False counts as a failure for the breaker; None is neutral (e.g. cancelled)."""
        if self._open:
            self._open = False
            self.router.release(self.endpoint, ok)


@dataclass
class Router:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _health: dict[int, _Health] = field(default_factory=dict)

    # -- choosing candidates -----------------------------------------------------------------
    @staticmethod
    def candidates(call: ModelCall, tiers: Sequence[Sequence[EndpointConfig]], kind: str) -> Tiers:
        """The usable tiers for this call; raises 404 (unknown or not allowed) or 403 (not cleared)."""
        allowed = [[ep for ep in tier if ep.enabled and team_may_use(call, ep)] for tier in tiers]
        allowed = [tier for tier in allowed if tier]
        if not allowed:
            raise ModelNotFound(
                f"モデル「{call.requested_model}」が見つからないか、利用が許可されていません。",
                detail={"field": "model"},
            )
        if all(ep.kind != kind for tier in allowed for ep in tier):
            use = KIND_NAMES.get(kind, kind)
            raise InvalidInput(
                f"モデル「{call.requested_model}」は{use}には使えません。",
                code="model_kind_mismatch",
                detail={"field": "model"},
            )
        level = int(call.classification)
        cleared = [[ep for ep in tier if ep.kind == kind and ep.clearance >= level] for tier in allowed]
        cleared = [tier for tier in cleared if tier]
        if not cleared:
            best = max(ep.clearance for tier in allowed for ep in tier)
            raise NotCleared(
                f"機密性{level}の情報は、クリアランスが{level}以上のモデルにしか送信できません"
                f"（モデル「{call.requested_model}」のクリアランスは最大{best}）。",
                detail={
                    "rule": "endpoint.clearance >= request.classification",
                    "field": "classification",
                    "classification": level,
                    "clearance": best,
                },
            )
        return cleared

    # -- running -----------------------------------------------------------------------------
    async def run(
        self, tiers: Tiers, attempt: Callable[[EndpointConfig], Awaitable[T]], outcome: CallOutcome
    ) -> Lease[T]:
        """Try endpoints in order until one attempt succeeds; raise 502/503 when none does."""
        last: UpstreamError | None = None
        for tier in tiers:
            tried: set[int] = set()
            while (endpoint := self._pick(tier, tried)) is not None:
                tried.add(endpoint.id)
                lease, error = await self._try_endpoint(endpoint, attempt, outcome)
                if lease is not None:
                    return lease
                last = error or last
        raise self._final_error(tiers, last, outcome.attempts)

    async def _try_endpoint(
        self, endpoint: EndpointConfig, attempt: Callable[[EndpointConfig], Awaitable[T]], outcome: CallOutcome
    ) -> tuple[Lease[T] | None, UpstreamError | None]:
        error: UpstreamError | None = None
        for n in range(self.retry.attempts_per_endpoint):
            if n and not self._available(endpoint):
                break
            self._acquire(endpoint)
            outcome.attempts += 1
            try:
                value = await attempt(endpoint)
            except UpstreamError as exc:
                self.release(endpoint, False)
                error = exc
                delay = self.retry.delay(n, exc.retry_after) if exc.retry_same else None
                if delay is None or n + 1 >= self.retry.attempts_per_endpoint:
                    break
                await self.sleep(delay)
                continue
            except BaseException:
                self.release(endpoint, None)
                raise
            return Lease(self, endpoint, value), None
        return None, error

    def _final_error(self, tiers: Tiers, last: UpstreamError | None, attempts: int) -> Exception:
        name = tiers[0][0].name if len(tiers) == 1 and len(tiers[0]) == 1 else "指定されたモデル"
        if attempts == 0 or (last is not None and last.upstream_status == 429):
            return ServiceUnavailable(
                f"{name}の接続先が現在すべて停止中または混雑しています。しばらく待ってからお試しください。",
                code="no_upstream_available",
                headers={"Retry-After": str(max(1, int(self.breaker.cooldown_seconds)))},
            )
        reason = f"（最後のエラー: {last.message}）" if last is not None else ""
        return UpstreamFailed(
            f"{name}のすべての接続先で応答に失敗しました（{attempts} 回試行）{reason}",
            code="all_upstreams_failed",
            detail={"attempts": attempts, "last_upstream_status": last.upstream_status if last else None},
        )

    # -- health and load ---------------------------------------------------------------------
    def _state(self, endpoint: EndpointConfig) -> _Health:
        health = self._health.get(endpoint.id)
        if health is None:
            health = self._health[endpoint.id] = _Health(cooldown=self.breaker.cooldown_seconds)
        return health

    def _available(self, endpoint: EndpointConfig) -> bool:
        health = self._state(endpoint)
        if endpoint.max_concurrent and health.in_flight >= endpoint.max_concurrent:
            return False
        if health.open_until == 0.0:
            return True
        return self.clock() >= health.open_until and not health.probing  # half-open: one probe

    def _pick(self, tier: Sequence[EndpointConfig], tried: set[int]) -> EndpointConfig | None:
        ready = [ep for ep in tier if ep.id not in tried and self._available(ep)]
        if not ready:
            return None
        least = min(self._state(ep).in_flight for ep in ready)
        return random.choice([ep for ep in ready if self._state(ep).in_flight == least])

    def _acquire(self, endpoint: EndpointConfig) -> None:
        health = self._state(endpoint)
        health.in_flight += 1
        if health.open_until and self.clock() >= health.open_until:
            health.probing = True

    def release(self, endpoint: EndpointConfig, ok: bool | None) -> None:
        health = self._state(endpoint)
        health.in_flight = max(0, health.in_flight - 1)
        if ok is None:
            health.probing = False
        elif ok:
            health.failures, health.open_until, health.probing = 0, 0.0, False
            health.cooldown = self.breaker.cooldown_seconds
        else:
            self._record_failure(health)

    def _record_failure(self, health: _Health) -> None:
        health.failures += 1
        if health.probing:  # the probe failed: out again, for twice as long
            health.cooldown = min(self.breaker.max_cooldown_seconds, health.cooldown * 2)
        if health.probing or health.failures >= self.breaker.failure_threshold:
            health.open_until = self.clock() + health.cooldown
            health.probing = False

    def is_open(self, endpoint: EndpointConfig) -> bool:
        """True while the breaker keeps the endpoint out (cool-down not yet over)."""
        return self.clock() < self._state(endpoint).open_until

    def in_flight(self, endpoint: EndpointConfig) -> int:
        return self._state(endpoint).in_flight

    def health(self, endpoint_id: int) -> str:
        """For the admin pages: "unused" (no call yet), "ok", "failing" (recent failures, still in),
        "open" (taken out, cooling down) or "probing" (cool-down over, the next call is the probe)."""
        health = self._health.get(endpoint_id)
        if health is None:
            return "unused"
        if health.open_until:
            return "open" if self.clock() < health.open_until else "probing"
        return "failing" if health.failures else "ok"


def team_may_use(call: ModelCall, endpoint: EndpointConfig) -> bool:
    if endpoint.team_ids is None:
        return True
    if call.team_id is not None:
        return call.team_id in endpoint.team_ids
    return bool(endpoint.team_ids & call.principal.team_ids)
