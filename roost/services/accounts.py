"""Accounts: sign-up, sign-in, profiles, suspension, and account search."""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import accounts as rules
from roost.domain import text
from roost.domain.errors import Conflict, Invalid, NotFound
from roost.services import passwords, sessions
from roost.services.context import Context, now
from roost.store.db import Database, Tx
from roost.store.hot import Hot
from roost.store.tables import accounts


async def register(
    ctx: Context,
    username: str,
    email: str | None,
    password: str,
    display_name: str = "",
    role: str = "user",
    bot: bool = False,
) -> RowMapping:
    """A new account. The checks that cost nothing come first, then the password hash (outside
    any transaction: SQLite's one writer is never held through argon2), then one short write
    that checks again, for a name taken meanwhile."""
    name = rules.check_new_username(username)
    mail = rules.check_email(email) if email else None
    shown = rules.check_display_name(display_name)
    async with ctx.db.read() as conn:
        await _check_free(conn, name, mail)
    hashed = await passwords.hash_password(password)
    moment = now()
    account_id = ctx.ids.next_id()
    row = {
        "id": account_id,
        "username": name,
        "email": mail,
        "password_hash": hashed,
        "display_name": shown,
        "note": "",
        "note_html": "",
        "locked": False,
        "bot": bot,
        "role": role,
        "statuses_count": 0,
        "followers_count": 0,
        "following_count": 0,
        "created_at": moment,
        "updated_at": moment,
    }
    async with ctx.db.write() as tx:
        await _check_free(tx.conn, name, mail)
        await tx.conn.execute(insert(accounts).values(row))
        return await get(tx.conn, account_id)


async def _check_free(conn: AsyncConnection, name: str, mail: str | None) -> None:
    if await by_username(conn, name) is not None:
        raise Conflict("Username is already taken")
    if mail and await email_taken(conn, mail):
        raise Conflict("Email is already taken")


async def authenticate(db: Database, login: str, password: str) -> RowMapping | None:
    """The account for a username-or-email and password, or None (same answer for both wrongs).

    A hash made with older argon2 parameters is replaced on a successful sign-in, so that every
    check costs the same: a known account must not answer slower than an unknown one (the dummy
    hash uses today's parameters), and the shield's password budget assumes today's cost.
    """
    login = text.clean(login).strip().lower().lstrip("@")
    query = select(accounts).where(or_(accounts.c.username == login, accounts.c.email == login))
    async with db.read() as conn:
        row = (await conn.execute(query)).mappings().first()
    stored = row["password_hash"] if row else _DUMMY_HASH
    ok = await passwords.verify(stored, password)
    if not ok or row is None or row["suspended_at"] is not None:
        return None
    if rules.needs_rehash(stored):
        hashed = await passwords.hash_password(password)
        async with db.write() as tx:
            await tx.conn.execute(
                update(accounts)
                .where(accounts.c.id == row["id"], accounts.c.password_hash == stored)
                .values(password_hash=hashed)
            )
    return row


_DUMMY_HASH = rules.hash_password("timing-equaliser")  # unknown users cost as much as known ones


ACCOUNT_BY_ID = Hot(select(accounts).where(accounts.c.id == bindparam("id")))


async def get(conn: AsyncConnection, account_id: int) -> RowMapping:
    found = await ACCOUNT_BY_ID.mappings(conn, {"id": account_id})
    if not found or found[0]["suspended_at"] is not None:
        raise NotFound("Account")
    return found[0]


ACCOUNTS_BY_ID = Hot(
    select(accounts).where(
        accounts.c.id.in_(bindparam("ids", expanding=True)), accounts.c.suspended_at.is_(None)
    )
)


async def get_many(conn: AsyncConnection, ids: set[int] | list[int]) -> dict[int, dict]:
    """Accounts by id (rows as dicts by column name); suspended ones are left out, so whatever
    they wrote drops out of lists."""
    if not ids:
        return {}
    return {row["id"]: row for row in await ACCOUNTS_BY_ID.mappings(conn, {"ids": ids})}


