"""Spine step 3 (quota part): admit a model call against budgets, quotas and rate limits.

Every limit that applies to the call (its user's, its team's, its API key's) is charged in one
atomic check-and-increment by a ``CounterStore``: a database transaction in embedded mode, one
Lua call in Redis in scale-out mode. Admission *reserves* what the call may use (one request, the
prompt's tokens plus the output allowance, their price at the dearest candidate endpoint);
``settle`` replaces the reservation by what was really used. A refused call raises
``TooManyRequests`` (429, ``Retry-After``) naming the limit in Japanese.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hiraga.errors import TooManyRequests
from hiraga.spine.call import CallOutcome, ModelCall
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage.windows import counter_key, retry_after_seconds

DEFAULT_OUTPUT_RESERVE_TOKENS = 1024  # reserved when the client sets no max_tokens
MICRO_YEN = Decimal(1_000_000)

SCOPE_LABELS = {LimitScope.USER: "利用者", LimitScope.TEAM: "チーム", LimitScope.KEY: "API キー"}
WINDOW_LABELS = {LimitWindow.MINUTE: "1分", LimitWindow.DAY: "1日", LimitWindow.MONTH: "1か月"}
METRIC_LABELS = {
    LimitMetric.REQUESTS: "リクエスト数",
    LimitMetric.TOKENS: "トークン",
    LimitMetric.COST_JPY: "利用料金",
}


@dataclass(frozen=True, slots=True)
class LimitRule:
    """A limit definition as the hot path needs it (with its subject's display name)."""

    id: int
    scope: LimitScope
    subject_id: int
    subject_name: str
    metric: LimitMetric
    window: LimitWindow
    amount: Decimal

    @property
    def cap(self) -> int:
        """The limit in counter units (requests, tokens, or millionths of a yen)."""
        if self.metric is LimitMetric.COST_JPY:
            return int(self.amount * MICRO_YEN)
        return int(self.amount)

    def describe(self) -> str:
        """e.g. チーム「企画課」の1日あたりのトークン上限（100,000）"""
        cost = self.metric is LimitMetric.COST_JPY
        shown = f"{self.amount.normalize():,f}円" if cost else f"{int(self.amount):,}"
        return (
            f"{SCOPE_LABELS[self.scope]}「{self.subject_name}」の{WINDOW_LABELS[self.window]}あたりの"
            f"{METRIC_LABELS[self.metric]}上限（{shown}）"
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """One counter a call is charged to, and how much was reserved on it."""

    rule: LimitRule
    key: str
    amount: int
    ends_at: float


class CounterStore(Protocol):
    async def reserve(self, charges: Sequence[Charge]) -> int | None:
        """Add every charge, or none: returns None when admitted, else the index of a charge
        that would go over its cap."""

    async def adjust(self, deltas: Sequence[tuple[Charge, int]]) -> None:
        """Add (possibly negative) corrections to counters, unconditionally."""


class LimitBook:
    """The limit definitions, held in memory and reloaded every ``ttl_s`` seconds (and at once
    after a change made through this process)."""

    def __init__(self, load: Callable[[], list[LimitRule]], ttl_s: float = 5.0) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._loaded_at = -math.inf
        self._rules: dict[tuple[LimitScope, int], list[LimitRule]] = {}
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded_at = -math.inf

    async def rules_for(self, call: ModelCall) -> list[LimitRule]:
        if time.monotonic() - self._loaded_at > self._ttl_s:
            await self._reload()
        principal = call.principal
        subjects = [(LimitScope.USER, principal.user_id)]
        if call.team_id is not None:
            subjects.append((LimitScope.TEAM, call.team_id))
        if principal.api_key_id is not None:
            subjects.append((LimitScope.KEY, principal.api_key_id))
        return [rule for subject in subjects for rule in self._rules.get(subject, ())]

    async def _reload(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at <= self._ttl_s:
                return
            rules = await asyncio.to_thread(self._load)
            indexed: dict[tuple[LimitScope, int], list[LimitRule]] = {}
            for rule in rules:
                indexed.setdefault((rule.scope, rule.subject_id), []).append(rule)
            self._rules = indexed
            self._loaded_at = time.monotonic()


@dataclass(slots=True)
class Reservation:
    charges: list[Charge]


def reserved_tokens(call: ModelCall) -> int:
    output = call.max_output_tokens
    if output is None:
        output = 0 if call.kind == "embeddings" else DEFAULT_OUTPUT_RESERVE_TOKENS
    return call.estimated_input_tokens + output


def reserved_micro_yen(call: ModelCall) -> int:
    output = reserved_tokens(call) - call.estimated_input_tokens
    yen = (
        call.estimated_input_tokens * call.max_input_price_per_1k_jpy + output * call.max_output_price_per_1k_jpy
    ) / 1000
    return math.ceil(yen * MICRO_YEN)


def _amount(metric: LimitMetric, tokens: int, micro_yen: int) -> int:
    if metric is LimitMetric.REQUESTS:
        return 1
    return tokens if metric is LimitMetric.TOKENS else micro_yen


class Admission:
    """Admits or refuses model calls; reconciles what they really used."""

    def __init__(self, book: LimitBook, store: CounterStore, clock: Callable[[], float] = time.time) -> None:
        self.book = book
        self.store = store
        self.clock = clock

    async def admit(self, call: ModelCall) -> Reservation:
        rules = await self.book.rules_for(call)
        if not rules:
            return Reservation([])
        now = self.clock()
        tokens, micro_yen = reserved_tokens(call), reserved_micro_yen(call)
        charges = []
        for rule in rules:
            key, ends_at = counter_key(rule.id, rule.window, now)
            charges.append(Charge(rule, key, _amount(rule.metric, tokens, micro_yen), ends_at))
        for charge in charges:  # a call bigger than a whole window can never pass
            if charge.amount > charge.rule.cap or charge.rule.cap <= 0:
                raise refusal(charge, now)
        refused = await self.store.reserve(charges)
        if refused is not None:
            raise refusal(charges[refused], now)
        return Reservation(charges)

    async def settle(self, reservation: Reservation, outcome: CallOutcome) -> None:
        tokens = outcome.usage.total_tokens
        micro_yen = int(outcome.cost_jpy * MICRO_YEN)
        deltas = []
        for charge in reservation.charges:
            delta = _amount(charge.rule.metric, tokens, micro_yen) - charge.amount
            if delta:
                deltas.append((charge, delta))
        if deltas:
            await self.store.adjust(deltas)


def refusal(charge: Charge, now: float) -> TooManyRequests:
    rule = charge.rule
    return TooManyRequests(
        f"{rule.describe()}に達しました。",
        retry_after=retry_after_seconds(charge.ends_at, now),
        code="rate_limited" if rule.window is LimitWindow.MINUTE else "quota_exceeded",
        detail={
            "limit_id": rule.id,
            "scope": rule.scope.value,
            "subject_id": rule.subject_id,
            "metric": rule.metric.value,
            "window": rule.window.value,
            "limit": str(rule.amount),
        },
    )
