"""Status edits: each revision of an edited post, for /api/v1/statuses/:id/history.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_edits",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("spoiler_text", sa.String(length=500), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["statuses.id"],
            name=op.f("fk_status_edits_status_id_statuses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_edits")),
    )
    op.create_index(op.f("ix_status_edits_status_id"), "status_edits", ["status_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_status_edits_status_id"), table_name="status_edits")
    op.drop_table("status_edits")