async def email_taken(conn: AsyncConnection, email: str) -> bool:
    """Whether an account has this (checked, lower-cased) address already."""
    return await conn.scalar(select(accounts.c.id).where(accounts.c.email == email)) is not None


async def by_username(conn: AsyncConnection, username: str) -> RowMapping | None:
    name = text.clean(username).strip().lstrip("@").split("@")[0].lower()
    query = select(accounts).where(accounts.c.username == name)
    return (await conn.execute(query)).mappings().first()


async def lookup(conn: AsyncConnection, acct: str, domain: str) -> RowMapping:
    name, _, host = text.clean(acct).strip().lstrip("@").partition("@")
    if host and host.lower() != domain.lower():
        raise NotFound("Account")
    row = await by_username(conn, name)
    if row is None or row["suspended_at"] is not None:
        raise NotFound("Account")
    return row


async def update_profile(
    ctx: Context,
    tx: Tx,
    account_id: int,
    display_name: str | None = None,
    note: str | None = None,
    locked: bool | None = None,
    bot: bool | None = None,
) -> RowMapping:
    changes: dict = {"updated_at": now()}
    if display_name is not None:
        changes["display_name"] = rules.check_display_name(display_name)
    if note is not None:
        changes["note"] = rules.check_bio(note)
        changes["note_html"] = text.render(changes["note"], ctx.base_url) if note.strip() else ""
    if locked is not None:
        changes["locked"] = locked
    if bot is not None:
        changes["bot"] = bot
    await tx.conn.execute(update(accounts).where(accounts.c.id == account_id).values(changes))
    return await get(tx.conn, account_id)


async def change_password(
    tx: Tx, account_id: int, current: str, new: str, keep_session: object = None
) -> None:
    """A new password ends every other web session and every OAuth token of the account:
    whoever knew the old one is out (``keep_session``: the browser that changed it)."""
    row = await get(tx.conn, account_id)
    if not await passwords.verify(row["password_hash"], current):
        raise Invalid("current_password", "is wrong")
    hashed = await passwords.hash_password(new)
    await tx.conn.execute(
        update(accounts).where(accounts.c.id == account_id).values(password_hash=hashed)
    )
    await sessions.end_all(tx, account_id, keep=keep_session)
    await sessions.revoke_tokens(tx, account_id)


async def set_suspended(tx: Tx, username: str, suspended: bool) -> RowMapping:
    row = await by_username(tx.conn, username)
    if row is None:
        raise NotFound("Account")
    await tx.conn.execute(
        update(accounts)
        .where(accounts.c.id == row["id"])
        .values(suspended_at=now() if suspended else None)
    )
    return row


async def search(
    conn: AsyncConnection, query: str, limit: int, offset: int = 0
) -> list[RowMapping]:
    """Accounts whose username or display name starts with the query; exact match first."""
    term = text.clean(query).strip().lstrip("@").split("@")[0].lower()
    if not term:
        return []
    pattern = _escape_like(term) + "%"
    result = await conn.execute(
        select(accounts)
        .where(
            accounts.c.suspended_at.is_(None),
            or_(
                accounts.c.username.like(pattern, escape="\\"),
                func.lower(accounts.c.display_name).like(pattern, escape="\\"),
            ),
        )
        .order_by((accounts.c.username == term).desc(), accounts.c.followers_count.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.mappings())


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_accounts(conn: AsyncConnection, limit: int = 100) -> list[RowMapping]:
    result = await conn.execute(select(accounts).order_by(accounts.c.id).limit(limit))
    return list(result.mappings())


async def count_local(conn: AsyncConnection) -> int:
    return await conn.scalar(select(func.count()).select_from(accounts)) or 0


async def hold(tx: Tx, account_id: int) -> None:
    """Take the account's row for the rest of this transaction (PostgreSQL's ``FOR UPDATE``;
    SQLite has one writer already), so that two requests of one person counting what they
    have (pins, featured tags, lists) before adding one cannot both pass the limit."""
    await tx.conn.execute(
        select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()
    )
