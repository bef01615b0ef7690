"""Which ingestion job a worker takes next: fair across teams and knowledge bases.

Every knowledge base has an ``ingest_turn``: the value of a global counter when a worker last took
one of its jobs. A team's turn is the latest of its knowledge bases' (an organisation-wide knowledge
base counts as its organisation's). The next job is the oldest claimable one of the knowledge base
served least recently within the team served least recently. A worker gives a long document back
after each slice while another knowledge base's job waits (``others_waiting``), so a large upload
shares the workers with everyone else instead of holding one for its whole length.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.orm import Session, aliased

from hiraga.store.tables import KbIngestJob, KnowledgeBase
from hiraga.store.tables.knowledge import JobState

ClaimRow = Row[int, JobState, int, int]  # job id, state, attempts, knowledge base id


def _team_of(kb: Any) -> ColumnElement[int]:
    """The owner a knowledge base takes turns as: its team, or (organisation-wide) its organisation."""
    owner: ColumnElement[int] = func.coalesce(kb.team_id, -kb.organisation_id)
    return owner


def next_job(db: Session, claimable: ColumnElement[bool], kb_id: int | None = None) -> ClaimRow | None:
    """The claimable job to take now (row-locked, skipping rows other workers hold, on PostgreSQL)."""
    peer = aliased(KnowledgeBase)
    team_turn = select(func.max(peer.ingest_turn)).where(_team_of(peer) == _team_of(KnowledgeBase)).scalar_subquery()
    stmt = (
        select(KbIngestJob.id, KbIngestJob.state, KbIngestJob.attempts, KbIngestJob.kb_id)
        .join(KnowledgeBase, KnowledgeBase.id == KbIngestJob.kb_id)
        .where(claimable)
        .order_by(team_turn, KnowledgeBase.ingest_turn, KbIngestJob.id)
        .limit(1)
    )
    if kb_id is not None:
        stmt = stmt.where(KbIngestJob.kb_id == kb_id)
    if db.bind is not None and db.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=KbIngestJob, skip_locked=True)
    row: ClaimRow | None = db.execute(stmt).first()
    return row


def take_turn(db: Session, kb_id: int) -> None:
    """Record that ``kb_id`` is being served now: it goes to the back of the queue. (Run in its own
    short transaction: concurrent workers may draw the same number, which only ties the order.)"""
    peer = aliased(KnowledgeBase)
    latest = select(func.coalesce(func.max(peer.ingest_turn), 0)).scalar_subquery()
    db.execute(update(KnowledgeBase).where(KnowledgeBase.id == kb_id).values(ingest_turn=latest + 1))


def others_waiting(db: Session, claimable: ColumnElement[bool], kb_id: int) -> bool:
    """Whether a job of another knowledge base could be claimed now."""
    waiting = select(KbIngestJob.id).where(claimable, KbIngestJob.kb_id != kb_id).limit(1)
    return db.scalar(waiting) is not None
