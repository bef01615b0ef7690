"""``hiraga backup`` (online copy + gzip + full verification: digests, integrity_check, audit chain)
against the plain peer an operator might script instead (``sqlite3 db ".backup copy"`` then
``tar czf``, no verification), on an embedded instance with N chained audit records.

    .venv/bin/python bench/ops/backup_speed.py [--records 200000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HIRAGA = str(Path(sys.executable).parent / "hiraga")


def build(data: Path, records: int) -> None:
    env = os.environ | {"HIRAGA_PASSWORD_HASHING": "test"}

    def run(*words: str) -> None:
        command = [HIRAGA, *words, "--data-dir", str(data)]
        subprocess.run(command, check=True, capture_output=True, env=env, input=b"Shiyakusho-2026!\n")

    run("admin", "create-org", "A市")
    with sqlite3.connect(data / "hiraga.db") as db:  # unchained rows, chained by the next append
        db.executemany(
            "INSERT INTO audit_records (occurred_at, request_id, action, source, via, actor_user_id, actor_email,"
            " team_id, classification, model, outcome, detail, input_tokens, output_tokens, cost_jpy)"
            " VALUES (?, ?, 'chat', 'api', 'api_key', 1, 'clerk@city.example.lg.jp', 1, 1, 'default', 'ok',"
            " '{}', 120, 300, 0)",
            ((f"2026-12-01 09:00:{i % 60:02d}.000000", f"req-{i}") for i in range(records)),
        )
    run("admin", "create-user", "u@city.example.lg.jp", "--password-stdin")  # the append chains them all


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build(data, args.records)
        size = (data / "hiraga.db").stat().st_size
        started = time.perf_counter()
        subprocess.run([HIRAGA, "backup", f"{tmp}/h.backup", "--data-dir", str(data)], check=True, capture_output=True)
        hiraga_s = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(["sqlite3", str(data / "hiraga.db"), f".backup {tmp}/copy.db"], check=True)
        subprocess.run(["tar", "czf", f"{tmp}/peer.tar.gz", "-C", tmp, "copy.db"], check=True)
        peer_s = time.perf_counter() - started
        print(
            f"records={args.records} db={size / 1e6:.1f} MB hiraga_backup={hiraga_s:.2f}s "
            f"({Path(tmp, 'h.backup').stat().st_size / 1e6:.1f} MB) peer={peer_s:.2f}s "
            f"({Path(tmp, 'peer.tar.gz').stat().st_size / 1e6:.1f} MB) ratio={hiraga_s / peer_s:.2f}"
        )


if __name__ == "__main__":
    main()
