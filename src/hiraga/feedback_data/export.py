"""Export: approved items, still allowed by their team's current policy, of users who have not opted
out, as three JSONL files and a dataset card:

- ``sft.jsonl``: ``{"messages": [...]}`` in the OpenAI chat format, the answer a user rated 👍 or
  the answer they corrected it to;
- ``preference.jsonl``: ``{"prompt", "chosen", "rejected"}`` in the conversational form TRL's DPO
  trainer reads (a correction is chosen over the answer it corrects; arena preferences as voted);
- ``kto.jsonl``: ``{"prompt", "completion", "label"}`` unpaired 👍/👎 for TRL's KTO trainer;
- ``README.md``: the dataset card (counts per task and model, policy, licence, provenance).

Rows are read and written one at a time (memory stays flat for any size). The export is built in a
hidden folder next to the target and renamed into place only when complete, so a crash never
leaves a partial export that looks finished."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput
from hiraga.feedback_data.card import render_card
from hiraga.feedback_data.scrub import ItemTexts
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import DatasetItem, DatasetOptOut, DatasetPolicy, Team
from hiraga.usage.windows import JST

FILES = {"sft": "sft.jsonl", "preference": "preference.jsonl", "kto": "kto.jsonl"}
BATCH = 500


@dataclass(frozen=True, slots=True)
class ExportFilter:
    team_id: int | None = None
    model: str | None = None
    task: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "model": self.model,
            "task": self.task,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(slots=True)
class ExportSummary:
    rows: Counter[str] = field(default_factory=Counter)  # file → rows
    by_task: Counter[str] = field(default_factory=Counter)
    by_model: Counter[str] = field(default_factory=Counter)
    items: int = 0
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)  # team id → name and policy


def exportable(scope: AccessScope, filters: ExportFilter) -> Select[DatasetItem, DatasetPolicy, str]:
    """The one query that decides what may leave: approved, within the team's current policy, the
    user not opted out, within the caller's administered teams and the filters."""
    opted_out = select(DatasetOptOut.user_id)
    query = (
        select(DatasetItem, DatasetPolicy, Team.name)
        .join(DatasetPolicy, DatasetPolicy.team_id == DatasetItem.team_id)
        .join(Team, Team.id == DatasetItem.team_id)
        .where(
            DatasetItem.status == "approved",
            DatasetPolicy.training_use.is_(True),
            DatasetItem.classification <= DatasetPolicy.max_classification,
            DatasetItem.user_id.not_in(opted_out),
            scope.admin_team_filter(DatasetItem.team_id),
        )
    )
    if filters.team_id is not None:
        query = query.where(DatasetItem.team_id == filters.team_id)
    if filters.model:
        query = query.where(DatasetItem.model_name == filters.model)
    if filters.task:
        query = query.where(DatasetItem.task == filters.task)
    if filters.since is not None:
        query = query.where(DatasetItem.answered_at >= filters.since)
    if filters.until is not None:
        query = query.where(DatasetItem.answered_at < filters.until)
    return query.order_by(DatasetItem.id)


def day(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """A date as staff write it (``YYYY-MM-DD``, Japan time): the start of that day, or of the next
    one for the end of a period (``end``), so that ``until`` includes the day named."""
    if not value:
        return None
    try:
        start = datetime.fromisoformat(value).replace(tzinfo=JST)
    except ValueError as error:
        raise InvalidInput("日付は YYYY-MM-DD の形で指定してください。", detail={"field": field}) from error
    return start + timedelta(days=1) if end else start


def check_filters(scope: AccessScope, filters: ExportFilter) -> None:
    scope.require_admin_of_any_team()
    if filters.team_id is not None:
        scope.require_team_admin(filters.team_id)
    if filters.since and filters.until and filters.since >= filters.until:
        raise InvalidInput("期間の開始は終了より前にしてください。", code="invalid_period", detail={"field": "since"})


def rows_of(item: DatasetItem) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file, row) for one item: what each training format takes from it."""
    texts = ItemTexts.from_json(json.loads(item.content))
    prompt = texts.prompt
    answer = [{"role": "assistant", "content": texts.answer}]
    if item.source == "arena":
        yield "preference", {"prompt": prompt, "chosen": answer, "rejected": _assistant(texts.rejected)}
        return
    if texts.corrected:
        yield "sft", {"messages": [*prompt, *_assistant(texts.corrected)]}
        yield "kto", {"prompt": prompt, "completion": _assistant(texts.corrected), "label": True}
        if texts.corrected != texts.answer and texts.answer:
            yield "preference", {"prompt": prompt, "chosen": _assistant(texts.corrected), "rejected": answer}
    elif item.rating == "good":
        yield "sft", {"messages": [*prompt, *answer]}
    if item.rating in ("good", "bad") and texts.answer:
        yield "kto", {"prompt": prompt, "completion": answer, "label": item.rating == "good"}


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def write_files(db: Session, scope: AccessScope, filters: ExportFilter, folder: Path) -> ExportSummary:
    """Stream the exportable items into the JSONL files in ``folder`` (which must exist)."""
    summary = ExportSummary()
    handles: dict[str, IO[str]] = {name: (folder / path).open("w", encoding="utf-8") for name, path in FILES.items()}
    try:
        result = db.execute(exportable(scope, filters).execution_options(yield_per=BATCH))
        for item, policy, team_name in result:
            wrote = False
            for name, row in rows_of(item):
                handles[name].write(json.dumps(row, ensure_ascii=False) + "\n")
                summary.rows[name] += 1
                wrote = True
            if wrote:
                summary.items += 1
                summary.by_task[item.task] += 1
                summary.by_model[item.model_name or "(不明)"] += 1
                summary.teams.setdefault(item.team_id, _team_facts(team_name, policy))
        for handle in handles.values():
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        for handle in handles.values():
            handle.close()
    return summary


def _team_facts(name: str, policy: DatasetPolicy) -> dict[str, Any]:
    return {"name": name, "max_classification": policy.max_classification, "licence": policy.licence}


def export(db: Session, scope: AccessScope, filters: ExportFilter, target: Path) -> ExportSummary:
    """Write a complete export into the new folder ``target``: built aside, renamed into place last."""
    check_filters(scope, filters)
    if target.exists():
        raise Conflict(f"出力先 {target} はすでにあります。別の名前を指定してください。", code="export_target_exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        summary = write_files(db, scope, filters, building)
        (building / "README.md").write_text(render_card(summary, filters, datetime.now(UTC)), encoding="utf-8")
        os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    record_export(db, scope, filters, summary)
    return summary


def export_archive(db: Session, scope: AccessScope, filters: ExportFilter, workdir: Path) -> tuple[Path, ExportSummary]:
    """A complete export as one zip file in a new folder of ``workdir`` (for a download); the caller
    removes that folder once the file is sent."""
    check_filters(scope, filters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(tempfile.mkdtemp(dir=workdir))
    target = folder / f"hiraga-feedback-{stamp}"
    try:
        summary = export(db, scope, filters, target)
        archive = Path(shutil.make_archive(str(target), "zip", root_dir=target))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    return archive, summary


def record_export(db: Session, scope: AccessScope, filters: ExportFilter, summary: ExportSummary) -> None:
    detail = {"filters": filters.as_json(), "rows": dict(summary.rows), "items": summary.items}
    events.record(db, events.DATASET_EXPORTED, scope.principal, team_id=filters.team_id, detail=detail)
