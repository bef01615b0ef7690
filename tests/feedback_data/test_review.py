"""Review: a team admin approves, edits (scrubbed again) or rejects; bulk approve only what has no
findings; members are refused, other teams' items do not exist; every decision is audited;
withdrawal by the user or an admin."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hiraga.errors import Forbidden, InvalidInput, NotFound
from hiraga.feedback_data import review
from hiraga.feedback_data.scrub import ItemTexts
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, DatasetItem

from .support import NAME, PHONE, People, allow, rate

CLEAN_Q, CLEAN_A = "公用文で「及び」と「並びに」の使い分けは？", "同じ段階の接続には「及び」を使います。"


def collected(database: Database, people: People) -> tuple[int, int]:
    """One item with findings, one without, both by alice in team A; their ids."""
    with database.session() as db:
        allow(db, people.team_a)
        rate(db, people.alice, "good")
        rate(db, people.alice, "good", question=CLEAN_Q, answer=CLEAN_A)
        with_pii, clean = db.scalars(select(DatasetItem.id).order_by(DatasetItem.id)).all()
    return with_pii, clean


def audited(database: Database, action: str) -> list[dict[str, object]]:
    with database.session() as db:
        return [json.loads(d) for d in db.scalars(select(AuditRecord.detail).where(AuditRecord.action == action))]


def test_the_admin_sees_the_queue_and_approves_or_rejects(database, people: People) -> None:
    with_pii, clean = collected(database, people)
    admin = AccessScope(people.carol)
    with database.session() as db:
        assert [i.id for i in review.queue(db, admin)] == [with_pii, clean]
        assert [i.id for i in review.queue(db, admin, offset=1)] == [clean]  # pages of review.PAGE
        assert review.queue(db, AccessScope(people.dave)) == []
        assert review.decide(db, admin, with_pii, "reject").status == "rejected"
        assert review.decide(db, admin, clean, "approve").status == "approved"
        assert review.counts(db, admin) == {"pending": 0, "approved": 1, "rejected": 1, "withdrawn": 0}
        with pytest.raises(InvalidInput):
            review.decide(db, admin, clean, "maybe")
    decisions = audited(database, "dataset_item_reviewed")
    assert [(d["item_id"], d["decision"]) for d in decisions] == [(with_pii, "reject"), (clean, "approve")]
    assert all(NAME not in json.dumps(d, ensure_ascii=False) for d in decisions)


def test_members_are_refused_and_other_teams_items_do_not_exist(database, people: People) -> None:
    with_pii, _clean = collected(database, people)
    with database.session() as db:
        with pytest.raises(Forbidden):
            review.decide(db, AccessScope(people.alice), with_pii, "approve")
        with pytest.raises(Forbidden):
            review.queue(db, AccessScope(people.alice))
        for outsider in (people.dave, people.bob):
            with pytest.raises(NotFound):
                review.decide(db, AccessScope(outsider), with_pii, "approve")
            with pytest.raises(NotFound):
                review.withdraw(db, outsider, with_pii)
        with pytest.raises(NotFound):
            review.decide(db, AccessScope(people.carol), 10**9, "approve")
    with database.session() as db:
        assert {i.status for i in db.scalars(select(DatasetItem))} == {"pending"}


def test_an_edit_is_scrubbed_again_before_it_is_approved(database, people: People) -> None:
    with_pii, _clean = collected(database, people)
    edited = ItemTexts(
        prompt=[{"role": "user", "content": f"{NAME}さんへの返事"}],
        answer=f"{NAME}様、{PHONE} へどうぞ。",
        corrected="",
    )
    with database.session() as db:
        row = review.edit_and_approve(db, AccessScope(people.carol), with_pii, edited)
        assert row.status == "approved" and row.edited
        assert NAME not in row.content and PHONE not in row.content and "〔氏名1〕様" in row.content
        with pytest.raises(InvalidInput):
            review.edit_and_approve(db, AccessScope(people.carol), with_pii, ItemTexts(prompt=[], answer="x"))
    assert [d["decision"] for d in audited(database, "dataset_item_reviewed")] == ["edit"]


def test_bulk_approve_takes_only_items_without_findings(database, people: People) -> None:
    with_pii, clean = collected(database, people)
    with database.session() as db:
        with pytest.raises(NotFound):
            review.bulk_approve(db, AccessScope(people.dave), people.team_a)
        assert review.bulk_approve(db, AccessScope(people.carol), people.team_a) == 1
        status = {i: s for i, s in db.execute(select(DatasetItem.id, DatasetItem.status))}
    assert status == {with_pii: "pending", clean: "approved"}
    assert audited(database, "dataset_items_bulk_approved") == [{"approved": 1}]


def test_the_user_or_an_admin_withdraws_and_a_withdrawn_item_stays_out(database, people: People) -> None:
    with_pii, clean = collected(database, people)
    with database.session() as db:
        assert review.withdraw(db, people.alice, with_pii).status == "withdrawn"
        with pytest.raises(InvalidInput):
            review.decide(db, AccessScope(people.carol), with_pii, "approve")
        assert review.withdraw_user(db, AccessScope(people.carol), people.team_a, people.alice.user_id) == 1
        with pytest.raises(NotFound):
            review.withdraw_user(db, AccessScope(people.dave), people.team_a, people.alice.user_id)
        assert {i.status for i in db.scalars(select(DatasetItem))} == {"withdrawn"}
    assert [d["by"] for d in audited(database, "dataset_item_withdrawn")] == ["user", "admin"]
    assert clean
