"""apps: registered apps, runs, provided app keys and jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("app_name", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("test_call", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.String(length=200), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("artifacts", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_jpy", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_runs")),
        sa.UniqueConstraint("request_id", name=op.f("uq_app_runs_request_id")),
    )
    with op.batch_alter_table("app_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_runs_app_id"), ["app_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_app_runs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_app_runs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "provided_app_jobs",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("app_name", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_provided_app_jobs")),
    )
    with op.batch_alter_table("provided_app_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provided_app_jobs_key_id"), ["key_id"], unique=False)

    op.create_table(
        "provided_app_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_name", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_provided_app_keys_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_provided_app_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provided_app_keys")),
        sa.UniqueConstraint("digest", name=op.f("uq_provided_app_keys_digest")),
    )
    with op.batch_alter_table("provided_app_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provided_app_keys_app_name"), ["app_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_provided_app_keys_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provided_app_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "registered_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2000), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("form_definition", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("chat", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_team_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_team_id"], ["teams.id"], name=op.f("fk_registered_apps_owner_team_id_teams"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_apps")),
        sa.UniqueConstraint("slug", name=op.f("uq_registered_apps_slug")),
    )
    with op.batch_alter_table("registered_apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registered_apps_owner_team_id"), ["owner_team_id"], unique=False)

    op.create_table(
        "registered_app_teams",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["registered_apps.id"],
            name=op.f("fk_registered_app_teams_app_id_registered_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_registered_app_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "team_id", name=op.f("pk_registered_app_teams")),
    )


def downgrade() -> None:
    op.drop_table("registered_app_teams")
    with op.batch_alter_table("registered_apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registered_apps_owner_team_id"))

    op.drop_table("registered_apps")
    with op.batch_alter_table("provided_app_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provided_app_keys_user_id"))
        batch_op.drop_index(batch_op.f("ix_provided_app_keys_team_id"))
        batch_op.drop_index(batch_op.f("ix_provided_app_keys_app_name"))

    op.drop_table("provided_app_keys")
    with op.batch_alter_table("provided_app_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provided_app_jobs_key_id"))

    op.drop_table("provided_app_jobs")
    with op.batch_alter_table("app_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_runs_user_id"))
        batch_op.drop_index(batch_op.f("ix_app_runs_created_at"))
        batch_op.drop_index(batch_op.f("ix_app_runs_app_id"))

    op.drop_table("app_runs")
