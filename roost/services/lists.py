"""Lists (Mastodon's): an account's named groups of accounts it follows, each read as a timeline
of their posts. The timeline is a read-time query over the members' posts (nothing is copied
into a list feed), so adding or removing a member changes the whole timeline at once; the
fan-out only streams new posts to ``list:<id>`` channels."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import text
from roost.domain.errors import NotFound, ValidationFailed
from roost.services import accounts as account_service
from roost.services import social
from roost.services.context import Context, now
from roost.services.timelines import Page, Windowed
from roost.store.db import Tx
from roost.store.tables import accounts, follows, list_accounts, lists, statuses

REPLIES_POLICIES = ("followed", "list", "none")
TITLE_MOST = 100  # the column's width
LISTS_MOST = 50  # per account, as Mastodon's List::PER_ACCOUNT_LIMIT
MEMBERS_MOST = 1000  # per list: bounds the timeline's author set and ``limit=0``


@dataclass(frozen=True)
class AccountList:
    """What Mastodon's ``List`` entity says."""

    id: int
    title: str
    replies_policy: str
    exclusive: bool


def _of(row: RowMapping) -> AccountList:
    return AccountList(row["id"], row["title"], row["replies_policy"], row["exclusive"])


def clean_title(title: str | None) -> str:
    """A title as kept: trimmed, present and at most ``TITLE_MOST`` characters."""
    cleaned = text.clean(title).strip()
    if not cleaned:
        raise ValidationFailed("Title can't be blank")
    if len(cleaned) > TITLE_MOST:
        raise ValidationFailed(f"Title is too long (maximum is {TITLE_MOST} characters)")
    return cleaned


async def owned(conn: AsyncConnection, owner_id: int) -> list[AccountList]:
    """The owner's lists, oldest first (as Mastodon orders them)."""
    found = await conn.execute(
        select(lists).where(lists.c.account_id == owner_id).order_by(lists.c.id)
    )
    return [_of(row) for row in found.mappings()]


async def get(conn: AsyncConnection, owner_id: int, list_id: int) -> AccountList:
    """One of the owner's lists; someone else's, or none, is 404 alike."""
    found = await conn.execute(
        select(lists).where(lists.c.id == list_id, lists.c.account_id == owner_id)
    )
    row = found.mappings().first()
    if row is None:
        raise NotFound()
    return _of(row)


async def create(
    ctx: Context, tx: Tx, owner_id: int, title: str | None, policy: str | None, exclusive: bool
) -> AccountList:
    await account_service.hold(tx, owner_id)
    count = await tx.conn.scalar(
        select(func.count()).select_from(lists).where(lists.c.account_id == owner_id)
    )
    if (count or 0) >= LISTS_MOST:
        raise ValidationFailed(f"You cannot have more than {LISTS_MOST} lists")
    made = AccountList(ctx.ids.next_id(), clean_title(title), policy or "list", exclusive)
    await tx.conn.execute(
        insert(lists).values(account_id=owner_id, created_at=now(), **asdict(made))
    )
    return made


async def change(
    tx: Tx,
    owner_id: int,
    list_id: int,
    title: str | None,
    policy: str | None,
    exclusive: bool | None,
) -> AccountList:
    """Change what is given (None: leave as it is)."""
    found = await get(tx.conn, owner_id, list_id)
    changed = AccountList(
        list_id,
        clean_title(title) if title is not None else found.title,
        policy or found.replies_policy,
        found.exclusive if exclusive is None else exclusive,
    )
    await tx.conn.execute(update(lists).where(lists.c.id == list_id).values(**asdict(changed)))
    return changed


async def remove(tx: Tx, owner_id: int, list_id: int) -> None:
    await get(tx.conn, owner_id, list_id)
    await tx.conn.execute(delete(list_accounts).where(list_accounts.c.list_id == list_id))
    await tx.conn.execute(delete(lists).where(lists.c.id == list_id))


