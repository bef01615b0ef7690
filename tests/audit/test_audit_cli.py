"""``hiraga audit verify|export|prune`` on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from audit_support import Append

from hiraga.audit import chain
from hiraga.audit.keys import AuditKeys
from hiraga.store.database import Database


def test_verify_seals_and_names_the_first_bad_record(
    run,
    database: Database,
    audit_keys: AuditKeys,
    append: Append,  # type: ignore[no-untyped-def]
) -> None:
    ids = append(5)
    ok = run("verify")
    assert ok.exit_code == 0 and "OK" in ok.output and "記録 5 件" in ok.output
    assert run("verify", "--no-seal").output.count("シール 1 件") == 1
    with database.engine.begin() as connection:
        connection.execute(sa.update(chain.AUDIT).where(chain.AUDIT.c.id == ids[3]).values(outcome="failed"))
    bad = run("verify")
    assert bad.exit_code == 2 and f"記録 {ids[3]}" in bad.output and "[altered]" in bad.output


def test_export_and_prune(
    run,
    database: Database,
    audit_keys: AuditKeys,
    append: Append,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    append(4, occurred_at=datetime.now(UTC) - timedelta(days=400))
    append(2, start=4)
    target = tmp_path / "audit.jsonl"
    exported = run("export", "--format", "jsonl", "--output", str(target))
    assert exported.exit_code == 0, exported.output
    assert len([json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]) == 6
    pruned = run("prune", "--keep", "model_call=365")
    assert pruned.exit_code == 0 and "4 件の記録を削除" in pruned.output
    assert run("verify").exit_code == 0
    assert run("prune", "--keep", "model_call").exit_code != 0
