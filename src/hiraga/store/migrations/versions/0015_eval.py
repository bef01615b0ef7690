"""evaluation: runs and their item results, teams' private test sets, blind-arena battles

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("model_a", sa.String(length=200), nullable=False),
        sa.Column("model_b", sa.String(length=200), nullable=False),
        sa.Column("answer_a", sa.Text(), nullable=False),
        sa.Column("answer_b", sa.Text(), nullable=False),
        sa.Column("winner", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_arena_battles_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_battles")),
    )
    with op.batch_alter_table("arena_battles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arena_battles_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_arena_battles_user_id"), ["user_id"], unique=False)

    op.create_table(
        "eval_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_eval_sets_team_id_teams"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_sets")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_eval_sets_team_id")),
    )
    with op.batch_alter_table("eval_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_sets_team_id"), ["team_id"], unique=False)

    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite", sa.String(length=100), nullable=False),
        sa.Column("suite_version", sa.String(length=40), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("item_limit", sa.Integer(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_cap_jpy", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("items_done", sa.Integer(), nullable=False),
        sa.Column("items_failed", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=True),
        sa.Column("cost_jpy", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"], ["eval_sets.id"], name=op.f("fk_eval_runs_set_id_eval_sets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_eval_runs_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_runs")),
    )
    with op.batch_alter_table("eval_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_runs_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_eval_runs_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_eval_runs_suite"), ["suite"], unique=False)

    op.create_table(
        "eval_set_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("scorer", sa.String(length=32), nullable=False),
        sa.Column("scorer_arg", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["eval_sets.id"], name=op.f("fk_eval_set_items_set_id_eval_sets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_set_items")),
        sa.UniqueConstraint("set_id", "item_id", name=op.f("uq_eval_set_items_set_id")),
    )
    with op.batch_alter_table("eval_set_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_set_items_set_id"), ["set_id"], unique=False)

    op.create_table(
        "eval_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("endpoint_name", sa.String(length=200), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_jpy", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["eval_runs.id"], name=op.f("fk_eval_results_run_id_eval_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_results")),
        sa.UniqueConstraint("run_id", "item_id", name=op.f("uq_eval_results_run_id")),
    )
    with op.batch_alter_table("eval_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_results_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eval_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eval_results_run_id"))

    op.drop_table("eval_results")
    with op.batch_alter_table("eval_set_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eval_set_items_set_id"))

    op.drop_table("eval_set_items")
    with op.batch_alter_table("eval_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eval_runs_suite"))
        batch_op.drop_index(batch_op.f("ix_eval_runs_state"))
        batch_op.drop_index(batch_op.f("ix_eval_runs_model"))

    op.drop_table("eval_runs")
    with op.batch_alter_table("eval_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eval_sets_team_id"))

    op.drop_table("eval_sets")
    with op.batch_alter_table("arena_battles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_arena_battles_user_id"))
        batch_op.drop_index(batch_op.f("ix_arena_battles_team_id"))

    op.drop_table("arena_battles")
