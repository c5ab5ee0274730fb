"""Index status_tags by status: rendering a page and deleting a post look tags up by status.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_status_tags_status_id", "status_tags", ["status_id"])


def downgrade() -> None:
    op.drop_index("ix_status_tags_status_id", table_name="status_tags")
