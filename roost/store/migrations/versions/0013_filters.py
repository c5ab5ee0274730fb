"""Filters (Mastodon's v2 and, as their keywords, v1): a title, contexts, warn or hide, an
optional end; keywords and chosen posts that the filter matches.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _cascade(column: str, table: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{owner}_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "filters",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("context", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("account_id", "accounts", "filters"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filters")),
    )
    op.create_index(op.f("ix_filters_account_id"), "filters", ["account_id"])
    op.create_table(
        "filter_keywords",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("filter_id", sa.BigInteger(), nullable=False),
        sa.Column("keyword", sa.String(length=512), nullable=False),
        sa.Column("whole_word", sa.Boolean(), nullable=False),
        _cascade("filter_id", "filters", "filter_keywords"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_keywords")),
    )
    op.create_index(op.f("ix_filter_keywords_filter_id"), "filter_keywords", ["filter_id"])
    op.create_table(
        "filter_statuses",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("filter_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        _cascade("filter_id", "filters", "filter_statuses"),
        _cascade("status_id", "statuses", "filter_statuses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_statuses")),
        sa.UniqueConstraint(
            "filter_id", "status_id", name=op.f("uq_filter_statuses_filter_id_status_id")
        ),
    )
    op.create_index(op.f("ix_filter_statuses_status_id"), "filter_statuses", ["status_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_filter_statuses_status_id"), table_name="filter_statuses")
    op.drop_table("filter_statuses")
    op.drop_index(op.f("ix_filter_keywords_filter_id"), table_name="filter_keywords")
    op.drop_table("filter_keywords")
    op.drop_index(op.f("ix_filters_account_id"), table_name="filters")
    op.drop_table("filters")
