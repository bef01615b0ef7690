"""app tools: builder apps opt in to MCP tools; a tool call can belong to an app run

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 03:10:00

``portal_builder_apps.use_tools`` is false for every existing app: an app made before tools existed
does not start calling them. ``mcp_tool_calls.task_run_id`` ties a call held in a task or builder
app run to the kept run (``portal_task_runs``) that goes on once the user decided.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("portal_builder_apps") as batch:
        batch.add_column(sa.Column("use_tools", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("mcp_tool_calls") as batch:
        batch.add_column(sa.Column("task_run_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            batch.f("fk_mcp_tool_calls_task_run_id_portal_task_runs"),
            "portal_task_runs",
            ["task_run_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_mcp_tool_calls_task_run_id"), ["task_run_id"])


def downgrade() -> None:
    with op.batch_alter_table("mcp_tool_calls") as batch:
        batch.drop_index(batch.f("ix_mcp_tool_calls_task_run_id"))
        batch.drop_constraint(batch.f("fk_mcp_tool_calls_task_run_id_portal_task_runs"), type_="foreignkey")
        batch.drop_column("task_run_id")
    with op.batch_alter_table("portal_builder_apps") as batch:
        batch.drop_column("use_tools")
