"""Each revision of an edited post keeps the pictures it showed (Mastodon's StatusEdit
``media_attachments``).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("status_edits", sa.Column("media_attachments", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("status_edits", "media_attachments")
