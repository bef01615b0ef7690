"""Export: only approved, consented, within-policy items leave; no value the PII detectors find is in
any file; every file loads with the ``datasets`` library with the columns TRL's trainers read; the
dataset card describes it; an interrupted export leaves nothing that looks complete."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hiraga.errors import Conflict, Forbidden, NotFound
from hiraga.feedback_data import export, policy, review
from hiraga.feedback_data.export import ExportFilter
from hiraga.feedback_data.scrub import default_detectors
from hiraga.pii import scan
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, DatasetItem

from .support import NAME, PHONE, PII_VALUES, ROOT, People, allow, rate

FIX = f"{NAME}様、お問い合わせの件は {PHONE} の窓口でご案内します。"


def world_of_items(database: Database, people: People) -> None:
    """Team A allows 機密性2; items of every kind, then all approved; team B's items too."""
    with database.session() as db:
        allow(db, people.team_a, max_classification=2, licence="CC-BY-4.0")
        allow(db, people.team_b)
        rate(db, people.alice, "good")  # sft + kto(True)
        rate(db, people.alice, "bad", corrected=FIX, comment="窓口の案内がない")  # sft, kto, preference
        rate(db, people.carol, "bad", model_name="plamo-2")  # kto(False)
        rate(db, people.alice, "good", classification=2, model_name="plamo-2")
        rate(db, people.bob, "good", answer="B室の回答です。")
        db.execute(update(DatasetItem).values(status="approved"))


def exported(tmp_path: Path, database: Database, scope: AccessScope, **filters: Any) -> tuple[Path, Any]:
    target = tmp_path / "out"
    with database.session() as db:
        summary = export.export(db, scope, ExportFilter(**filters), target)
    return target, summary


def lines(folder: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / name).read_text(encoding="utf-8").splitlines()]


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_every_file_loads_with_datasets_in_the_shape_trl_reads(tmp_path, database, people: People) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    world_of_items(database, people)
    folder, summary = exported(tmp_path, database, AccessScope(people.carol))
    assert dict(summary.rows) == {"sft": 3, "kto": 5, "preference": 1}
    cache = str(tmp_path / "hf-cache")
    sft = datasets.load_dataset(str(folder), "sft", split="train", cache_dir=cache)  # configs from README.md
    assert sft.column_names == ["messages"] and len(sft) == 3
    assert [m["role"] for m in sft[0]["messages"]] == ["system", "user", "assistant"]
    pref = datasets.load_dataset("json", data_files=str(folder / "preference.jsonl"), split="train", cache_dir=cache)
    assert set(pref.column_names) == {"prompt", "chosen", "rejected"}
    assert pref[0]["prompt"][-1]["role"] == "user" and pref[0]["chosen"][0]["role"] == "assistant"
    assert pref[0]["chosen"][0]["content"].startswith("〔氏名1〕様、お問い合わせの件は")
    kto = datasets.load_dataset("json", data_files=str(folder / "kto.jsonl"), split="train", cache_dir=cache)
    assert set(kto.column_names) == {"prompt", "completion", "label"}
    assert kto.features["label"].dtype == "bool" and sorted(kto["label"]) == [False, False, True, True, True]


def test_an_export_contains_no_value_the_pii_detectors_find(tmp_path, database, people: People) -> None:
    world_of_items(database, people)
    folder, _summary = exported(tmp_path, database, ROOT)
    detectors = default_detectors()
    texts = [s for name in export.FILES.values() for row in lines(folder, name) for s in strings(row)]
    assert texts and any("〔電話番号1〕" in t for t in texts)
    assert [t for t in texts if scan(t, detectors)] == []
    everything = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    assert not any(value in everything for value in PII_VALUES)


def test_only_approved_consented_items_within_the_policy_leave(tmp_path, database, people: People) -> None:
    world_of_items(database, people)
    with database.session() as db:
        ids = list(db.scalars(select(DatasetItem.id).order_by(DatasetItem.id)))
        db.execute(update(DatasetItem).where(DatasetItem.id == ids[0]).values(status="pending"))
        review.withdraw(db, people.alice, ids[1])
        policy.set_opt_out(db, people.carol, True)
        allow(db, people.team_a, max_classification=1)  # lowered after approval: the 機密性2 item stays in
        policy.set_policy(db, ROOT, people.team_b, False)  # team B withdrew its consent
    _folder, summary = exported(tmp_path, database, ROOT)
    assert summary.items == 0 and sum(summary.rows.values()) == 0
    with database.session() as db:
        allow(db, people.team_a, max_classification=2)
        allow(db, people.team_b)
    _again, summary = exported(tmp_path / "again", database, ROOT)
    assert summary.items == 2 and dict(summary.by_model) == {"plamo-2": 1, "llm-jp-4": 1}
    assert {t["name"] for t in summary.teams.values()} == {"A課", "B室"}


def test_filters_and_the_admins_own_teams(tmp_path, database, people: People) -> None:
    world_of_items(database, people)
    _folder, summary = exported(tmp_path / "a", database, AccessScope(people.dave))
    assert summary.items == 1 and set(summary.teams) == {people.team_b}
    _folder, summary = exported(tmp_path / "b", database, ROOT, model="plamo-2")
    assert dict(summary.by_model) == {"plamo-2": 2}
    _folder, summary = exported(tmp_path / "c", database, ROOT, team_id=people.team_b)
    assert summary.items == 1
    with database.session() as db:
        with pytest.raises(Forbidden):
            export.export(db, AccessScope(people.alice), ExportFilter(), tmp_path / "d")
        with pytest.raises(NotFound):
            export.export(db, AccessScope(people.dave), ExportFilter(team_id=people.team_a), tmp_path / "e")
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


def test_the_card_names_counts_policy_and_licence(tmp_path, database, people: People) -> None:
    world_of_items(database, people)
    folder, _summary = exported(tmp_path, database, AccessScope(people.carol))
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlicense: CC-BY-4.0\n") and "config_name: preference" in card
    assert (
        "| chat | 4 |" in card
        and "| llm-jp-4 | 2 |" in card
        and "| plamo-2 | 2 |" in card
        and "| A課 | 機密性2まで | CC-BY-4.0 |" in card
    )
    with database.session() as db:
        [detail] = db.scalars(select(AuditRecord.detail).where(AuditRecord.action == "dataset_exported"))
    assert json.loads(detail)["rows"] == {"sft": 3, "kto": 5, "preference": 1}


def test_an_interrupted_export_leaves_no_folder_that_looks_complete(tmp_path, database, people, monkeypatch) -> None:
    world_of_items(database, people)
    real = export.rows_of
    seen = []

    def crash_on_third(item: DatasetItem) -> Any:
        seen.append(item.id)
        if len(seen) == 3:
            raise OSError("disk full")
        return real(item)

    monkeypatch.setattr(export, "rows_of", crash_on_third)
    exports = tmp_path / "exports"
    with database.session() as db, pytest.raises(OSError):
        export.export(db, ROOT, ExportFilter(), exports / "out")
    assert list(exports.iterdir()) == []
    with database.session() as db:
        assert db.scalar(select(AuditRecord.id).where(AuditRecord.action == "dataset_exported")) is None
    monkeypatch.setattr(export, "rows_of", real)
    exported(exports, database, ROOT)
    with database.session() as db, pytest.raises(Conflict):
        export.export(db, ROOT, ExportFilter(), exports / "out")
    assert [p.name for p in exports.iterdir()] == ["out"]