async def add_members(
    ctx: Context, tx: Tx, owner_id: int, list_id: int, account_ids: list[int]
) -> None:
    """Add accounts the owner follows (all or none); one already there stays once. Counted
    under the owner's row lock, so two additions at once cannot pass the limit together."""
    await get(tx.conn, owner_id, list_id)
    await account_service.hold(tx, owner_id)
    wanted = set(account_ids)
    known = set(await tx.conn.scalars(select(accounts.c.id).where(accounts.c.id.in_(wanted))))
    if wanted - known:
        raise NotFound()
    followed = set(
        await tx.conn.scalars(
            select(follows.c.target_account_id).where(
                follows.c.account_id == owner_id,
                follows.c.target_account_id.in_(wanted),
                follows.c.state == "accepted",
            )
        )
    )
    if wanted - followed:
        raise ValidationFailed("You must follow an account to add it to a list")
    present = set(await _members_among(tx.conn, list_id, wanted))
    fresh = sorted(wanted - present)
    total = await tx.conn.scalar(
        select(func.count()).select_from(list_accounts).where(list_accounts.c.list_id == list_id)
    )
    if (total or 0) + len(fresh) > MEMBERS_MOST:
        raise ValidationFailed(f"A list holds at most {MEMBERS_MOST} accounts")
    if fresh:
        rows = [
            {"id": ctx.ids.next_id(), "list_id": list_id, "account_id": a, "created_at": now()}
            for a in fresh
        ]
        await tx.conn.execute(insert(list_accounts), rows)


async def remove_members(tx: Tx, owner_id: int, list_id: int, account_ids: list[int]) -> None:
    """Remove accounts from a list; one not in it is ignored."""
    await get(tx.conn, owner_id, list_id)
    await tx.conn.execute(
        delete(list_accounts).where(
            list_accounts.c.list_id == list_id, list_accounts.c.account_id.in_(account_ids)
        )
    )


async def _members_among(conn: AsyncConnection, list_id: int, ids: set[int]) -> list[int]:
    found = await conn.scalars(
        select(list_accounts.c.account_id).where(
            list_accounts.c.list_id == list_id, list_accounts.c.account_id.in_(ids)
        )
    )
    return list(found)


async def members(
    conn: AsyncConnection, owner_id: int, list_id: int, window: Page
) -> list[tuple[int, int]]:
    """A page of a list's members, newest addition first, as (membership id, account id)."""
    await get(conn, owner_id, list_id)
    key = list_accounts.c.id
    query = select(key, list_accounts.c.account_id).where(list_accounts.c.list_id == list_id)
    if window.max_id is not None:
        query = query.where(key < window.max_id)
    if window.lower is not None:
        query = query.where(key > window.lower)
    if window.forward:
        found = await conn.execute(query.order_by(key).limit(window.limit))
        return [(r[0], r[1]) for r in found][::-1]
    found = await conn.execute(query.order_by(key.desc()).limit(window.limit))
    return [(r[0], r[1]) for r in found]


async def containing(conn: AsyncConnection, owner_id: int, account_id: int) -> list[AccountList]:
    """The owner's lists that hold an account (``/api/v1/accounts/:id/lists``)."""
    found = await conn.execute(
        select(lists)
        .join(list_accounts, list_accounts.c.list_id == lists.c.id)
        .where(lists.c.account_id == owner_id, list_accounts.c.account_id == account_id)
        .order_by(lists.c.id)
    )
    return [_of(row) for row in found.mappings()]


# The list timeline: members' posts (and reposts) the owner may see, hidden accounts left out
# (the members themselves, and a repost's original author), replies kept as the policy says.
_OWNER: BindParameter = bindparam("owner")
_LIST: BindParameter = bindparam("list")
_MEMBERS = select(list_accounts.c.account_id).where(list_accounts.c.list_id == _LIST)
_HIDDEN = union_all(*social.hiding(_OWNER))
_ORIGINAL = statuses.alias("original")
_FOLLOWED = select(follows.c.target_account_id).where(
    follows.c.account_id == _OWNER, follows.c.state == "accepted"
)


