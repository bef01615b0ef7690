"""Anchors: the chain's head, signed and kept outside the database, so deleting the newest records
shows.

The chain alone cannot tell that its newest records were deleted: what is left still verifies. An
anchor states "record N had hash H at time T" (one line per chain lane, for its last record),
signed (HMAC) with a key derived from the secret key, and is appended as one JSON line to an
append-only file (``HIRAGA_AUDIT_ANCHOR_FILE``) and/or sent to syslog
(``HIRAGA_AUDIT_ANCHOR_SYSLOG``). Each line carries the signature of the line before it (``prev``),
so an edited, inserted or removed line breaks the file's own chain. ``hiraga audit verify`` then
requires every anchored record to be present with the anchored hash (or removed by retention under
a signed checkpoint); a missing record is named with the missing range.

Anchors are written by ``hiraga audit anchor`` and, in a serving process, by ``Anchorer`` from the
ledger's housekeeping (at most once a minute while records are written): when N records or T
seconds have passed since its last anchor.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import syslog
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from hiraga.audit import checkpoints
from hiraga.audit.chain import AUDIT, GENESIS, lane_heads
from hiraga.audit.verify import ChainBreak
from hiraga.errors import ConfigurationError
from hiraga.settings import Settings

log = logging.getLogger("hiraga.audit.anchors")
FIELDS = ("through_id", "through_hash", "at", "prev")
SYSLOG_TAG = "hiraga-audit-anchor"
CHECK_PAGE = 500


@dataclass(frozen=True, slots=True)
class Anchor:
    through_id: int
    through_hash: str
    at: str
    prev: str
    sig: str = ""

    def statement(self) -> bytes:
        return "|".join(str(getattr(self, f)) for f in FIELDS).encode()

    def signed(self, key: bytes) -> Anchor:
        sig = hmac.digest(key, self.statement(), hashlib.sha256).hex()
        return Anchor(self.through_id, self.through_hash, self.at, self.prev, sig)

    def is_authentic(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).sig, self.sig)

    def line(self) -> str:
        fields = {f: getattr(self, f) for f in (*FIELDS, "sig")}
        return json.dumps(fields, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Sinks:
    file: Path | None
    syslog: bool

    @classmethod
    def of(cls, settings: Settings, file: Path | None = None) -> Sinks:
        return cls(file or settings.audit_anchor_file, settings.audit_anchor_syslog)

    @property
    def any(self) -> bool:
        return self.file is not None or self.syslog


def write_anchor(connection: Connection, key: bytes, sinks: Sinks) -> Anchor | None:
    """Anchor the head of every chain lane in every configured sink; the newest anchor, None when
    the chain is empty."""
    if not sinks.any:
        raise ConfigurationError(
            "アンカーの書き込み先がありません。"
            "HIRAGA_AUDIT_ANCHOR_FILE または HIRAGA_AUDIT_ANCHOR_SYSLOG を設定してください。"
        )
    heads = sorted(lane_heads(connection).values())
    if not heads:
        return None
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    anchors = [Anchor(through_id, through_hash, at, GENESIS) for through_id, through_hash in heads]
    anchors = _append_to_file(sinks.file, anchors, key) if sinks.file is not None else [a.signed(key) for a in anchors]
    if sinks.syslog:
        syslog.openlog(SYSLOG_TAG, 0, syslog.LOG_AUTH)
        for anchor in anchors:
            syslog.syslog(syslog.LOG_NOTICE, anchor.line())
    return anchors[-1]


def _append_to_file(path: Path, anchors: list[Anchor], key: bytes) -> list[Anchor]:
    """Under an exclusive lock (several workers may anchor): link to the last line, append the lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last = _last_line(fd)
        prev = str(json.loads(last).get("sig", GENESIS)) if last else GENESIS
        signed = []
        for anchor in anchors:
            signed.append(Anchor(anchor.through_id, anchor.through_hash, anchor.at, prev).signed(key))
            prev = signed[-1].sig
        os.write(fd, "".join(a.line() + "\n" for a in signed).encode())
        os.fsync(fd)
        return signed
    finally:
        os.close(fd)


