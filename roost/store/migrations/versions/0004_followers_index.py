"""Followers of an account in id order, for fan-out's keyset chunks.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_follows_target_account_id_account_id", "follows", ["target_account_id", "account_id"]
    )
    op.drop_index("ix_follows_target_account_id", table_name="follows")


def downgrade() -> None:
    op.create_index("ix_follows_target_account_id", "follows", ["target_account_id"])
    op.drop_index("ix_follows_target_account_id_account_id", table_name="follows")
