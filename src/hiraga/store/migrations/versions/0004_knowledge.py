"""knowledge: knowledge bases, documents, chunks, ingestion jobs (+ pgvector/full-text on PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:00:00

On PostgreSQL the ``vector`` extension is enabled when the server has it; then ``kb_chunks`` gets
an ``embedding vector(384)`` column with an HNSW index (cosine) and a ``terms_tsv`` tsvector
column with a GIN index. Without pgvector (or on SQLite) the embedded index files are used.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DIMENSIONS = 384


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "knowledge_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            ondelete="RESTRICT",
            name=op.f("fk_knowledge_bases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], ondelete="RESTRICT", name=op.f("fk_knowledge_bases_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_bases")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_knowledge_bases_organisation_id")),
    )
    op.create_index(op.f("ix_knowledge_bases_team_id"), "knowledge_bases", ["team_id"])
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kb_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("status", _enum("documentstatus", "pending", "ready", "failed"), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.String(1000), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("tags", sa.String(1000), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kb_id"], ["knowledge_bases.id"], ondelete="CASCADE", name=op.f("fk_kb_documents_kb_id_knowledge_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_documents")),
        sa.UniqueConstraint("kb_id", "name", name=op.f("uq_kb_documents_kb_id")),
    )
    op.create_index(op.f("ix_kb_documents_kb_id"), "kb_documents", ["kb_id"])
    op.create_index(op.f("ix_kb_documents_content_hash"), "kb_documents", ["content_hash"])
    op.create_table(
        "kb_chunks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kb_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("heading_path", sa.String(2000), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("article", sa.String(200), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["kb_documents.id"], ondelete="CASCADE", name=op.f("fk_kb_chunks_document_id_kb_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_chunks")),
    )
    op.create_index(op.f("ix_kb_chunks_kb_id"), "kb_chunks", ["kb_id"])
    op.create_index(op.f("ix_kb_chunks_document_id"), "kb_chunks", ["document_id"])
    op.create_table(
        "kb_ingest_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kb_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("state", _enum("jobstate", "queued", "running", "done", "failed"), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kb_id"], ["knowledge_bases.id"], ondelete="CASCADE", name=op.f("fk_kb_ingest_jobs_kb_id_knowledge_bases")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["kb_documents.id"],
            ondelete="CASCADE",
            name=op.f("fk_kb_ingest_jobs_document_id_kb_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_ingest_jobs")),
    )
    op.create_index(op.f("ix_kb_ingest_jobs_kb_id"), "kb_ingest_jobs", ["kb_id"])
    op.create_index(op.f("ix_kb_ingest_jobs_document_id"), "kb_ingest_jobs", ["document_id"])
    op.create_index(op.f("ix_kb_ingest_jobs_state"), "kb_ingest_jobs", ["state"])
    if op.get_bind().dialect.name == "postgresql":
        _add_postgres_search()


def _pgvector_available() -> bool:
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    return found is not None


def _add_postgres_search() -> None:
    """Full-text over Sudachi terms always; pgvector + HNSW when the server has the extension."""
    op.execute("ALTER TABLE kb_chunks ADD COLUMN terms_tsv tsvector")
    op.execute("CREATE INDEX ix_kb_chunks_terms_tsv ON kb_chunks USING gin (terms_tsv)")
    if not _pgvector_available():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(f"ALTER TABLE kb_chunks ADD COLUMN embedding vector({DIMENSIONS})")
    op.execute("CREATE INDEX ix_kb_chunks_embedding ON kb_chunks USING hnsw (embedding vector_cosine_ops)")


def downgrade() -> None:
    op.drop_table("kb_ingest_jobs")
    op.drop_table("kb_chunks")
    op.drop_table("kb_documents")
    op.drop_table("knowledge_bases")
