"""``hiraga backup`` / ``hiraga restore`` on the embedded shape (SQLite): the backup restores into an
instance that passes ``hiraga audit verify``; corrupt, foreign or forged backups change nothing."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hiraga.cli.main import cli

ENV: dict[str, str | None] = {
    "HIRAGA_DATA_DIR": None,
    "HIRAGA_CONFIG": None,
    "HIRAGA_SECRET_KEY": None,
    "HIRAGA_DATABASE_URL": None,
}


def run(*words: str, env: dict[str, str | None] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(words), env=ENV | (env or {}), input=stdin)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded instance with audited administration and an index snapshot on disk."""
    data = tmp_path_factory.mktemp("source") / "data"
    assert run("db", "upgrade", "--data-dir", str(data)).exit_code == 0  # admin commands refuse a missing data dir
    for words in (["create-org", "A市"], ["create-team", "企画課", "--org", "A市"]):
        result = run("admin", *words, "--data-dir", str(data))
        assert result.exit_code == 0, result.output
    user = ["create-user", "kikaku@city.example", "--password-stdin", "--team", "企画課", "--team-admin"]
    result = run("admin", *user, "--data-dir", str(data), stdin="Shiyakusho-2026!\n")
    assert result.exit_code == 0, result.output
    snapshot = data / "knowledge" / "kb-1" / "g3"
    snapshot.mkdir(parents=True)
    (snapshot / "meta.json").write_text('{"generation": 3}')
    (data / "knowledge" / "kb-1" / ".tmp-1-abc").mkdir()  # staging left by a crash: not a snapshot
    (data / "knowledge" / "kb-1" / ".tmp-1-abc" / "meta.json").write_text("{}")
    return data


@pytest.fixture(scope="module")
def archive(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "hiraga.backup"
    result = run("backup", str(path), "--data-dir", str(source))
    assert result.exit_code == 0, result.output
    assert "検証しました" in result.output
    return path


def audit_count(data: Path) -> int:
    with sqlite3.connect(data / "hiraga.db") as connection:
        return int(connection.execute("SELECT count(*) FROM audit_records").fetchone()[0])


def test_a_restored_instance_has_the_data_and_passes_audit_verify(archive: Path, source: Path, tmp_path: Path) -> None:
    assert archive.stat().st_mode & 0o077 == 0  # it holds the secret key
    target = tmp_path / "restored"
    result = run("restore", str(archive), "--data-dir", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "secret_key").read_text() == (source / "secret_key").read_text()
    assert (target / "knowledge" / "kb-1" / "g3" / "meta.json").read_text() == '{"generation": 3}'
    assert not (target / "knowledge" / "kb-1" / ".tmp-1-abc").exists()
    assert audit_count(target) == audit_count(source) > 0
    verify = run("audit", "verify", "--no-seal", "--data-dir", str(target))
    assert verify.exit_code == 0, verify.output
    assert f"記録 {audit_count(source)} 件" in verify.output
    more = run("admin", "create-key", "kikaku@city.example", "--data-dir", str(target))  # the chain goes on
    assert more.exit_code == 0, more.output
    assert audit_count(target) == audit_count(source) + 1
    assert run("audit", "verify", "--no-seal", "--data-dir", str(target)).exit_code == 0


def test_restore_into_an_instance_is_refused_unless_forced(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    assert run("db", "upgrade", "--data-dir", str(target)).exit_code == 0
    assert run("admin", "create-org", "C村", "--data-dir", str(target)).exit_code == 0
    before = (target / "hiraga.db").read_bytes()
    refused = run("restore", str(archive), "--data-dir", str(target))
    assert refused.exit_code == 1 and "[conflict]" in refused.output
    assert (target / "hiraga.db").read_bytes() == before
    forced = run("restore", str(archive), "--data-dir", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    aside = [p for p in target.iterdir() if p.name.startswith(".replaced-")]
    assert len(aside) == 1 and (aside[0] / "hiraga.db").read_bytes() == before
    assert run("audit", "verify", "--no-seal", "--data-dir", str(target)).exit_code == 0


def test_a_corrupt_backup_is_refused_and_nothing_is_created(archive: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.backup"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    target = tmp_path / "never"
    result = run("restore", str(damaged), "--data-dir", str(target))
    assert result.exit_code == 1 and "[invalid_backup]" in result.output
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hiraga-")]  # staging cleaned up


def test_a_foreign_archive_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        _add(tar, "hiraga.db", b"not a database")
    result = run("restore", str(foreign), "--data-dir", str(tmp_path / "never"))
    assert result.exit_code == 1 and "manifest.json" in result.output
    assert not (tmp_path / "never").exists()


def test_a_forged_backup_with_matching_digests_fails_the_audit_chain(archive: Path, tmp_path: Path) -> None:
    """Someone edits an audit record in the backup and recomputes the manifest: the chain catches it."""
    files = _members(archive)
    db = tmp_path / "edited.db"
    db.write_bytes(files["hiraga.db"])
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE audit_records SET actor_email = 'someone@else' WHERE id = 1")
    files["hiraga.db"] = db.read_bytes()
    forged = tmp_path / "forged.backup"
    manifest = json.loads(files.pop("manifest.json"))
    manifest["files"] = {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()}
    with tarfile.open(forged, "w:gz") as tar:
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        for name, body in files.items():
            _add(tar, name, body)
    result = run("restore", str(forged), "--data-dir", str(tmp_path / "never"))
    assert result.exit_code == 1 and "監査ログ" in result.output, result.output
    assert not (tmp_path / "never").exists()


def test_backup_is_taken_while_a_writer_holds_a_transaction(source: Path, tmp_path: Path) -> None:
    writer = sqlite3.connect(source / "hiraga.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO organisations (name, created_at) VALUES ('未確定', CURRENT_TIMESTAMP)")
        result = run("backup", str(tmp_path / "online.backup"), "--data-dir", str(source))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(":memory:") as check:
        check.deserialize(_members(tmp_path / "online.backup")["hiraga.db"])
        names = {row[0] for row in check.execute("SELECT name FROM organisations")}
    assert names == {"A市"}  # committed rows only


def test_backup_refuses_to_overwrite_and_refuses_postgresql(archive: Path, source: Path, tmp_path: Path) -> None:
    again = run("backup", str(archive), "--data-dir", str(source))
    assert again.exit_code == 1 and "[conflict]" in again.output
    pg_data = ["--data-dir", str(tmp_path / "pg")]  # (without one: ./hiraga-data, in the checkout)
    pg = run(
        "backup", str(archive.with_name("pg.backup")), *pg_data, env={"HIRAGA_DATABASE_URL": "postgresql://db/hiraga"}
    )
    assert pg.exit_code == 2 and "pg_dump" in pg.output


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _add(tar: tarfile.TarFile, name: str, body: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    tar.addfile(info, io.BytesIO(body))
