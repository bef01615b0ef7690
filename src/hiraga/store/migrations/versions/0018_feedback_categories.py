"""feedback datasets: the failure category of a 👎 (chosen by the user or inferred from the comment)
on chat feedback and dataset items, and the task-app run a dataset item came from

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("portal_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("dataset_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("category_inferred", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("task_run_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_items_task_run_id_portal_task_runs"),
            "portal_task_runs",
            ["task_run_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(batch_op.f("uq_dataset_items_task_run_id"), ["task_run_id", "user_id"])


def downgrade() -> None:
    with op.batch_alter_table("dataset_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_dataset_items_task_run_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_dataset_items_task_run_id_portal_task_runs"), type_="foreignkey")
        batch_op.drop_column("task_run_id")
        batch_op.drop_column("category_inferred")
        batch_op.drop_column("category")
    with op.batch_alter_table("portal_feedback", schema=None) as batch_op:
        batch_op.drop_column("category")
