"""A team's private test set seen as a suite: items streamed from the database in pages (a
100,000-item set is never loaded whole), each scored by the scorer its row names."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from hiraga.evaluation.base import EvalItem, Score, SuiteSource
from hiraga.evaluation.scorers import score_in_code
from hiraga.store.database import Database
from hiraga.store.tables import EvalSetItem

PAGE = 500


class PrivateSetSuite:
    task = "private"
    version = "1"

    def __init__(self, database: Database, set_id: int, title: str = "") -> None:
        self.database, self.set_id = database, set_id
        self.name, self.title = f"set:{set_id}", title or f"テストセット {set_id}"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        after = -1
        while True:
            with self.database.session() as db:
                rows = db.execute(
                    select(
                        EvalSetItem.ordinal,
                        EvalSetItem.item_id,
                        EvalSetItem.prompt,
                        EvalSetItem.reference,
                        EvalSetItem.scorer,
                        EvalSetItem.scorer_arg,
                    )
                    .where(EvalSetItem.set_id == self.set_id, EvalSetItem.ordinal > after)
                    .order_by(EvalSetItem.ordinal)
                    .limit(PAGE)
                ).all()
            if not rows:
                return
            for ordinal, item_id, prompt, reference, scorer, arg in rows:
                meta = {"scorer": scorer, "arg": arg}
                yield EvalItem(item_id, [{"role": "user", "content": prompt}], reference=reference, meta=meta)
                after = ordinal

    def score(self, item: EvalItem, output: str) -> Score:
        scorer = str(item.meta["scorer"])
        value = score_in_code(scorer, output, item.reference, str(item.meta.get("arg") or ""))
        return Score(value, {"scorer": scorer})
