"""knowledge bases: fair, sliced ingestion — a turn counter per knowledge base (served least
recently goes first), page progress on jobs, and the staged chunks of a job not yet published

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_bases") as batch:
        batch.add_column(sa.Column("ingest_turn", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("kb_ingest_jobs") as batch:
        batch.add_column(sa.Column("pages_done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("pages_total", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "kb_staged_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("heading_path", sa.String(2000), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("article", sa.String(200), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["kb_ingest_jobs.id"],
            ondelete="CASCADE",
            name=op.f("fk_kb_staged_chunks_job_id_kb_ingest_jobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_staged_chunks")),
        sa.UniqueConstraint("job_id", "ordinal", name=op.f("uq_kb_staged_chunks_job_id")),
    )


def downgrade() -> None:
    op.drop_table("kb_staged_chunks")
    with op.batch_alter_table("kb_ingest_jobs") as batch:
        batch.drop_column("pages_total")
        batch.drop_column("pages_done")
    with op.batch_alter_table("knowledge_bases") as batch:
        batch.drop_column("ingest_turn")
