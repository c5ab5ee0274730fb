"""Counting this process's commits, so caches know when what they hold may be stale.

The *generation* goes up on every database commit made by this process (SQLAlchemy's
``commit`` event on the site's engines, and again when that connection returns to the pool,
once the commit has landed): anything written here invalidates every entry stamped earlier.
Who a token is has a narrower counter of its own (``auth``), moved only by commits that wrote
a token or suspended or removed an account (``changes_auth``), so a post does not make its
author's next request look the token up again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from roost.store.db import Database
from roost.store.tables import accounts, tokens


class Generation:
    """Counts commits."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self, *_args: Any) -> None:
        self.value += 1


class CommitWatch:
    """``every`` counts all of this process's commits, ``auth`` those that change who a token is."""

    def __init__(self, db: Database) -> None:
        self.every = Generation()
        self.auth = Generation()
        engines = {id(e): e for e in (db.engine, getattr(db, "write_engine", None)) if e}
        for engine in engines.values():
            event.listen(engine.sync_engine, "before_cursor_execute", self._executing)
            event.listen(engine.sync_engine, "commit", self._committing)
            event.listen(engine.sync_engine, "checkin", self._checked_in)

    def _executing(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if changes_auth(statement):  # rolled back or not: forgetting a token once is harmless
            conn.info["roost_auth"] = True

    def _committing(self, conn: Any) -> None:
        # SQLAlchemy's commit event fires *before* the commit lands: a read running meanwhile
        # still sees the old rows, so the connection is marked and the counter bumped again
        # when it goes back to the pool, which is after the commit.
        conn.info["roost_committed"] = True
        self.every.bump()
        if conn.info.get("roost_auth"):
            self.auth.bump()

    def _checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("roost_committed", False):
            self.every.bump()
            if record.info.pop("roost_auth", False):
                self.auth.bump()


_AUTH_WRITES = (
    f"UPDATE {tokens.name} ",
    f"DELETE FROM {tokens.name}",
    f"DELETE FROM {accounts.name}",
)
_ACCOUNT_UPDATE = f"UPDATE {accounts.name} "


def changes_auth(statement: str) -> bool:
    """Whether SQL may change what a token grants: tokens written, accounts suspended or gone."""
    if statement.startswith(_AUTH_WRITES):
        return True
    return statement.startswith(_ACCOUNT_UPDATE) and "suspended_at" in statement
