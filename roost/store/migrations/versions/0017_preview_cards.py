"""Link preview cards: one row per link (by normalized URL), shared by every post linking it,
and on each post the card of its first link.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preview_cards",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("author_url", sa.String(length=2048), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("provider_url", sa.String(length=2048), nullable=False),
        sa.Column("image_url", sa.String(length=2048), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preview_cards")),
        sa.UniqueConstraint("url", name=op.f("uq_preview_cards_url")),
    )
    # A plain ADD COLUMN on both databases, no copy of the statuses table: SQLite takes a
    # REFERENCES clause on a new nullable column, but not alembic's separate ADD CONSTRAINT,
    # and a copy would lose the search triggers (and, with foreign keys on, cascade the
    # drop of the old table into favourites and the rest). Why no ON DELETE SET NULL: SQLite
    # keeps a column-level clause's action, but reflection reads actions only from
    # table-level constraints, so models and migrations would never agree. Cards are never
    # deleted; whatever deletes them one day clears ``statuses.card_id`` first.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE statuses ADD COLUMN card_id BIGINT"
            " CONSTRAINT fk_statuses_card_id_preview_cards REFERENCES preview_cards (id)"
        )
    else:
        op.add_column("statuses", sa.Column("card_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f("fk_statuses_card_id_preview_cards"),
            "statuses",
            "preview_cards",
            ["card_id"],
            ["id"],
        )
    op.create_index(op.f("ix_statuses_card_id"), "statuses", ["card_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_statuses_card_id"), table_name="statuses")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE statuses DROP COLUMN card_id")
    else:
        op.drop_constraint(op.f("fk_statuses_card_id_preview_cards"), "statuses")
        op.drop_column("statuses", "card_id")
    op.drop_table("preview_cards")
