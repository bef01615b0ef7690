"""Why an answer was bad: the user's category with 👎 (checked strictly), a category inferred from a
free comment by the documented keyword rules (marked as inferred), and the per-model report that
counts failures by category per task."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from hiraga.errors import InvalidInput
from hiraga.feedback_data import categories, export, report
from hiraga.feedback_data.categories import CATEGORIES, Category
from hiraga.portal import feedback
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import DatasetItem, Feedback

from .support import People, allow, chat_reply


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("日付が令和6年になっている", "numbers"),
        ("聞いてもいないのに回答できませんと断られた", "refusal"),
        ("箇条書きでと指示したのに無視された", "instructions"),
        ("長すぎて読めない", "format"),
        ("敬語がおかしい", "japanese"),
        ("制度の説明が間違っている", "factual"),
        ("もう少し頑張ってほしい", ""),
    ],
)
def test_keyword_rules_infer_a_category_from_a_comment(comment: str, expected: str) -> None:
    assert categories.infer(comment) == expected
    assert categories.of_feedback("bad", "", comment) == Category(expected, inferred=bool(expected))
    assert categories.of_feedback("good", "", comment) == Category()  # 👍 has no failure


def test_a_category_is_checked_and_only_taken_with_thumbs_down() -> None:
    assert categories.check("bad", " numbers ") == "numbers"
    assert categories.check("good", "") == ""
    for rating, bad in (("bad", "wrong-kind"), ("bad", "事実の誤り"), ("good", "factual")):
        with pytest.raises(InvalidInput) as refused:
            categories.check(rating, bad)
        assert refused.value.code == "invalid_feedback_category" and refused.value.status == 400
    assert categories.of_feedback("bad", "other", "数字が違う") == Category("other")  # the user's pick wins


def test_chat_feedback_keeps_the_category_and_a_bad_one_changes_nothing(database: Database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a)
        conversation, reply = chat_reply(db, people.alice)
        feedback.give(db, people.alice, conversation.id, reply.id, "bad", "金額が違う", category="factual")
        item = db.scalar(select(DatasetItem))
        assert item is not None and (item.category, item.category_inferred) == ("factual", False)
    with database.session() as db, pytest.raises(InvalidInput):
        feedback.give(db, people.alice, conversation.id, reply.id, "bad", "x", category="nonsense")
    with database.session() as db:
        row = db.scalar(select(Feedback))
        assert row is not None and (row.comment, row.category) == ("金額が違う", "factual")


def approved_report(database: Database, people: People) -> list[report.ModelReport]:
    with database.session() as db:
        db.execute(update(DatasetItem).values(status="approved"))
    with database.session() as db:
        return report.report(db, AccessScope(people.carol), export.ExportFilter(team_id=people.team_a))


def test_the_report_counts_failures_by_category_per_task(database: Database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a)
        for chosen, comment in (("numbers", ""), ("numbers", ""), ("", "日付が違う"), ("", "残念"), ("refusal", "")):
            conversation, reply = chat_reply(db, people.alice)
            feedback.give(db, people.alice, conversation.id, reply.id, "bad", comment, category=chosen)
        conversation, reply = chat_reply(db, people.alice)
        feedback.give(db, people.alice, conversation.id, reply.id, "good", "数字も正しい")
    [entry] = approved_report(database, people)
    rates = entry.tasks["chat"]
    assert (rates.good, rates.bad) == (1, 5)
    assert rates.failures == {"numbers": 3, "refusal": 1} and rates.inferred == {"numbers": 1}
    assert rates.uncategorised == 1
    assert set(rates.failures) <= set(CATEGORIES)
