"""A blind-arena vote becomes a preference-dataset candidate (same consent, 機密性 and review rules
as any item) that exports into the DPO JSONL; a tie does not."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select, update

from hiraga.evaluation import arena
from hiraga.feedback_data import export
from hiraga.feedback_data.export import ExportFilter
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import DatasetItem

from .support import NAME, ROOT, People, allow

PROMPT = f"{NAME}さんへの通知文を公用文で書いてください。"


def battle(database: Database, people: People, prompt: str = PROMPT, level: int = 1) -> int:
    with database.session() as db:
        arena.set_enabled(db, ROOT, people.team_a, True)
        found = arena.store_battle(
            db, AccessScope(people.alice), team_id=people.team_a, task="generate", classification=level,
            prompt=prompt, answers=[("plamo-2", "ご案内します。"), ("llm-jp-4", f"{NAME}様、ご案内いたします。")],
        )  # fmt: skip
        return found.id


def vote(database: Database, people: People, battle_id: int, winner: str) -> list[DatasetItem]:
    with database.session() as db:
        arena.vote(db, AccessScope(people.alice), battle_id, winner)
    with database.session() as db:
        return list(db.scalars(select(DatasetItem).order_by(DatasetItem.id)))


def test_a_vote_is_a_preference_item_that_exports_as_dpo(tmp_path: Path, database: Database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a)
    [item] = vote(database, people, battle(database, people), "b")
    assert (item.source, item.task, item.team_id) == ("arena", "arena", people.team_a)
    assert (item.model_name, item.rejected_model, item.status) == ("llm-jp-4", "plamo-2", "pending")
    assert NAME not in item.content  # scrubbed like every item
    with database.session() as db:
        db.execute(update(DatasetItem).values(status="approved"))
    with database.session() as db:
        summary = export.export(db, AccessScope(people.carol), ExportFilter(), tmp_path / "out")
    assert dict(summary.rows)["preference"] == 1
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    path = str(tmp_path / "out" / "preference.jsonl")
    pref = datasets.load_dataset("json", data_files=path, split="train", cache_dir=str(tmp_path / "hf"))
    assert set(pref.column_names) == {"prompt", "chosen", "rejected"}
    row = pref[0]
    assert row["prompt"] == [{"role": "user", "content": "〔氏名1〕さんへの通知文を公用文で書いてください。"}]
    assert row["chosen"] == [{"role": "assistant", "content": "〔氏名1〕様、ご案内いたします。"}]
    assert row["rejected"] == [{"role": "assistant", "content": "ご案内します。"}]
    assert NAME not in json.dumps(pref.to_list(), ensure_ascii=False)


def test_a_tie_is_no_pair_and_consent_and_the_level_still_decide(database: Database, people: People) -> None:
    assert vote(database, people, battle(database, people), "a") == []  # team A has not consented
    with database.session() as db:
        allow(db, people.team_a)  # 機密性1 only
    assert vote(database, people, battle(database, people), "tie") == []
    assert vote(database, people, battle(database, people, level=2), "a") == []
    [item] = vote(database, people, battle(database, people), "a")
    assert (item.model_name, item.rejected_model) == ("plamo-2", "llm-jp-4")
