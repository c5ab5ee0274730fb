"""What a person's new posts default to: visibility, sensitivity, language (Mastodon's posting
preferences, changed through ``update_credentials``'s ``source`` and read by clients from
``/api/v1/preferences`` and ``verify_credentials``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import posts as rules
from roost.domain.errors import Invalid
from roost.store.db import Tx
from roost.store.tables import account_preferences

DEFAULT_PRIVACY = ("public", "unlisted", "private")  # a default cannot be direct, as in Mastodon


@dataclass(frozen=True)
class Preferences:
    privacy: str = "public"
    sensitive: bool = False
    language: str | None = None


async def of(conn: AsyncConnection, account_id: int) -> Preferences:
    row = (
        (
            await conn.execute(
                select(account_preferences).where(account_preferences.c.account_id == account_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return Preferences()
    return Preferences(row["privacy"], row["sensitive"], row["language"])


async def change(
    tx: Tx,
    account_id: int,
    privacy: str | None = None,
    sensitive: bool | None = None,
    language: str | None = None,
) -> Preferences:
    """Change what is given (None: as it was; an empty language: none)."""
    values: dict = {}
    if privacy is not None:
        chosen = rules.check_visibility(privacy).value
        if chosen not in DEFAULT_PRIVACY:
            raise Invalid("source[privacy]", "must be public, unlisted or private")
        values["privacy"] = chosen
    if sensitive is not None:
        values["sensitive"] = sensitive
    if language is not None:
        values["language"] = rules.check_language(language)
    if values:
        kept = await of(tx.conn, account_id)
        table = account_preferences
        if await tx.conn.scalar(select(table.c.account_id).where(table.c.account_id == account_id)):
            await tx.conn.execute(
                update(table).where(table.c.account_id == account_id).values(**values)
            )
        else:
            whole = {**kept.__dict__, **values}
            await tx.conn.execute(insert(table).values(account_id=account_id, **whole))
    return await of(tx.conn, account_id)
