"""Evaluation: runs of a suite against a model and each item's result, teams' private test sets,
and blind-arena battles (hiraga.evaluation)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class EvalRun(Base):
    """One suite (or private set) against one model. ``state``: queued → running → completed, or
    paused (cost cap / budget: resumable), cancelled, failed. A running run whose heartbeat is old
    was left by a crashed process and is taken over; finished items are never called again."""

    __tablename__ = "eval_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite: Mapped[str] = mapped_column(String(100), index=True)  # suite name, or "set:<id>"
    suite_version: Mapped[str] = mapped_column(String(40))
    set_id: Mapped[int | None] = mapped_column(ForeignKey("eval_sets.id", ondelete="CASCADE"), nullable=True)
    model: Mapped[str] = mapped_column(String(200), index=True)  # the name or alias asked for
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    classification: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    item_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrency: Mapped[int] = mapped_column(Integer, default=4)
    temperature: Mapped[float] = mapped_column(Float, default=0.0)
    max_tokens: Mapped[int] = mapped_column(Integer, default=512)
    cost_cap_jpy: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_jpy: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EvalResult(Base):
    """One item of a run: the model's output and its score (or the error that stopped it)."""

    __tablename__ = "eval_results"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(200))
    ordinal: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    output: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: the item failed
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    endpoint_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_jpy: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EvalSet(Base):
    """A team's private test set, with its 機密性 level: run only against endpoints cleared for it."""

    __tablename__ = "eval_sets"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    classification: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EvalSetItem(Base):
    __tablename__ = "eval_set_items"
    __table_args__ = (UniqueConstraint("set_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("eval_sets.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    scorer: Mapped[str] = mapped_column(String(32))
    scorer_arg: Mapped[str] = mapped_column(Text, default="")  # the regex, or the judge's rubric


class ArenaBattle(Base):
    """A user's real prompt answered by two cleared models shown anonymously, and the user's verdict
    (``winner``: "a", "b", "tie"; None until voted)."""

    __tablename__ = "arena_battles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    task: Mapped[str] = mapped_column(String(32), default="chat")
    classification: Mapped[int] = mapped_column(Integer, default=1)
    prompt: Mapped[str] = mapped_column(Text)
    model_a: Mapped[str] = mapped_column(String(200))
    model_b: Mapped[str] = mapped_column(String(200))
    answer_a: Mapped[str] = mapped_column(Text)
    answer_b: Mapped[str] = mapped_column(Text)
    winner: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    voted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EvalPairwise(Base):
    """A stored pairwise judgement of two runs of one suite: the judge model compared each common
    item's answers in both orders; ``verdicts_json`` holds, per item, the verdict with A shown first
    (``ab``), with B shown first (``ba``) and the outcome for B (1 win, 0.5 tie, 0 loss, null: judge
    error). A preference that flips with the order is a position-bias tie."""

    __tablename__ = "eval_pairwise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite: Mapped[str] = mapped_column(String(100))
    run_a_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"), index=True)
    run_b_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"), index=True)
    judge_model: Mapped[str] = mapped_column(String(200))
    judge_version: Mapped[str] = mapped_column(String(40))
    items: Mapped[int] = mapped_column(Integer)
    b_wins: Mapped[int] = mapped_column(Integer)
    ties: Mapped[int] = mapped_column(Integer)
    a_wins: Mapped[int] = mapped_column(Integer)
    position_bias: Mapped[int] = mapped_column(Integer)  # of the ties: the verdict flipped with the order
    judge_errors: Mapped[int] = mapped_column(Integer)
    b_win_rate: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    verdicts_json: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
