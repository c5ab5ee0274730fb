"""Direct conversations, status mutes and pins, account notes and featured tags: the thread each
post belongs to, each participant's view of a direct thread, muted threads, pinned posts,
private notes about accounts, and hashtags featured on a profile.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _when(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False)


def _pair(name: str, right: str, right_table: str) -> None:
    op.create_table(
        name,
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column(right, sa.BigInteger(), nullable=False),
        _when(),
        _fk(name, "account_id", "accounts"),
        _fk(name, right, right_table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("account_id", right, name=op.f(f"uq_{name}_account_id_{right}")),
    )
    op.create_index(op.f(f"ix_{name}_{right}"), name, [right])


def upgrade() -> None:
    op.create_table(
        "status_threads",
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        _fk("status_threads", "status_id", "statuses"),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_status_threads")),
    )
    op.create_index(op.f("ix_status_threads_thread_id"), "status_threads", ["thread_id"])
    op.create_table(
        "account_conversations",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_ids", sa.Text(), nullable=False),
        sa.Column("last_status_id", sa.BigInteger(), nullable=False),
        sa.Column("unread", sa.Boolean(), nullable=False),
        _fk("account_conversations", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_conversations")),
        sa.UniqueConstraint(
            "account_id", "thread_id", name=op.f("uq_account_conversations_account_id_thread_id")
        ),
    )
    op.create_index(
        "ix_account_conversations_account_id_last_status_id",
        "account_conversations",
        ["account_id", "last_status_id"],
    )
    op.create_table(
        "thread_mutes",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        _when(),
        _fk("thread_mutes", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_mutes")),
        sa.UniqueConstraint(
            "account_id", "thread_id", name=op.f("uq_thread_mutes_account_id_thread_id")
        ),
    )
    _pair("status_pins", "status_id", "statuses")
    _pair("featured_tags", "tag_id", "tags")
    op.create_table(
        "account_notes",
        _id(),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("updated_at"),
        _fk("account_notes", "account_id", "accounts"),
        _fk("account_notes", "target_account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_notes")),
        sa.UniqueConstraint(
            "account_id",
            "target_account_id",
            name=op.f("uq_account_notes_account_id_target_account_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("account_notes")
    op.drop_index(op.f("ix_featured_tags_tag_id"), table_name="featured_tags")
    op.drop_table("featured_tags")
    op.drop_index(op.f("ix_status_pins_status_id"), table_name="status_pins")
    op.drop_table("status_pins")
    op.drop_table("thread_mutes")
    op.drop_index(
        "ix_account_conversations_account_id_last_status_id", table_name="account_conversations"
    )
    op.drop_table("account_conversations")
    op.drop_index(op.f("ix_status_threads_thread_id"), table_name="status_threads")
    op.drop_table("status_threads")
