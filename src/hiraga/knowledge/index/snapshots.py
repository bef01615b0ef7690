"""Snapshots on disk: one self-contained, read-only directory per published state of a knowledge base.

``<kb dir>/g<generation>[-<epoch>]/`` holds ``meta.json`` (the manifest: generation, epoch, the
document versions it reflects, and its segments with their tombstones) and one subdirectory per
segment. Segments carried over from the previous snapshot are hard links (a copy where the file
system has none), so publishing a delta writes only the new chunks. The epoch counts merges: a merge
republishes a generation that may already have a directory. A snapshot is staged in
``.tmp-<pid>-<random>``, flushed to disk and renamed into place, so a crash at any point leaves
either no new directory or a complete one, and only complete directories are ever read.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from hiraga.knowledge.index.segments import IndexRow, LiveSegment, Segment, SegmentView

log = logging.getLogger("hiraga.knowledge.index")
FORMAT = 2
STALE_STAGING_SECONDS = 24 * 3600
DURABLE = True  # fsync before publishing (tests that publish hundreds of snapshots may turn it off)
_PUBLISHED = re.compile(r"^g(\d+)(?:-(\d+))?$")
Key = tuple[int, int]


def directory_name(generation: int, epoch: int) -> str:
    return f"g{generation}" if epoch == 0 else f"g{generation}-{epoch}"


def key_of(name: str) -> Key | None:
    """(generation, epoch) of a published snapshot directory's name; None for anything else."""
    match = _PUBLISHED.match(name)
    return (int(match[1]), int(match[2] or 0)) if match else None


class Snapshot:
    """One knowledge base's searchable chunks at one generation: a list of live segments."""

    def __init__(
        self,
        directory: Path,
        generation: int,
        epoch: int,
        documents: dict[int, str] | None,
        parts: Sequence[LiveSegment],
    ) -> None:
        self.directory = directory
        self.generation = generation
        self.epoch = epoch
        self.documents = documents  # document id → version; None when the source cannot tell
        self.view = SegmentView(parts)

    @property
    def parts(self) -> list[LiveSegment]:
        return self.view.parts

    @property
    def size(self) -> int:
        return self.view.live_count

    @classmethod
    def open(cls, directory: Path) -> Snapshot:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{directory} is not a format {FORMAT} snapshot")
        parts = [LiveSegment(Segment(directory / s["name"]), s["deleted"]) for s in meta["segments"]]
        documents = meta["documents"]
        return cls(
            directory,
            int(meta["generation"]),
            int(meta["epoch"]),
            None if documents is None else {int(k): str(v) for k, v in documents.items()},
            parts,
        )

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())


def publish(
    kb_dir: Path,
    *,
    generation: int,
    epoch: int,
    documents: dict[int, str] | None,
    carried: Sequence[LiveSegment] = (),
    carried_from: Path | None = None,
    rows: Iterable[IndexRow] = (),
    dimensions: int,
    lock: AbstractContextManager[object] | None = None,
) -> Snapshot:
    """Stage and publish a snapshot: the carried segments (linked from ``carried_from``) plus one new
    segment of ``rows`` (none when there are no rows). Only the final rename runs under ``lock``."""
    staging = kb_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    target = kb_dir / directory_name(generation, epoch)
    try:
        fresh = _stage(staging, generation, carried, carried_from, rows, dimensions)
        segments = [(p.segment.name, p.deleted.tolist()) for p in carried] + [(n, []) for n in fresh]
        manifest = {
            "format": FORMAT,
            "generation": generation,
            "epoch": epoch,
            "documents": None if documents is None else {str(k): v for k, v in documents.items()},
            "segments": [{"name": name, "deleted": deleted} for name, deleted in segments],
        }
        (staging / "meta.json").write_text(json.dumps(manifest), encoding="utf-8")
        _sync_tree(staging)
        with lock or nullcontext():
            existing = _equivalent(target, documents)
            if existing is not None:
                return existing  # another process published the same state first
            _commit(staging, target)
            parts = [*carried, *(LiveSegment(Segment(target / n)) for n in fresh)]
            return Snapshot(target, generation, epoch, documents, parts)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(
    staging: Path,
    generation: int,
    carried: Sequence[LiveSegment],
    carried_from: Path | None,
    rows: Iterable[IndexRow],
    dimensions: int,
) -> list[str]:
    """Fill the staging directory with the carried segments and the new one; the new one's name."""
    staging.mkdir(parents=True)
    for part in carried:
        if carried_from is None:
            raise ValueError("carried segments need the directory they come from")
        _link_tree(carried_from / part.segment.name, staging / part.segment.name)
    name = f"s{generation}-{uuid.uuid4().hex[:8]}"
    if Segment.write(staging / name, rows, dimensions):
        return [name]
    shutil.rmtree(staging / name)
    return []


def _equivalent(target: Path, documents: dict[int, str] | None) -> Snapshot | None:
    """The snapshot already published at ``target`` if it reflects the same document versions."""
    if not (target / "meta.json").exists():
        return None
    try:
        existing = Snapshot.open(target)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return existing if documents is None or existing.documents == documents else None


def _commit(staging: Path, target: Path) -> None:
    """Rename the staged directory into place, replacing what is there: something unreadable (an
    older format, a copy restored without a file) or the state of another database."""
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    _sync_directory(target.parent)


def latest(kb_dir: Path, generation: int) -> Snapshot | None:
    """The newest readable snapshot at or before ``generation``; unreadable ones are skipped."""
    candidates = [(key, p) for p in _children(kb_dir) if (key := key_of(p.name)) and key[0] <= generation]
    for _, directory in sorted(candidates, reverse=True):
        try:
            return Snapshot.open(directory)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable index snapshot %s", directory)
    return None


def cleanup(kb_dir: Path, current: Path) -> None:
    """Drop snapshots older than ``current`` and staging left by dead processes. Directories of a later
    epoch stay: they are merges that the next search will install."""
    newest = key_of(current.name) or (0, 0)
    for child in _children(kb_dir):
        key = key_of(child.name)
        older = key is not None and key < newest and key[1] <= newest[1]
        previous_format_staging = ".building-" in child.name  # left by a crash of the index before segments
        if older or previous_format_staging or (child.name.startswith(".tmp-") and _abandoned(child)):
            shutil.rmtree(child, ignore_errors=True)


def _abandoned(staging: Path) -> bool:
    pid = staging.name.split("-")[1]
    try:
        if time.time() - staging.stat().st_mtime > STALE_STAGING_SECONDS:
            return True
    except OSError:
        return False
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _children(directory: Path) -> list[Path]:
    try:
        return [p for p in directory.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []


def _link_tree(source: Path, target: Path) -> None:
    target.mkdir()
    for item in source.iterdir():
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)


def _sync_tree(directory: Path) -> None:
    """Flush the staged files to disk before the rename publishes them (concurrently: the file system
    commits them together); files linked from a published snapshot (several links) are on disk."""
    if not DURABLE:
        return
    paths = list(directory.rglob("*"))
    files = [p for p in paths if p.is_file() and p.stat().st_nlink == 1]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_sync_file, files))
    for path in sorted((p for p in paths if p.is_dir()), key=lambda p: -len(p.parts)):
        _sync_directory(path)
    _sync_directory(directory)


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # a platform that cannot open directories
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
