"""Backups of the embedded shape: one archive that a restore can trust.

The archive (tar, gzip) holds ``manifest.json`` first, then the SQLite database taken with SQLite's
online backup API (consistent while ``hiraga serve`` keeps writing), the knowledge-base index
snapshots (``knowledge/``: complete snapshot directories only) and the secret key the audit chain is
keyed with. The manifest names every file with its size and SHA-256, the schema revision and the
audit chain's head. A backup is verified after writing (``verify_archive``: digests, SQLite
``integrity_check``, the audit chain with the backup's own key) and only then renamed into place, so
a file at the destination path is always a complete, verified backup.

The index snapshots are copied before the database: a snapshot older than the database is brought up
to date by the index itself (it compares document versions with the database), never the reverse.

The scale-out shape (PostgreSQL) is backed up with ``pg_dump`` (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, pool

import hiraga
from hiraga.audit.keys import derive
from hiraga.audit.verify import VerifyReport, verify_chain
from hiraga.errors import ConfigurationError, Conflict, InvalidInput
from hiraga.settings import SECRET_KEY_FILE, Settings

FORMAT = "hiraga-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "hiraga.db"
KNOWLEDGE = "knowledge"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verified:
    """What checking an archive found: its manifest and the audit chain of its database."""

    manifest: dict[str, Any]
    chain: VerifyReport


def sqlite_path(settings: Settings) -> Path:
    """The SQLite file of the embedded shape; PostgreSQL is backed up with pg_dump."""
    url = settings.effective_database_url
    if not url.startswith("sqlite:///"):
        raise ConfigurationError(
            "PostgreSQL の構成は hiraga backup ではなく pg_dump / pg_restore でバックアップします"
            "（docs/operations.md「バックアップ」）。"
        )
    return Path(url.removeprefix("sqlite:///"))


def create_backup(settings: Settings, destination: Path) -> Verified:
    """Write a verified backup of the embedded instance to ``destination`` (which must not exist)."""
    source = sqlite_path(settings)
    if not source.is_file():
        raise ConfigurationError(f"データベース {source} がありません。")
    if destination.exists():
        raise Conflict(f"{destination} は既にあります。別の名前を指定してください（上書きしません）。")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hiraga-backup-", dir=destination.parent) as staging_name:
        staging = Path(staging_name)
        _copy_knowledge(settings.data_dir / KNOWLEDGE, staging / KNOWLEDGE)
        _copy_database(source, staging / DATABASE)
        key_file = settings.data_dir / SECRET_KEY_FILE
        if key_file.is_file():
            shutil.copyfile(key_file, staging / SECRET_KEY_FILE)
        manifest = _manifest(staging)
        partial = staging / "archive.partial"
        _write_archive(partial, staging, manifest)
        verified = verify_archive(partial, settings.secret())
        os.replace(partial, destination)
    return verified


def verify_archive(archive: Path, configured_secret: str | None = None) -> Verified:
    """Check an archive completely; raise InvalidInput for a corrupt, foreign or tampered one.
    The chain is verified with the archive's key, or ``configured_secret`` when it holds none."""
    with tempfile.TemporaryDirectory(prefix=".hiraga-verify-", dir=archive.parent) as scratch:
        manifest = extract_verified(archive, Path(scratch))
        return Verified(manifest, check_extracted(Path(scratch), configured_secret))


