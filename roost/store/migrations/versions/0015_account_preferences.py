"""Posting preferences per account (Mastodon's ``source[privacy]``, ``source[sensitive]``,
``source[language]``, read back by ``/api/v1/preferences``).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_preferences",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("privacy", sa.String(length=10), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_preferences_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_preferences")),
    )


def downgrade() -> None:
    op.drop_table("account_preferences")
