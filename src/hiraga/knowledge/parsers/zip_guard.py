"""Refuse zip bombs before a library unpacks an Office file."""

from __future__ import annotations

import io
import zipfile

from hiraga.knowledge.parsers.base import UnreadableDocument

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed for any one member
MAX_MEMBERS = 10_000


def check_zip(data: bytes, *, required: str, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableDocument("ファイルが壊れているか、拡張子と中身の形式が一致しません。", detail=str(exc)) from exc
    if len(members) > MAX_MEMBERS:
        raise UnreadableDocument("圧縮ファイル内の項目が多すぎます（zip bomb の疑い）。", code="zip_bomb")
    total = sum(m.file_size for m in members)
    suspicious = any(m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members)
    if total > max_unpacked or suspicious:
        raise UnreadableDocument(
            "展開後のサイズが上限を超えるため処理を中止しました（zip bomb の疑い）。",
            code="zip_bomb",
            detail={"unpacked_bytes": total, "limit": max_unpacked},
        )
    if required not in {m.filename for m in members}:
        raise UnreadableDocument(
            "拡張子と中身の形式が一致しません。", code="wrong_format", detail={"missing": required}
        )
