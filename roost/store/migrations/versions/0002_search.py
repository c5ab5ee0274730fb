"""Full-text search of posts: FTS5 on SQLite, a GIN tsvector index on PostgreSQL.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Reblogs carry no text of their own, so only original posts are indexed.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE statuses_fts USING fts5(text, content='', tokenize='unicode61')",
    """CREATE TRIGGER statuses_fts_insert AFTER INSERT ON statuses WHEN new.reblog_of_id IS NULL
       BEGIN INSERT INTO statuses_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER statuses_fts_delete AFTER DELETE ON statuses WHEN old.reblog_of_id IS NULL
       BEGIN INSERT INTO statuses_fts(statuses_fts, rowid, text)
             VALUES ('delete', old.id, old.text); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER statuses_fts_delete",
    "DROP TRIGGER statuses_fts_insert",
    "DROP TABLE statuses_fts",
]
POSTGRES_UP = [
    "CREATE INDEX ix_statuses_fts ON statuses USING gin (to_tsvector('simple', text))"
    " WHERE reblog_of_id IS NULL",
]
POSTGRES_DOWN = ["DROP INDEX ix_statuses_fts"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_UP if sqlite else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else POSTGRES_DOWN:
        op.execute(statement)