def _last_line(fd: int) -> str:
    size = os.fstat(fd).st_size
    start = max(0, size - 4096)
    tail = os.pread(fd, size - start, start).decode("utf-8", "replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# -- verification ----------------------------------------------------------------------------------
def read_anchors(lines: Iterable[str], key: bytes) -> tuple[list[Anchor], ChainBreak | None]:
    """The file's anchors, or the first line that is not authentic or does not follow the one before."""
    found: list[Anchor] = []
    prev = GENESIS
    for number, text in enumerate((line for line in lines if line.strip()), start=1):
        anchor = _parse(text)
        if anchor is None or not anchor.is_authentic(key) or anchor.prev != prev:
            message = (
                f"アンカーファイルの {number} 行目が改ざんされています"
                "（署名が一致しないか、前の行と繋がっていません。行の書き換え・挿入・削除）。"
            )
            return found, ChainBreak("anchor_forged", message)
        found.append(anchor)
        prev = anchor.sig
    return found, None


def _parse(text: str) -> Anchor | None:
    try:
        fields: dict[str, Any] = json.loads(text)
        return Anchor(
            int(fields["through_id"]),
            str(fields["through_hash"]),
            str(fields["at"]),
            str(fields["prev"]),
            str(fields["sig"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def check_anchors(connection: Connection, anchors: list[Anchor]) -> ChainBreak | None:
    """Every anchored record must still be there with its anchored hash, or be covered by a
    retention checkpoint; the first that is not is named with the range of missing records."""
    retained = [m for m in checkpoints.load_all(connection) if m.kind == checkpoints.RETENTION]
    latest: dict[int, Anchor] = {}
    for anchor in anchors:
        latest[anchor.through_id] = anchor
    ids = sorted(latest)
    for page in _pages(ids):
        stored = dict(connection.execute(select(AUDIT.c.id, AUDIT.c.hash).where(AUDIT.c.id.in_(page))).all())
        for record_id in page:
            anchor = latest[record_id]
            if stored.get(record_id) == anchor.through_hash or _retained(retained, anchor, stored):
                continue
            return _missing(connection, anchor, replaced=record_id in stored)
    return None


def _retained(retained: list[checkpoints.Checkpoint], anchor: Anchor, stored: dict[int, str]) -> bool:
    """Removed by retention (a signed checkpoint covers it; at its end the hashes must agree)."""
    n = anchor.through_id
    covered = next((m for m in retained if m.after_id < n <= m.through_id), None)
    if n in stored or covered is None:
        return False
    return covered.through_id != n or covered.through_hash == anchor.through_hash


def _pages(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHECK_PAGE):
        yield ids[start : start + CHECK_PAGE]


def _missing(connection: Connection, anchor: Anchor, *, replaced: bool) -> ChainBreak:
    n = anchor.through_id
    if replaced:
        message = (
            f"記録 {n} がアンカー（{anchor.at}）の記録と一致しません"
            "（末尾の記録が削除され、その後に別の記録が追加されました）。"
        )
        return ChainBreak("truncated", message, record_id=n)
    before = connection.execute(select(func.max(AUDIT.c.id)).where(AUDIT.c.id < n)).scalar()
    after = connection.execute(select(func.min(AUDIT.c.id)).where(AUDIT.c.id > n)).scalar()
    first, last = int(before or 0) + 1, int(after) - 1 if after is not None else n
    message = (
        f"監査記録が削除されています: 記録 {first}〜{last} がありません"
        f"（{anchor.at} のアンカーでは記録 {n} まで存在しました）。"
    )
    return ChainBreak("truncated", message, record_id=n)


def verify_anchors(connection: Connection, key: bytes, file: Path) -> tuple[int, ChainBreak | None]:
    """Read and check the anchor file; the number of anchors and the first problem."""
    if not file.exists():
        message = (
            f"アンカーファイル {file} がありません（削除されたか、まだ一度もアンカーを書いていません。"
            "最初のアンカーは hiraga audit anchor で書けます）。"
        )
        return 0, ChainBreak("anchor_file_missing", message)
    with file.open(encoding="utf-8") as handle:
        anchors, problem = read_anchors(handle, key)
    return len(anchors), problem or check_anchors(connection, anchors)


class Anchorer:
    """Anchors the head from a serving process when N records or T seconds have passed since its
    last anchor (called from the ledger's housekeeping, so only while records are being written)."""

    def __init__(self, settings: Settings, key: bytes) -> None:
        self.sinks = Sinks.of(settings)
        self.key = key
        self.every_records = settings.audit_anchor_every_records
        self.every_seconds = settings.audit_anchor_every_seconds
        self.last_id: int | None = None
        self.last_at = 0.0

    def housekeep(self, connection: Connection) -> None:
        if not self.sinks.any:
            return
        heads = lane_heads(connection)
        head = max(heads.values(), default=None)
        if head is None or head[0] == self.last_id:
            return
        now = time.monotonic()
        grown = self.last_id is None or head[0] - self.last_id >= self.every_records
        if grown or now - self.last_at >= self.every_seconds:
            try:
                anchor = write_anchor(connection, self.key, self.sinks)
            except OSError:  # the next housekeeping tries again; the other housekeeping goes on
                log.error("could not write the audit anchor to %s", self.sinks.file, exc_info=True)
                return
            self.last_id, self.last_at = (anchor.through_id if anchor else None), now
