"""Collection: consent off by default, the team's 機密性 limit, the opt-out (also for the past),
scrubbing with consistent placeholders, and the task-app and arena hooks."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hiraga.errors import InvalidInput
from hiraga.feedback_data import collect, policy
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, DatasetItem, Message

from .support import ANSWER, NAME, PHONE, PII_VALUES, People, allow, rate


def items(database: Database) -> list[DatasetItem]:
    with database.session() as db:
        return list(db.scalars(select(DatasetItem).order_by(DatasetItem.id)))


def test_without_a_team_policy_feedback_is_kept_but_never_becomes_training_data(database, people: People) -> None:
    with database.session() as db:
        assert not policy.policy_of(db, people.team_a).training_use
        assert "使いません" in policy.policy_of(db, people.team_a).describe()
        rate(db, people.alice, "good")
    assert items(database) == []


def test_a_consented_reply_is_kept_scrubbed_with_one_placeholder_per_value(database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a)
        message_id = rate(
            db, people.alice, "bad", corrected=f"{NAME}様、{PHONE} へお電話ください。", comment="敬語が不自然"
        )
    [item] = items(database)
    content = json.loads(item.content)
    text = json.dumps(content, ensure_ascii=False)
    assert not any(value in text for value in PII_VALUES)
    system, user = content["prompt"]
    assert system["role"] == "system" and system["content"]
    assert user["role"] == "user" and "〔氏名1〕" in user["content"] and "〔電話番号1〕" in user["content"]
    # the same person and number get the same placeholder in the question, answer and correction
    assert "〔氏名1〕" in content["answer"] and "〔電話番号1〕" in content["answer"]
    assert content["corrected"].startswith("〔氏名1〕様") and "〔電話番号1〕" in content["corrected"]
    assert content["comment"] == "敬語が不自然"
    assert (item.task, item.source, item.model_name, item.endpoint) == ("chat", "chat", "llm-jp-4", "default")
    assert (item.team_id, item.classification, item.rating, item.status) == (people.team_a, 1, "bad", "pending")
    assert item.message_id == message_id and item.answered_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert json.loads(item.findings)["phone_number"] >= 3 and item.findings_total >= 6


def test_a_reply_above_the_teams_level_is_not_collected(database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a, max_classification=1)
        rate(db, people.alice, classification=2)
        allow(db, people.team_a, max_classification=2)
        rate(db, people.alice, classification=2)
        rate(db, people.alice, classification=3)
    assert [i.classification for i in items(database)] == [2]


def test_changed_feedback_updates_the_item_and_sends_it_back_to_review(database, people: People) -> None:
    from hiraga.portal import feedback

    with database.session() as db:
        allow(db, people.team_a)
        message_id = rate(db, people.alice, "good")
        item = db.scalar(select(DatasetItem))
        assert item is not None and item.message_id == message_id
        item.status = "approved"
        reply = db.get(Message, message_id)
        assert reply is not None
        feedback.give(db, people.alice, reply.conversation_id, message_id, "bad", "誤り")
    [item] = items(database)
    assert (item.rating, item.status) == ("bad", "pending")


def test_opting_out_withdraws_past_items_and_stops_new_ones(database, people: People) -> None:
    with database.session() as db:
        allow(db, people.team_a)
        rate(db, people.alice)
        rate(db, people.carol)
        assert policy.set_opt_out(db, people.alice, True) == 1
        rate(db, people.alice)
    by_user = {(i.user_id, i.status) for i in items(database)}
    assert by_user == {(people.alice.user_id, "withdrawn"), (people.carol.user_id, "pending")}
    with database.session() as db:
        assert policy.set_opt_out(db, people.alice, False) == 0
        rate(db, people.alice)  # back in: new feedback only; the withdrawn item stays withdrawn
        actions = list(db.scalars(select(AuditRecord.action).where(AuditRecord.action == "dataset_opt_out_set")))
    assert len(actions) == 2
    assert sorted(i.status for i in items(database) if i.user_id == people.alice.user_id) == ["pending", "withdrawn"]


def test_policy_input_is_checked_and_a_member_cannot_change_it(database, people: People) -> None:
    from hiraga.errors import Forbidden, NotFound
    from hiraga.spine.authorize import AccessScope

    with database.session() as db:
        with pytest.raises(InvalidInput):
            policy.set_policy(db, AccessScope(people.carol), people.team_a, True, 4)
        with pytest.raises(Forbidden):
            policy.set_policy(db, AccessScope(people.alice), people.team_a, True)
        with pytest.raises(NotFound):
            policy.set_policy(db, AccessScope(people.carol), people.team_b, True)
        assert not policy.policy_of(db, people.team_a).training_use


def output(**overrides: object) -> collect.Output:
    fields: dict[str, object] = {
        "task": "summarise",
        "prompt": [{"role": "system", "content": "要約する。"}, {"role": "user", "content": f"{NAME}さんの件"}],
        "answer": ANSWER,
        "model_name": "llm-jp-4",
        "endpoint": "default",
        "classification": 1,
        "answered_at": datetime.now(UTC),
    }
    return collect.Output(**{**fields, **overrides})  # type: ignore[arg-type]


def test_task_output_feedback_needs_the_receipt_the_portal_gave(database, people: People) -> None:
    secret = "s" * 40
    shown = output()
    receipt = collect.receipt_for(secret, people.alice, shown)
    collect.check_output(secret, people.alice, shown, receipt)
    for forged in (
        output(answer="別の回答", answered_at=shown.answered_at),
        output(classification=2, answered_at=shown.answered_at),
        output(answered_at=shown.answered_at - timedelta(days=8)),
    ):
        with pytest.raises(InvalidInput) as refused:
            collect.check_output(secret, people.alice, forged, receipt)
        assert refused.value.code == "output_not_found"
    with pytest.raises(InvalidInput):  # another user's receipt
        collect.check_output(secret, people.bob, shown, receipt)
    with database.session() as db:
        allow(db, people.team_a)
        row = collect.from_task_feedback(db, people.alice, shown, "good")
        assert row is not None and row.task == "summarise" and row.source == "task"
        assert NAME not in row.content and "〔氏名1〕" in row.content


def test_an_arena_preference_is_recorded_as_a_pair(database, people: People) -> None:
    pair = collect.Preference(
        prompt=[{"role": "user", "content": "公用文の書き方は？"}],
        chosen="常用漢字を使います。",
        rejected="わかりません。",
        chosen_model="llm-jp-4",
        rejected_model="plamo-2",
        classification=1,
        answered_at=datetime.now(UTC),
    )
    with database.session() as db:
        assert collect.record_preference(db, people.bob, pair) is None  # team B has not consented
        allow(db, people.team_b)
        row = collect.record_preference(db, people.bob, pair)
        assert row is not None
        assert (row.source, row.task, row.model_name, row.rejected_model) == ("arena", "arena", "llm-jp-4", "plamo-2")
        with pytest.raises(InvalidInput):
            collect.record_preference(db, people.bob, dataclasses.replace(pair, rejected=" "))
