"""evaluation: stored pairwise judgements of two runs

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_pairwise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite", sa.String(length=100), nullable=False),
        sa.Column("run_a_id", sa.Integer(), nullable=False),
        sa.Column("run_b_id", sa.Integer(), nullable=False),
        sa.Column("judge_model", sa.String(length=200), nullable=False),
        sa.Column("judge_version", sa.String(length=40), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("b_wins", sa.Integer(), nullable=False),
        sa.Column("ties", sa.Integer(), nullable=False),
        sa.Column("a_wins", sa.Integer(), nullable=False),
        sa.Column("position_bias", sa.Integer(), nullable=False),
        sa.Column("judge_errors", sa.Integer(), nullable=False),
        sa.Column("b_win_rate", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("verdicts_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_a_id"], ["eval_runs.id"], name=op.f("fk_eval_pairwise_run_a_id_eval_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_b_id"], ["eval_runs.id"], name=op.f("fk_eval_pairwise_run_b_id_eval_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_pairwise")),
    )
    with op.batch_alter_table("eval_pairwise", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_pairwise_run_a_id"), ["run_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eval_pairwise_run_b_id"), ["run_b_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eval_pairwise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eval_pairwise_run_b_id"))
        batch_op.drop_index(batch_op.f("ix_eval_pairwise_run_a_id"))
    op.drop_table("eval_pairwise")
