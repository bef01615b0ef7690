"""audit lanes: the chain split into lanes that commit side by side (PostgreSQL: 8 lanes)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 00:15:00

Records and checkpoints written before this revision keep ``lane`` NULL, which means lane 1, so
their hashes and signatures are unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

POSTGRES_LANES = 8


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), nullable=True))
        batch.create_index("ix_audit_records_lane_id", ["lane", "id"])
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"INSERT INTO audit_chain_head (id, version) SELECT g, 0 FROM generate_series(2, {POSTGRES_LANES}) AS g"
            " ON CONFLICT (id) DO NOTHING"
        )


def downgrade() -> None:
    op.execute("DELETE FROM audit_chain_head WHERE id > 1")
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("lane")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_index("ix_audit_records_lane_id")
        batch.drop_column("lane")