def extract_verified(archive: Path, target: Path) -> dict[str, Any]:
    """Extract the files the manifest lists into ``target`` (empty), checking every digest."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            manifest = _read_manifest(tar)
            listed: dict[str, dict[str, Any]] = manifest["files"]
            members = [m for m in tar.getmembers() if m.name != MANIFEST]
            if sorted(m.name for m in members) != sorted(listed):
                raise _foreign("アーカイブの中身がマニフェストと一致しません。")
            for member in members:
                _extract_member(tar, member, listed[member.name], target)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise _foreign(f"アーカイブを読めません（{type(error).__name__}）。") from None
    return manifest


def check_extracted(directory: Path, configured_secret: str | None) -> VerifyReport:
    """The database must pass SQLite's integrity check and its audit chain must verify."""
    database = directory / DATABASE
    with closing_sqlite(database) as connection:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    if result is None or result[0] != "ok":
        raise _foreign("バックアップのデータベースが壊れています（integrity_check）。")
    key_file = directory / SECRET_KEY_FILE
    secret = key_file.read_text(encoding="utf-8").strip() if key_file.is_file() else configured_secret
    if not secret:
        raise ConfigurationError(
            "バックアップに秘密鍵が含まれていません。取得時の HIRAGA_SECRET_KEY を設定して実行してください。"
        )
    engine = create_engine(f"sqlite:///{database}", poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            report = verify_chain(connection, derive(secret))
    finally:
        engine.dispose()
    if not report.ok:
        assert report.problem is not None
        raise _foreign(f"バックアップの監査ログを検証できません: {report.problem.message} [{report.problem.code}]")
    return report


@contextmanager
def closing_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections read and write."""
    with closing_sqlite(source) as live, closing_sqlite(target) as copy:
        live.execute("PRAGMA busy_timeout=30000")
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it


def _copy_knowledge(source: Path, target: Path) -> None:
    """Complete snapshot directories only (``meta.json`` present); staging directories and a snapshot
    removed while it is being copied (superseded) are left out."""
    if not source.is_dir():
        return
    for kb_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        for snapshot in sorted(p for p in kb_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not (snapshot / "meta.json").is_file():
                continue
            destination = target / kb_dir.name / snapshot.name
            try:
                shutil.copytree(snapshot, destination)
            except (FileNotFoundError, shutil.Error):
                shutil.rmtree(destination, ignore_errors=True)


def _manifest(staging: Path) -> dict[str, Any]:
    files = {
        path.relative_to(staging).as_posix(): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }
    with closing_sqlite(staging / DATABASE) as connection:
        revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        records = connection.execute("SELECT count(*) FROM audit_records").fetchone()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hiraga_version": hiraga.__version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema_revisions": sorted(revisions),
        "audit_records": int(records[0]) if records else 0,
        "secret_key_included": SECRET_KEY_FILE in files,
        "files": files,
    }


def _write_archive(path: Path, staging: Path, manifest: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds the secret key
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
        body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(body), 0o600
        tar.addfile(info, io.BytesIO(body))
        for name in manifest["files"]:
            tar.add(staging / name, arcname=name, recursive=False)
        raw.flush()
        os.fsync(raw.fileno())


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile() or first.size > MAX_MANIFEST_BYTES:
        raise _foreign("hiraga のバックアップではありません（manifest.json がありません）。")
    handle = tar.extractfile(first)
    assert handle is not None
    try:
        manifest = json.loads(handle.read())
    except ValueError:
        raise _foreign("manifest.json を読めません。") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _foreign("hiraga のバックアップではありません（形式が違います）。")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _foreign(f"このバージョンの hiraga では読めない形式です（{manifest.get('format_version')}）。")
    if not isinstance(manifest.get("files"), dict) or DATABASE not in manifest["files"]:
        raise _foreign("バックアップにデータベースが含まれていません。")
    return manifest


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, listed: dict[str, Any], target: Path) -> None:
    name = PurePosixPath(member.name)
    allowed = name.parts[0] in (DATABASE, SECRET_KEY_FILE, KNOWLEDGE)
    if not member.isfile() or name.is_absolute() or ".." in name.parts or not allowed:
        raise _foreign(f"想定外の項目があります: {member.name}")
    handle = tar.extractfile(member)
    assert handle is not None
    destination = target / Path(*name.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != listed.get("sha256") or destination.stat().st_size != listed.get("size"):
        raise _foreign(f"{member.name} の内容がマニフェストと一致しません（破損または改変）。")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _foreign(reason: str) -> InvalidInput:
    return InvalidInput(f"バックアップを使えません: {reason}", code="invalid_backup")
