"""What one durable commit costs on this PostgreSQL right now: p50 of a one-row INSERT + COMMIT
(synchronous_commit as the server has it, i.e. the WAL flushed to disk before COMMIT returns) and of a
SELECT 1 round trip, over N tries, on a scratch table it creates and drops.

    python bench/pg_commit_probe.py postgresql://postgres@127.0.0.1:5432/DB [N]

bench/c1_latency.sh runs it next to the latency runs: at concurrency 1 no two calls share a commit,
so the WAL flush is a floor under PostgreSQL's added latency that hiraga cannot remove without
giving up durability.
"""

from __future__ import annotations

import statistics
import sys
import time

import psycopg


def p50_ms(work: object, n: int) -> float:
    taken = []
    for _ in range(n):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        taken.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(taken), 3)


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS hiraga_commit_probe (n int)")
        connection.commit()
        setting = connection.execute("SHOW synchronous_commit").fetchone()

        def commit_one() -> None:
            connection.execute("INSERT INTO hiraga_commit_probe VALUES (1)")
            connection.commit()

        def round_trip() -> None:
            connection.execute("SELECT 1")
            connection.commit()

        commit, select = p50_ms(commit_one, n), p50_ms(round_trip, n)
        connection.execute("DROP TABLE hiraga_commit_probe")
        connection.commit()
    print(
        f"commit probe (synchronous_commit={setting[0] if setting else '?'}): INSERT+COMMIT p50 {commit} ms, "
        f"SELECT 1 p50 {select} ms, {n} tries"
    )


if __name__ == "__main__":
    main()
