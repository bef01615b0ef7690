"""mcp: an approval expiry per MCP server (empty: the platform's HIRAGA_MCP_APPROVAL_TTL_SECONDS)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 00:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_ttl_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.drop_column("approval_ttl_seconds")
