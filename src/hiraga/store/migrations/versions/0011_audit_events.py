"""audit: where an audited action came from (the client's address)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: records written before it hash as they did (null columns are left out of the hash)
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("client_address")
