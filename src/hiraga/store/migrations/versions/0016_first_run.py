"""portal: the history of task-app runs (portal_task_runs)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_task_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("app_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("input_excerpt", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_task_runs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_task_runs")),
    )
    with op.batch_alter_table("portal_task_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_task_runs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_task_runs_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_task_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_task_runs_user_id"))
        batch_op.drop_index(batch_op.f("ix_portal_task_runs_created_at"))
    op.drop_table("portal_task_runs")
