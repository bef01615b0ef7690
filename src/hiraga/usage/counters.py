"""The two counter stores behind admission: the database (embedded) and Redis (scale-out).

Both check-and-increment every counter a call touches atomically, so a limit is never exceeded
however many calls arrive at once, across any number of processes:

* database: one multi-row ``INSERT ... ON CONFLICT DO UPDATE ... WHERE used + amount <= cap
  RETURNING key`` inside the ledger's transaction. The upsert takes SQLite's write lock / the
  PostgreSQL row locks, so the check and the increment cannot interleave with another writer; a
  counter that would overflow returns no row, and the increments already made are taken back in
  the same transaction.
* Redis: one Lua script (atomic in Redis) that checks all counters, then increments all.

Redis lost mid-run fails closed: a call that a limit applies to is refused with 503 (nothing is
admitted uncounted, so no quota is ever exceeded); calls no limit applies to never touch Redis and
keep working. A reconciliation that cannot reach Redis leaves the reservation counted (it may only
over-count) and is logged.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Sequence
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Connection, Table, delete

from hiraga.errors import ServiceUnavailable
from hiraga.spine.policy import Charge
from hiraga.store.tables.usage import LimitCounter
from hiraga.usage.ledger import Ledger
from hiraga.usage.windows import COUNTER_GRACE_S

COUNTERS = cast(Table, LimitCounter.__table__)
log = logging.getLogger("hiraga.usage")

# Hand-written SQL, identical on SQLite and PostgreSQL but for the placeholder: this runs for every
# limited call, and SQLAlchemy would compile a fresh multi-row statement each time.
UPSERT_HEAD = "INSERT INTO limit_counters (key, used, cap, expires_at) VALUES "
UPSERT_TAIL = (
    " ON CONFLICT (key) DO UPDATE SET used = limit_counters.used + excluded.used, cap = excluded.cap"
    " WHERE limit_counters.used + excluded.used <= excluded.cap AND limit_counters.used < excluded.cap"
    " RETURNING key"
)
ADD_SQL = "UPDATE limit_counters SET used = used + {p} WHERE key = {p}"


@functools.cache
def _upsert_sql(rows: int, placeholder: str) -> str:
    values = ", ".join(["(" + ", ".join([placeholder] * 4) + ")"] * rows)
    return UPSERT_HEAD + values + UPSERT_TAIL


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _upsert_charges(connection: Connection, charges: Sequence[Charge]) -> int | None:
    params: list[object] = []
    for c in charges:
        params += [c.key, c.amount, c.rule.cap, c.ends_at + COUNTER_GRACE_S]
    sql = _upsert_sql(len(charges), _placeholder(connection))
    charged = {row[0] for row in connection.exec_driver_sql(sql, tuple(params))}
    if len(charged) == len(charges):
        return None
    _add(connection, [(c, -c.amount) for c in charges if c.key in charged])
    return next(i for i, c in enumerate(charges) if c.key not in charged)


def _add(connection: Connection, deltas: Sequence[tuple[Charge, int]]) -> None:
    if deltas:
        sql = ADD_SQL.format(p=_placeholder(connection))
        connection.exec_driver_sql(sql, [(delta, charge.key) for charge, delta in deltas])


def drop_expired_counters(connection: Connection) -> None:
    connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at < time.time()))


class SqlCounterStore:
    """Counters in the database, written through the ledger's transactions."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def reserve(self, charges: Sequence[Charge]) -> int | None:
        result: int | None = await self.ledger.run(lambda c: _upsert_charges(c, charges))
        return result

    async def adjust(self, deltas: Sequence[tuple[Charge, int]]) -> None:
        # Not awaited: it lands in the same or an earlier batch than the call's usage record.
        self.ledger.post(lambda c: _add(c, deltas))


# KEYS: the counters; ARGV: amount, cap, ttl seconds for each key in turn.
RESERVE_SCRIPT = """
for i = 1, #KEYS do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local amount = tonumber(ARGV[3 * i - 2])
  local cap = tonumber(ARGV[3 * i - 1])
  if used >= cap or used + amount > cap then return i end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
end
return 0
"""


class RedisCounterStore:
    """Counters in Redis: one round trip per admission, one per reconciliation."""

    def __init__(self, redis: Redis, prefix: str = "hiraga:") -> None:
        self.redis = redis
        self.prefix = prefix + "limit:"
        self._reserve = redis.register_script(RESERVE_SCRIPT)

    async def reserve(self, charges: Sequence[Charge]) -> int | None:
        now = time.time()
        keys = [self.prefix + c.key for c in charges]
        args: list[int] = []
        for c in charges:
            args += [c.amount, c.rule.cap, math.ceil(c.ends_at - now) + COUNTER_GRACE_S]
        try:
            refused = int(await self._reserve(keys=keys, args=args))
        except RedisError:
            log.warning("Redis に接続できないため、上限の対象となる呼び出しを断りました", exc_info=True)
            raise ServiceUnavailable(
                "利用上限の確認ができないため、しばらくしてから再度お試しください。", code="limits_unavailable"
            ) from None
        return None if refused == 0 else refused - 1

    async def adjust(self, deltas: Sequence[tuple[Charge, int]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for charge, delta in deltas:
                    pipe.incrby(self.prefix + charge.key, delta)
                await pipe.execute()
        except RedisError:  # the reservation stays counted: over, never under
            log.warning(
                "Redis に接続できないため、利用量の精算を見送りました（予約分が計上されたままです）", exc_info=True
            )

    async def used(self, charge: Charge) -> int:
        value = await self.redis.get(self.prefix + charge.key)
        return int(value or 0)
