"""One call at a time through the usage/audit ledger (``UsageHooks.record``), as at concurrency 1:
p50 ms per record, SQL statements per record and, on PostgreSQL, psycopg's network exchanges per
record by kind (statement, commit, rollback, autocommit switch).

    python bench/ledger_c1.py postgresql://postgres@127.0.0.1:5432/DB [N]    # the DB is migrated
    PYTHONPATH=<other checkout>/src python bench/ledger_c1.py URL             # another revision

Needs HIRAGA_SECRET_KEY (or a data dir holding one). Writes N + 10 usage and audit records.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections import Counter
from typing import Any

import psycopg
from sqlalchemy import event

from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.call import CallOutcome, ModelCall, Outcome, Usage
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.usage.hooks import build_hooks

EXCHANGES: Counter[str] = Counter()
_wait = psycopg.Connection.wait


def _counted_wait(self: psycopg.Connection[Any], gen: Any, *args: Any, **kwargs: Any) -> Any:
    EXCHANGES[getattr(gen, "__qualname__", "?").split(".")[-1].removesuffix("_gen").lstrip("_")] += 1
    return _wait(self, gen, *args, **kwargs)


psycopg.Connection.wait = _counted_wait  # type: ignore[method-assign]
PRINCIPAL = Principal(user_id=1, email="bench@example.jp", display_name="bench", via="api_key", api_key_id=1)


async def records(url: str, n: int) -> None:
    settings = load_settings(database_url=url)
    migrate.upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0].upper()))
    hooks = build_hooks(settings, database)

    async def one() -> float:
        started = time.perf_counter()
        call = ModelCall(principal=PRINCIPAL, kind="chat", requested_model="bench")
        await hooks.record(call, CallOutcome(Outcome.OK, usage=Usage(10, 2)))
        return (time.perf_counter() - started) * 1000

    for _ in range(10):
        await one()
    statements.clear()
    EXCHANGES.clear()
    taken = [await one() for _ in range(n)]
    await hooks.close()
    database.dispose()
    per = {kind: count / n for kind, count in sorted(EXCHANGES.items())}
    print(
        f"record() p50 {statistics.median(taken):.3f} ms over {n}; statements per call "
        f"{len(statements) / n:.2f} {dict(Counter(statements))}; psycopg exchanges per call "
        f"{sum(EXCHANGES.values()) / n:.2f} {per}"
    )


if __name__ == "__main__":
    asyncio.run(records(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300))
