"""Restore a backup (``hiraga.store.backup``) into the embedded shape's data dir.

Everything is checked before anything in the data dir changes: the archive is extracted into a
staging directory beside the data dir and verified there (digests, SQLite integrity, the audit chain,
a schema this hiraga knows). A data dir that already holds an instance is refused unless forced; when
forced, what it held is moved aside into ``.replaced-<time>/`` inside it, never deleted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hiraga.errors import ConfigurationError, Conflict, InvalidInput
from hiraga.settings import SECRET_KEY_FILE, Settings
from hiraga.store import migrate
from hiraga.store.backup import DATABASE, KNOWLEDGE, Verified, check_extracted, extract_verified, sqlite_path

INSTANCE_FILES = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", SECRET_KEY_FILE, KNOWLEDGE)


@dataclass(frozen=True, slots=True)
class Restored:
    verified: Verified
    moved_aside: Path | None


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> Restored:
    """Put the backup's database, index snapshots and key into the settings' data dir."""
    target_db = sqlite_path(settings)
    data_dir = settings.data_dir
    if target_db.parent.resolve() != data_dir.resolve() or target_db.name != DATABASE:
        raise ConfigurationError("復元先は HIRAGA_DATA_DIR の hiraga.db です（HIRAGA_DATABASE_URL を外してください）。")
    if not archive.is_file():
        raise InvalidInput(f"バックアップ {archive} がありません。", code="invalid_backup")
    present = [name for name in INSTANCE_FILES if (data_dir / name).exists()]
    if present and not force:
        raise Conflict(
            f"{data_dir} には既にインスタンスがあります（{', '.join(present)}）。"
            "置き換える場合は --force を付けてください（元の内容は .replaced-* に残します）。"
        )
    configured = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hiraga-restore-", dir=data_dir.parent) as staging_name:
        staging = Path(staging_name)
        manifest = extract_verified(archive, staging)
        chain = check_extracted(staging, configured)
        _refuse_conflicting_key(staging, configured)
        _refuse_unknown_schema(manifest.get("schema_revisions", []))
        data_dir.mkdir(exist_ok=True)
        moved = _move_aside(data_dir, present) if present else None
        for name in (DATABASE, SECRET_KEY_FILE, KNOWLEDGE):
            if (staging / name).exists():
                os.replace(staging / name, data_dir / name)
    return Restored(Verified(manifest, chain), moved)


def _refuse_conflicting_key(staging: Path, configured: str | None) -> None:
    """A configured HIRAGA_SECRET_KEY wins over the key file; it must be the backup's key, or the
    restored chain could not be extended (new records would not verify)."""
    key_file = staging / SECRET_KEY_FILE
    if configured is not None and key_file.is_file() and key_file.read_text(encoding="utf-8").strip() != configured:
        raise ConfigurationError(
            "設定された HIRAGA_SECRET_KEY がバックアップの秘密鍵と異なります。"
            "バックアップ取得時の鍵を設定するか、HIRAGA_SECRET_KEY を外してください。"
        )


def _refuse_unknown_schema(revisions: list[str]) -> None:
    known = migrate.known_revisions()
    unknown = [revision for revision in revisions if revision not in known]
    if unknown:
        raise InvalidInput(
            f"このバックアップは新しい版の hiraga で作られています（スキーマ {', '.join(unknown)}）。"
            "同じ版以降の hiraga で復元してください。",
            code="invalid_backup",
        )


def _move_aside(data_dir: Path, present: list[str]) -> Path:
    aside = data_dir / f".replaced-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    aside.mkdir()
    for name in present:
        shutil.move(str(data_dir / name), str(aside / name))
    return aside
