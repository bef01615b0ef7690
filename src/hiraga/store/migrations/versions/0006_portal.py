"""portal: conversations, messages, attachments, feedback, bots, builder apps, app uses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_app_uses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sa.String(length=120), nullable=False),
        sa.Column("favourite", sa.Boolean(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_app_uses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "app_key", name=op.f("pk_portal_app_uses")),
    )
    op.create_table(
        "portal_bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_portal_bots_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_bots")),
    )
    with op.batch_alter_table("portal_bots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_bots_team_id"), ["team_id"], unique=False)

    op.create_table(
        "portal_builder_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("owner_team_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_team_id"], ["teams.id"], name=op.f("fk_portal_builder_apps_owner_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_builder_apps")),
    )
    with op.batch_alter_table("portal_builder_apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_builder_apps_owner_team_id"), ["owner_team_id"], unique=False)

    op.create_table(
        "portal_builder_app_teams",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["portal_builder_apps.id"],
            name=op.f("fk_portal_builder_app_teams_app_id_portal_builder_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_portal_builder_app_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "team_id", name=op.f("pk_portal_builder_app_teams")),
    )
    op.create_table(
        "portal_conversations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["portal_bots.id"], name=op.f("fk_portal_conversations_bot_id_portal_bots"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_conversations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_conversations")),
    )
    with op.batch_alter_table("portal_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_conversations_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_conversations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "portal_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("builtin_model", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("notices", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["portal_conversations.id"],
            name=op.f("fk_portal_messages_conversation_id_portal_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_messages")),
        sa.UniqueConstraint("conversation_id", "position", name=op.f("uq_portal_messages_conversation_id")),
    )
    op.create_table(
        "portal_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chars_total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["portal_messages.id"],
            name=op.f("fk_portal_attachments_message_id_portal_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_attachments")),
    )
    with op.batch_alter_table("portal_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_attachments_message_id"), ["message_id"], unique=False)

    op.create_table(
        "portal_feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("corrected_answer", sa.Text(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["portal_messages.id"],
            name=op.f("fk_portal_feedback_message_id_portal_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_feedback")),
        sa.UniqueConstraint("message_id", "user_id", name=op.f("uq_portal_feedback_message_id")),
    )
    with op.batch_alter_table("portal_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_feedback_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_feedback_user_id"))
        batch_op.drop_index(batch_op.f("ix_portal_feedback_message_id"))

    op.drop_table("portal_feedback")
    with op.batch_alter_table("portal_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_attachments_message_id"))

    op.drop_table("portal_attachments")
    op.drop_table("portal_messages")
    with op.batch_alter_table("portal_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_conversations_user_id"))
        batch_op.drop_index(batch_op.f("ix_portal_conversations_updated_at"))

    op.drop_table("portal_conversations")
    op.drop_table("portal_builder_app_teams")
    with op.batch_alter_table("portal_builder_apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_builder_apps_owner_team_id"))

    op.drop_table("portal_builder_apps")
    with op.batch_alter_table("portal_bots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_bots_team_id"))

    op.drop_table("portal_bots")
    op.drop_table("portal_app_uses")
