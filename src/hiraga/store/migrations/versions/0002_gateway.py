"""gateway: model endpoints, their teams and aliases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:22:47.933314
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("upstream_model", sa.String(length=200), nullable=False),
        sa.Column("api_version", sa.String(length=40), nullable=True),
        sa.Column("model_path", sa.String(length=1000), nullable=True),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("context_window", sa.Integer(), nullable=False),
        sa.Column("price_input_per_1k", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("price_output_per_1k", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("clearance", sa.Integer(), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("all_teams", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_model_endpoints_name")),
    )
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["model_endpoints.id"],
            name=op.f("fk_model_aliases_endpoint_id_model_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "endpoint_id", name=op.f("pk_model_aliases")),
    )
    op.create_table(
        "model_endpoint_teams",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["model_endpoints.id"],
            name=op.f("fk_model_endpoint_teams_endpoint_id_model_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_model_endpoint_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "team_id", name=op.f("pk_model_endpoint_teams")),
    )


def downgrade() -> None:
    op.drop_table("model_endpoint_teams")
    op.drop_table("model_aliases")
    op.drop_table("model_endpoints")
