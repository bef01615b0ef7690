"""mcp: registered MCP servers, their tools, team enablement, tool calls and approvals

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 13:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("headers_encrypted", sa.Text(), nullable=True),
        sa.Column("clearance", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_mcp_servers_name")),
    )
    op.create_table(
        "mcp_tools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("exposed_name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["server_id"], ["mcp_servers.id"], name=op.f("fk_mcp_tools_server_id_mcp_servers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_tools")),
        sa.UniqueConstraint("exposed_name", name=op.f("uq_mcp_tools_exposed_name")),
        sa.UniqueConstraint("server_id", "name", name=op.f("uq_mcp_tools_server_id")),
    )
    with op.batch_alter_table("mcp_tools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_tools_server_id"), ["server_id"], unique=False)

    op.create_table(
        "mcp_tool_teams",
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_mcp_tool_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["mcp_tools.id"], name=op.f("fk_mcp_tool_teams_tool_id_mcp_tools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tool_id", "team_id", name=op.f("pk_mcp_tool_teams")),
    )
    op.create_table(
        "mcp_tool_calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=True),
        sa.Column("tool_name", sa.String(length=200), nullable=False),
        sa.Column("turn_id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("assistant_text", sa.Text(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("result_chars", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_mcp_tool_calls_approver_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["portal_conversations.id"],
            name=op.f("fk_mcp_tool_calls_conversation_id_portal_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["mcp_tools.id"], name=op.f("fk_mcp_tool_calls_tool_id_mcp_tools"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mcp_tool_calls_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_tool_calls")),
    )
    with op.batch_alter_table("mcp_tool_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_tool_calls_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mcp_tool_calls_turn_id"), ["turn_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mcp_tool_calls_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mcp_tool_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_tool_calls_user_id"))
        batch_op.drop_index(batch_op.f("ix_mcp_tool_calls_turn_id"))
        batch_op.drop_index(batch_op.f("ix_mcp_tool_calls_conversation_id"))

    op.drop_table("mcp_tool_calls")
    op.drop_table("mcp_tool_teams")
    with op.batch_alter_table("mcp_tools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_tools_server_id"))

    op.drop_table("mcp_tools")
    op.drop_table("mcp_servers")
