"""Media attachments (uploaded pictures, processed off the request path), the attachments a
post shows (``statuses.media_attachments``) and people's avatars and headers.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_attachments",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("incoming_key", sa.String(length=200), nullable=True),
        sa.Column("file_key", sa.String(length=200), nullable=True),
        sa.Column("small_key", sa.String(length=200), nullable=True),
        sa.Column("meta", sa.Text(), nullable=True),
        sa.Column("blurhash", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("focus_x", sa.Float(), nullable=True),
        sa.Column("focus_y", sa.Float(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_media_attachments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["statuses.id"],
            name=op.f("fk_media_attachments_status_id_statuses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
    )
    op.create_index("ix_media_attachments_status_id", "media_attachments", ["status_id"])
    op.create_index(
        "ix_media_attachments_account_id_status_id",
        "media_attachments",
        ["account_id", "status_id"],
    )
    op.create_index(
        "ix_media_attachments_state_created_at", "media_attachments", ["state", "created_at"]
    )
    # plain ADD COLUMNs on both databases: no copy of the tables (nor of their FTS triggers)
    op.add_column("accounts", sa.Column("avatar_key", sa.String(length=200), nullable=True))
    op.add_column("accounts", sa.Column("header_key", sa.String(length=200), nullable=True))
    op.add_column("statuses", sa.Column("media_attachments", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("statuses", "media_attachments")
    op.drop_column("accounts", "header_key")
    op.drop_column("accounts", "avatar_key")
    op.drop_table("media_attachments")
