"""Teams' private test sets: a team admin uploads JSONL or CSV (prompt, optional reference, scorer,
optional id and argument). The upload is read as a stream and written in one transaction: a bad
line (named in the error), an unknown scorer, a duplicate id or too many items store nothing.

JSONL: one object per line, ``{"id", "prompt", "reference", "scorer", "pattern" | "rubric"}``.
CSV: a header row with ``prompt`` and ``scorer`` (and optionally ``id``, ``reference``, ``arg``).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from hiraga.evaluation.scorers import check_item_scorer
from hiraga.names import CONTROL_CHARACTERS, check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalSet, EvalSetItem

BATCH = 1000
CHUNK_BYTES = 64 * 1024
MAX_ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class SetRow:
    line: int
    item_id: str
    prompt: str
    reference: str | None
    scorer: str
    arg: str


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Decoded lines of a byte stream with their line ends (UTF-8, a BOM allowed; the CSV reader
    needs the ends for quoted line breaks), never the whole file at once."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    try:
        for chunk in chunks:
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            yield from (line + "\n" for line in complete)
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidInput("ファイルが UTF-8 ではありません。", code="eval_set_encoding") from None
    if pending:
        yield pending


def _bad(line: int, why: str) -> InvalidInput:
    return InvalidInput(f"{line} 行目: {why}", code="eval_set_malformed", detail={"line": line})


def _row(line: int, fields: dict[str, object], ordinal: int) -> SetRow:
    prompt, scorer = fields.get("prompt"), fields.get("scorer")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _bad(line, "prompt（問題文）がありません。")
    if not isinstance(scorer, str):
        raise _bad(line, "scorer（採点方法）がありません。")
    reference = fields.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise _bad(line, "reference は文字列にしてください。")
    arg = fields.get("arg") or fields.get("pattern") or fields.get("rubric") or ""
    item_id = str(fields.get("id") or f"{ordinal + 1}")
    texts = (prompt, reference or "", str(arg), item_id)
    if len(item_id) > MAX_ID_CHARS or any(CONTROL_CHARACTERS.search(t.replace("\n", " ")) for t in texts):
        raise _bad(line, "制御文字（NUL など）を含むか、id が長すぎます。")
    check_item_scorer(scorer, reference or None, str(arg), line)
    return SetRow(line, item_id, prompt, reference or None, scorer, str(arg))


def parse_rows(chunks: Iterable[bytes], kind: str) -> Iterator[SetRow]:
    """The rows of a JSONL or CSV upload, checked one by one (the error names the line)."""
    if kind == "csv":
        reader = csv.DictReader(_lines(chunks))
        if not reader.fieldnames or not {"prompt", "scorer"} <= set(reader.fieldnames):
            raise _bad(1, "CSV の見出し行に prompt と scorer が必要です。")
        for ordinal, record in enumerate(reader):
            yield _row(reader.line_num, {k: v for k, v in record.items() if k and v not in (None, "")}, ordinal)
        return
    ordinal = 0
    for number, text in enumerate(_lines(chunks), start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            raise _bad(number, f"JSON として読めません（{error.msg}）。") from None
        if not isinstance(fields, dict):
            raise _bad(number, "1 行に 1 つの JSON オブジェクトを書いてください。")
        yield _row(number, fields, ordinal)
        ordinal += 1


def upload_set(
    db: Session,
    scope: AccessScope,
    *,
    team_id: int,
    name: str,
    classification: int,
    chunks: Iterable[bytes],
    kind: str,
    max_items: int,
    description: str = "",
) -> EvalSet:
    scope.require_team_admin(team_id)
    name = check_characters(name.strip())
    if not name or classification not in (1, 2, 3) or kind not in ("jsonl", "csv"):
        raise InvalidInput("名前、機密性区分（1〜3）、形式（jsonl または csv）を確認してください。")
    if db.scalar(select(EvalSet.id).where(EvalSet.team_id == team_id, EvalSet.name == name)) is not None:
        raise Conflict(f"テストセット「{name}」は既にあります。", code="eval_set_exists")
    created = EvalSet(
        team_id=team_id,
        name=name,
        classification=classification,
        description=description[:2000],
        created_by=scope.principal.user_id,
    )
    db.add(created)
    db.flush()
    created.item_count = _store_rows(db, created.id, parse_rows(chunks, kind), max_items)
    if created.item_count == 0:
        raise InvalidInput("テストセットに問題が 1 件もありません。", code="eval_set_empty")
    detail = {"name": name, "classification": classification, "items": created.item_count}
    events.record(
        db, events.EVAL_SET_UPLOADED, scope.principal, subject=f"set:{created.id}", team_id=team_id, detail=detail
    )
    db.commit()
    return created


@dataclass(frozen=True, slots=True)
class SetFile:
    """An uploaded file and what it is to become: the format follows the name (``.csv``, else JSONL)."""

    team_id: int
    name: str
    classification: int
    filename: str
    description: str = ""


def upload_file(db: Session, scope: AccessScope, spec: SetFile, handle: BinaryIO, max_items: int) -> EvalSet:
    """``upload_set`` over an open binary file (page, API and CLI), read in 64 KiB pieces."""
    return upload_set(
        db,
        scope,
        team_id=spec.team_id,
        name=spec.name,
        classification=spec.classification,
        chunks=iter(lambda: handle.read(CHUNK_BYTES), b""),
        kind="csv" if spec.filename.lower().endswith(".csv") else "jsonl",
        max_items=max_items,
        description=spec.description,
    )


def _store_rows(db: Session, set_id: int, rows: Iterator[SetRow], max_items: int) -> int:
    seen: set[str] = set()
    batch: list[dict[str, object]] = []
    for row in rows:
        if row.item_id in seen:
            raise InvalidInput(
                f"{row.line} 行目: id「{row.item_id}」が重複しています。",
                code="eval_set_duplicate_id",
                detail={"line": row.line},
            )
        if len(seen) >= max_items:
            raise PayloadTooLarge(
                f"テストセットは {max_items:,} 件までです。", code="eval_set_too_large", detail={"max_items": max_items}
            )
        seen.add(row.item_id)
        batch.append(
            {
                "set_id": set_id,
                "ordinal": len(seen) - 1,
                "item_id": row.item_id,
                "prompt": row.prompt,
                "reference": row.reference,
                "scorer": row.scorer,
                "scorer_arg": row.arg,
            }
        )
        if len(batch) >= BATCH:
            db.execute(insert(EvalSetItem), batch)
            batch = []
    if batch:
        db.execute(insert(EvalSetItem), batch)
    return len(seen)


def visible_sets(db: Session, scope: AccessScope) -> list[EvalSet]:
    return list(db.scalars(select(EvalSet).where(scope.team_filter(EvalSet.team_id)).order_by(EvalSet.id)))


def find_set(db: Session, scope: AccessScope, set_id: int) -> EvalSet:
    """A set of a team the caller belongs to; anyone else's looks missing (404)."""
    found = db.get(EvalSet, set_id)
    if found is None or not scope.can_see_team(found.team_id):
        raise NotFound("テストセットが見つかりません。", code="eval_set_not_found")
    return found


def delete_set(db: Session, scope: AccessScope, set_id: int) -> None:
    found = find_set(db, scope, set_id)
    scope.require_team_admin(found.team_id)
    db.execute(delete(EvalSetItem).where(EvalSetItem.set_id == found.id))
    db.delete(found)
    detail = {"name": found.name, "classification": found.classification, "items": found.item_count}
    subject = f"set:{found.id}"
    events.record(db, events.EVAL_SET_REMOVED, scope.principal, subject=subject, team_id=found.team_id, detail=detail)
    db.commit()


def count_items(db: Session, set_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(EvalSetItem).where(EvalSetItem.set_id == set_id)) or 0)
