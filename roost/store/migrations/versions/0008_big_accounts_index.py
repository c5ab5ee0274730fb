"""Two indexes for the read path: accounts by followers count, so that a home read finds the
followed "big" accounts (merged at read time, not fanned out) from the few big accounts rather
than from every account the reader follows; and each account's reposts by original, so that
"did the viewer repost these?" reads those reposts, not every post of a prolific viewer.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


REPOSTS = sa.text("reblog_of_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_accounts_followers_count", "accounts", ["followers_count"])
    op.create_index(
        "ix_statuses_account_id_reblog_of_id",
        "statuses",
        ["account_id", "reblog_of_id"],
        sqlite_where=REPOSTS,
        postgresql_where=REPOSTS,
    )


def downgrade() -> None:
    op.drop_index("ix_statuses_account_id_reblog_of_id", table_name="statuses")
    op.drop_index("ix_accounts_followers_count", table_name="accounts")
