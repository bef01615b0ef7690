"""audit chain: the chain head (append lock) and signed checkpoints

Records written before this revision are chained by the first append (it holds the key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("after_id", sa.BigInteger(), nullable=False),
        sa.Column("after_hash", sa.String(length=64), nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(op.f("ix_audit_checkpoints_through_id"), "audit_checkpoints", ["through_id"], unique=False)
    op.get_bind().execute(sa.text("INSERT INTO audit_chain_head (id, version) VALUES (1, 0)"))


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_checkpoints_through_id"), table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_chain_head")
