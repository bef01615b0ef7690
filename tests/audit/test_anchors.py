"""Anchors of the chain head outside the database: deleting the newest records after an anchor
fails ``hiraga audit verify`` with the missing range; an edited anchor file is detected too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from audit_support import Append
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.audit import anchors, chain
from hiraga.audit.keys import AuditKeys
from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.usage.hooks import build_hooks


@pytest.fixture
def anchor_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "anchors" / "audit-anchors.jsonl"
    monkeypatch.setenv("HIRAGA_AUDIT_ANCHOR_FILE", str(path))  # for the CLI (``run``)
    return path


def delete_records(database: Database, ids: list[int]) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.delete(chain.AUDIT).where(chain.AUDIT.c.id.in_(ids)))


def test_deleting_the_newest_records_after_an_anchor_is_named(
    run,
    database: Database,
    audit_keys: AuditKeys,
    append: Append,
    anchor_file: Path,  # type: ignore[no-untyped-def]
) -> None:
    ids = append(6)
    anchored = run("anchor")
    assert anchored.exit_code == 0, anchored.output
    assert f"記録 {ids[-1]}" in anchored.output
    untouched = run("verify", "--no-seal")
    assert untouched.exit_code == 0 and "アンカー 1 件" in untouched.output, untouched.output
    delete_records(database, ids[4:])  # the chain that is left still verifies on its own
    bad = run("verify", "--no-seal")
    assert bad.exit_code == 2, bad.output
    assert f"記録 {ids[4]}〜{ids[5]} がありません" in bad.output and "[truncated]" in bad.output


def test_records_written_after_the_truncation_do_not_hide_it(
    run,
    database: Database,
    audit_keys: AuditKeys,
    append: Append,
    anchor_file: Path,  # type: ignore[no-untyped-def]
) -> None:
    ids = append(4)
    assert run("anchor").exit_code == 0
    delete_records(database, ids[2:])
    append(3, start=10)  # new records chain onto what is left (SQLite may even reuse the ids)
    bad = run("verify", "--no-seal")
    assert bad.exit_code == 2 and "[truncated]" in bad.output, bad.output
    assert f"記録 {ids[3]}" in bad.output


def test_an_edited_anchor_file_is_detected(
    run,
    audit_keys: AuditKeys,
    append: Append,
    anchor_file: Path,  # type: ignore[no-untyped-def]
) -> None:
    append(3)
    assert run("anchor").exit_code == 0
    append(2, start=3)
    assert run("anchor").exit_code == 0
    lines = anchor_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["prev"] == json.loads(lines[0])["sig"]
    forged = json.loads(lines[1]) | {"through_id": json.loads(lines[0])["through_id"]}
    anchor_file.write_text(lines[0] + "\n" + json.dumps(forged) + "\n", encoding="utf-8")
    assert "2 行目が改ざんされています" in run("verify", "--no-seal").output
    anchor_file.write_text(lines[1] + "\n", encoding="utf-8")  # the first line removed
    removed = run("verify", "--no-seal")
    assert removed.exit_code == 2 and "1 行目" in removed.output and "[anchor_forged]" in removed.output


def test_anchor_without_a_destination_is_a_clear_error(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HIRAGA_AUDIT_ANCHOR_FILE", raising=False)
    result = run("anchor")
    assert result.exit_code == 2 and "HIRAGA_AUDIT_ANCHOR_FILE" in result.output


def test_a_serving_process_anchors_after_n_records_and_to_syslog(
    database: Database, settings: Settings, audit_keys: AuditKeys, append: Append, anchor_file: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    monkeypatch.setattr(anchors.syslog, "syslog", lambda _priority, line: sent.append(line))
    configured = settings.model_copy(
        update={"audit_anchor_file": anchor_file, "audit_anchor_syslog": True, "audit_anchor_every_records": 3}
    )
    hooks = build_hooks(configured, database)  # as the app wires it: the ledger's housekeeping anchors
    assert hooks.ledger.housekeeping is not None
    housekeeping = hooks.ledger.housekeeping
    ids = append(2)

    def housekeep() -> None:
        with database.engine.begin() as connection:
            housekeeping(connection)

    housekeep()  # the first anchor
    housekeep()  # the head has not moved: nothing
    append(2, start=2)
    housekeep()  # 2 < 3 new records and the hour has not passed: nothing
    grown = append(1, start=4)
    housekeep()
    written = [json.loads(line) for line in anchor_file.read_text(encoding="utf-8").splitlines()]
    assert [a["through_id"] for a in written] == [ids[-1], grown[-1]]
    assert [json.loads(line) for line in sent] == written  # the same signed lines went to syslog
    with database.engine.connect() as connection:
        assert anchors.verify_anchors(connection, audit_keys.anchor, anchor_file) == (2, None)
    hooks.ledger.close()


def test_the_api_verifies_with_the_configured_anchor_file(
    settings: Settings, database: Database, audit_keys: AuditKeys, append: Append, anchor_file: Path
) -> None:
    scope = AccessScope(CLI_OPERATOR)
    with database.session() as db:
        auditor = directory.create_user(db, scope, email="kansa@example.go.jp", password=None, is_auditor=True)
        secret = api_keys.issue_key(db, CLI_OPERATOR, auditor.id, "verify", 1).secret
    ids = append(3)
    with database.engine.connect() as connection:
        anchors.write_anchor(connection, audit_keys.anchor, anchors.Sinks(anchor_file, syslog=False))
    app = create_app(settings.model_copy(update={"audit_anchor_file": anchor_file}))
    with TestClient(app) as client:
        headers = {"authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
        delete_records(database, ids[-1:])
        result = client.get("/api/v1/audit/verify", headers=headers).json()
    assert (result["ok"], result["problem_code"], result["record_id"]) == (False, "truncated", ids[-1])


def test_a_configured_anchor_file_that_is_gone_fails_verification(
    run,
    audit_keys: AuditKeys,
    append: Append,
    anchor_file: Path,  # type: ignore[no-untyped-def]
) -> None:
    append(2)
    assert run("anchor").exit_code == 0
    anchor_file.unlink()
    gone = run("verify", "--no-seal")
    assert gone.exit_code == 2 and "[anchor_file_missing]" in gone.output and "hiraga audit anchor" in gone.output
