"""Accounts by followers count, so that a home read finds the followed "big" accounts (merged
at read time, not fanned out) from the few big accounts rather than from every account the
reader follows.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounts_followers_count", "accounts", ["followers_count"])


def downgrade() -> None:
    op.drop_index("ix_accounts_followers_count", table_name="accounts")