def _replies(policy: str) -> ColumnElement[bool]:
    """Which posts a policy keeps: not replies, replies to oneself or to the owner (always, as
    in Mastodon), and replies to the followed (``followed``) or to members (``list``)."""
    to = statuses.c.in_reply_to_account_id
    kept = [to.is_(None), to == statuses.c.account_id, to == _OWNER]
    if policy == "followed":
        kept.append(to.in_(_FOLLOWED))
    elif policy == "list":
        kept.append(to.in_(_MEMBERS))
    return or_(*kept)


def _timeline(policy: str) -> Windowed:
    hidden_original = exists(
        select(_ORIGINAL.c.id).where(
            _ORIGINAL.c.id == statuses.c.reblog_of_id, _ORIGINAL.c.account_id.in_(_HIDDEN)
        )
    )
    query = select(statuses.c.id).where(
        statuses.c.account_id.in_(_MEMBERS),
        statuses.c.account_id.not_in(_HIDDEN),
        statuses.c.visibility != "direct",
        _replies(policy),
        ~hidden_original,
    )
    return Windowed(query, statuses.c.id)


TIMELINES = {policy: _timeline(policy) for policy in REPLIES_POLICIES}


async def timeline(conn: AsyncConnection, owner_id: int, list_id: int, window: Page) -> list[int]:
    """A page of a list's timeline, newest first (the visibility rule runs again at render)."""
    found = await get(conn, owner_id, list_id)
    return await TIMELINES[found.replies_policy].ids(conn, window, owner=owner_id, list=list_id)


async def channels_of_post(conn: AsyncConnection, row: RowMapping) -> list[str]:
    """The ``list:<id>`` streams a new post goes to: lists holding its author whose replies
    policy keeps it (direct posts go to none)."""
    if row["visibility"] == "direct":
        return []
    found = await conn.execute(
        select(lists.c.id, lists.c.account_id, lists.c.replies_policy)
        .join(list_accounts, list_accounts.c.list_id == lists.c.id)
        .where(list_accounts.c.account_id == row["account_id"])
    )
    return [
        f"list:{list_id}"
        for list_id, owner_id, policy in found.all()
        if await _keeps_reply(conn, row, list_id, owner_id, policy)
    ]


async def _keeps_reply(
    conn: AsyncConnection, row: RowMapping, list_id: int, owner_id: int, policy: str
) -> bool:
    """``_replies`` for one post and one list (the stream's side of the same rule)."""
    to = row["in_reply_to_account_id"]
    if to is None or to in (row["account_id"], owner_id):
        return True
    if policy == "followed":
        return await social.follows(conn, owner_id, to)
    if policy == "list":
        return bool(await _members_among(conn, list_id, {to}))
    return False


async def exclusive_owners(conn: AsyncConnection, author_id: int) -> set[int]:
    """Who keeps this author in an exclusive list: their posts leave those owners' home
    timelines, and so their user streams."""
    found = await conn.scalars(
        select(lists.c.account_id)
        .join(list_accounts, list_accounts.c.list_id == lists.c.id)
        .where(list_accounts.c.account_id == author_id, lists.c.exclusive)
    )
    return set(found)


async def channels_of_author(conn: AsyncConnection, author_id: int) -> list[str]:
    """Every list stream an author's posts may have reached (a deletion goes to them all)."""
    found = await conn.scalars(
        select(list_accounts.c.list_id).where(list_accounts.c.account_id == author_id)
    )
    return [f"list:{list_id}" for list_id in found]


async def owns(conn: AsyncConnection, owner_id: int, list_id: int) -> bool:
    """Whether a list is the owner's (streams check before they subscribe)."""
    found = await conn.scalar(
        select(lists.c.id).where(lists.c.id == list_id, lists.c.account_id == owner_id)
    )
    return found is not None
