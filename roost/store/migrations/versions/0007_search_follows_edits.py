"""Full-text search follows edits on SQLite, and an index spoiled by earlier edits is rebuilt.

The FTS5 index (0002) had triggers for insert and delete only. An edit changed a post's text
but not its index entry: the old words stayed findable and the new ones were not. Worse, the
index is contentless, so deleting an edited post asked it to forget words it never held, which
corrupts it ("database disk image is malformed" on the next search). PostgreSQL's index is an
expression index and always followed the text.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE TRIGGER statuses_fts_update AFTER UPDATE OF text ON statuses
       WHEN old.reblog_of_id IS NULL
       BEGIN
         INSERT INTO statuses_fts(statuses_fts, rowid, text) VALUES ('delete', old.id, old.text);
         INSERT INTO statuses_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    # A contentless index cannot be told what it holds, so it is emptied and filled again.
    "INSERT INTO statuses_fts(statuses_fts) VALUES ('delete-all')",
    "INSERT INTO statuses_fts(rowid, text) SELECT id, text FROM statuses"
    " WHERE reblog_of_id IS NULL",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER statuses_fts_update")
