"""Assembly and verification of the packaged GGUF: the real six parts, and small fake parts."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

from hiraga.providers.embedded import packaged_model as pm
from hiraga.providers.embedded.packaged_model import (
    QWEN_CODER_05B,
    EmbeddedModelError,
    ModelFileNotFoundError,
    ModelHashMismatchError,
    ModelPartsMissingError,
    ModelPartVersionError,
    ModelSizeMismatchError,
    NotGgufError,
    PackagedModelSpec,
    ensure_packaged_model,
    locate_parts,
    verify_gguf,
)

# --- the real packaged model ---------------------------------------------------------------


def test_real_parts_are_located_in_order() -> None:
    parts = locate_parts()
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == QWEN_CODER_05B.size


def test_real_model_is_assembled_and_verified(packaged_model_path: Path) -> None:
    assert packaged_model_path.name == QWEN_CODER_05B.filename
    assert packaged_model_path.stat().st_size == 491_400_064
    assert verify_gguf(packaged_model_path, QWEN_CODER_05B.sha256) == packaged_model_path
    marker = packaged_model_path.with_name(packaged_model_path.name + ".verified.json")
    assert QWEN_CODER_05B.sha256 in marker.read_text("utf-8")


def test_real_model_second_start_trusts_marker(packaged_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hashing(path: Path) -> str:
        raise AssertionError("verified model must not be re-hashed")

    monkeypatch.setattr(pm, "sha256_file", no_hashing)
    assert ensure_packaged_model(packaged_model_path.parent) == packaged_model_path


# --- small fake part packages ---------------------------------------------------------------


def _make_parts(root: Path, chunks: list[bytes], *, version: str = "0.9.0", tag: str = "a") -> PackagedModelSpec:
    """Install fake ``hiraga-fake-<tag>-partN`` packages under ``root`` (data + dist-info only)."""
    names = []
    for index, data in enumerate(chunks, start=1):
        dist = f"hiraga-fake-{tag}-part{index}"
        module = dist.replace("-", "_")
        (root / module / "data").mkdir(parents=True)
        # importing the package would fail: assembly must never run the parts' code
        (root / module / "__init__.py").write_text("raise RuntimeError('part code must not run')\n")
        (root / module / "data" / f"part{index:02d}.bin").write_bytes(data)
        info = root / f"{module}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        names.append(dist)
    whole = b"".join(chunks)
    return PackagedModelSpec(
        filename=f"fake-{tag}.gguf",
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        packages=tuple(names),
        version="0.9.0",
    )


CHUNKS = [b"GGUF" + b"\x01" * 1000, b"\x02" * 777, b"\x03" * 5]


@pytest.fixture
def fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PackagedModelSpec:
    site = tmp_path / "site"
    spec = _make_parts(site, CHUNKS, tag=uuid.uuid4().hex[:10])
    monkeypatch.syspath_prepend(str(site))
    return spec


def test_fake_parts_assemble_atomically(tmp_path: Path, fake_spec: PackagedModelSpec) -> None:
    cache = tmp_path / "cache"
    path = ensure_packaged_model(cache, fake_spec)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert sorted(p.name for p in cache.iterdir()) == [path.name, path.name + ".verified.json"]


def test_corrupted_copy_with_marker_is_rehashed_and_repaired(tmp_path: Path, fake_spec: PackagedModelSpec) -> None:
    path = ensure_packaged_model(tmp_path / "cache", fake_spec)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # same size, different content, new mtime: the marker no longer matches
    time.sleep(0.01)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    repaired = ensure_packaged_model(tmp_path / "cache", fake_spec)
    assert repaired.read_bytes() == b"".join(CHUNKS)


def test_corrupted_parts_are_refused(tmp_path: Path, fake_spec: PackagedModelSpec) -> None:
    bad = dataclasses.replace(fake_spec, sha256="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ModelHashMismatchError) as info:
        ensure_packaged_model(cache, bad)
    assert info.value.code == "embedded_model_hash_mismatch"
    assert "ハッシュ値が一致しません" in info.value.message
    assert list(cache.iterdir()) == []  # no partial or temporary file left behind


def test_wrong_total_size_is_refused(tmp_path: Path, fake_spec: PackagedModelSpec) -> None:
    bad = dataclasses.replace(fake_spec, size=fake_spec.size + 1)
    with pytest.raises(ModelSizeMismatchError) as info:
        ensure_packaged_model(tmp_path / "cache", bad)
    assert info.value.code == "embedded_model_size_mismatch"


def test_unpinned_version_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    spec = _make_parts(site, CHUNKS, version="0.9.1", tag="ver")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ModelPartVersionError) as info:
        ensure_packaged_model(tmp_path / "cache", spec)
    assert info.value.code == "embedded_model_part_version_mismatch"
    assert "0.9.1" in info.value.message


def test_missing_part_package_is_refused(tmp_path: Path) -> None:
    spec = PackagedModelSpec("x.gguf", "0" * 64, 1, ("hiraga-no-such-part1",), "0.9.0")
    with pytest.raises(ModelPartsMissingError) as info:
        ensure_packaged_model(tmp_path, spec)
    assert isinstance(info.value, EmbeddedModelError)
    assert info.value.code == "embedded_model_parts_missing"


# --- operator-supplied GGUF files ---------------------------------------------------------------


def test_verify_gguf_accepts_magic_and_matching_hash(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + os.urandom(64))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert verify_gguf(model) == model
    assert verify_gguf(str(model), digest.upper()) == model


def test_verify_gguf_refuses_corrupted_copy(tmp_path: Path) -> None:
    original = b"GGUF" + b"\x00" * 64
    expected = hashlib.sha256(original).hexdigest()
    model = tmp_path / "copy.gguf"
    model.write_bytes(original[:-1] + b"\x01")
    with pytest.raises(ModelHashMismatchError) as info:
        verify_gguf(model, expected)
    assert info.value.code == "embedded_model_hash_mismatch"
    assert "copy.gguf" in info.value.message


def test_verify_gguf_refuses_non_gguf_and_missing(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(NotGgufError) as info:
        verify_gguf(text)
    assert info.value.code == "embedded_model_not_gguf"
    with pytest.raises(ModelFileNotFoundError):
        verify_gguf(tmp_path / "absent.gguf")
