"""Posts: write, delete, read with permission, threads, favourites, reblogs, bookmarks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import posts as rules
from roost.domain import text
from roost.domain.errors import Forbidden, Invalid, NotFound, ValidationFailed
from roost.domain.fanout import FanoutState
from roost.domain.ids import id_time
from roost.domain.polls import Draft, ends_at
from roost.services import (
    cards,
    conversations,
    media,
    notifications,
    preferences,
    social,
    tag_weeks,
    tallies,
)
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.hot import Hot
from roost.store.tables import (
    accounts,
    bookmarks,
    favourites,
    idempotency_keys,
    mentions,
    status_edits,
    status_tags,
    statuses,
    tags,
)


async def create(
    ctx: Context,
    tx: Tx,
    author: RowMapping,
    body: str,
    *,
    in_reply_to_id: int | None = None,
    visibility: str | None = None,
    spoiler_text: str | None = None,
    sensitive: bool | None = None,
    language: str | None = None,
    idempotency_key: str | None = None,
    application_id: int | None = None,
    poll: Draft | None = None,
    media_ids: list[int] | None = None,
) -> int:
    """Store a post durably (with its ``poll`` or its pictures, ``media_ids``, if any) and
    queue its fan-out; returns the new (or idempotent) status id. Visibility, sensitivity and
    language not given are the author's defaults (``roost.services.preferences``)."""
    if idempotency_key:
        existing = await _idempotent(tx.conn, author["id"], idempotency_key)
        if existing is not None:
            return existing
    if media_ids and poll is not None:
        raise ValidationFailed("a post cannot have both pictures and a poll")
    written = await _written(ctx, tx.conn, body, blank=bool(media_ids))
    if not visibility or sensitive is None or language is None:  # the author's defaults
        defaults = await preferences.of(tx.conn, author["id"])
        visibility = visibility or defaults.privacy
        sensitive = defaults.sensitive if sensitive is None else sensitive
        language = defaults.language if language is None else language
    chosen = rules.check_visibility(visibility)
    spoiler = rules.check_spoiler(spoiler_text)
    lang = rules.check_language(language)
    parent = await _reply_target(tx.conn, author["id"], in_reply_to_id)
    mentioned = written.mentioned
    status_id = ctx.ids.next_id()
    moment = id_time(status_id)  # the id's own instant, so ids and times always agree
    await tx.conn.execute(
        insert(statuses).values(
            id=status_id,
            account_id=author["id"],
            text=written.body,
            spoiler_text=spoiler,
            content_html=written.html,
            visibility=chosen.value,
            sensitive=sensitive or bool(spoiler),
            language=lang,
            in_reply_to_id=parent["id"] if parent else None,
            in_reply_to_account_id=parent["account_id"] if parent else None,
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            poll_votes_count=None if poll is None else 0,
            fanout_state=FanoutState.PENDING.value,
            application_id=application_id,
            created_at=moment,
        )
    )
    if poll is not None:
        await tallies.attach(tx, status_id, poll, ends_at(moment, poll))
    if media_ids:
        shown = await media.attach(tx, author["id"], media_ids, status_id)
        await tx.conn.execute(
            update(statuses).where(statuses.c.id == status_id).values(media_attachments=shown)
        )
    await _attach_tags(ctx, tx, status_id, written.tags, new_public=chosen.value == "public")
    parent_id, direct = parent["id"] if parent else None, chosen.value == "direct"
    people = list(mentioned.values())
    await conversations.record(ctx, tx, status_id, author["id"], parent_id, direct, people)
    await _attach_mentions(ctx, tx, author, status_id, mentioned, parent)
    await _count_post(tx.conn, author["id"], parent, moment, +1)
    if idempotency_key:
        await tx.conn.execute(
            insert(idempotency_keys).values(
                account_id=author["id"],
                key=idempotency_key[:128],
                status_id=status_id,
                created_at=moment,
            )
        )
    tx.after_commit(lambda: ctx.fanout.enqueue(status_id))
    cards.follow_link(ctx, tx, status_id, written.body)
    return status_id


@dataclass
class _Written:
    """A post's text as checked, parsed and rendered, the same for a new post and an edit."""

    body: str
    tags: list[str]
    mentioned: dict[str, int]  # local username -> account id
    html: str


async def _written(ctx: Context, conn: AsyncConnection, raw: str, blank: bool = False) -> _Written:
    body = rules.check_text(raw, ctx.settings.max_post_chars, blank)
    parsed = text.parse(body)
    mentioned = await _local_accounts(conn, parsed.mentions)
    html = text.render(body, ctx.base_url, set(mentioned))
    return _Written(body, parsed.tags, mentioned, html)


async def _idempotent(conn: AsyncConnection, account_id: int, key: str) -> int | None:
    return await conn.scalar(
        select(idempotency_keys.c.status_id).where(
            idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key[:128]
        )
    )


async def _reply_target(conn: AsyncConnection, viewer_id: int, parent_id: int | None):
    if parent_id is None:
        return None
    parent = await get_visible(conn, parent_id, viewer_id)
    if parent["reblog_of_id"] is not None:
        return await get_visible(conn, parent["reblog_of_id"], viewer_id)
    return parent


async def _local_accounts(conn: AsyncConnection, usernames: list[str]) -> dict[str, int]:
    if not usernames:
        return {}
    result = await conn.execute(
        select(accounts.c.username, accounts.c.id).where(
            accounts.c.username.in_(usernames), accounts.c.suspended_at.is_(None)
        )
    )
    return {row.username: row.id for row in result}


async def _attach_tags(
    ctx: Context, tx: Tx, status_id: int, names: list[str], new_public: bool = False
):
    """The post's tags (made if new); a new public post is one more use of each today."""
    used = []
    for name in names[:20]:
        tag_id = await tx.conn.scalar(select(tags.c.id).where(tags.c.name == name))
        if tag_id is None:
            tag_id = ctx.ids.next_id()
            await tx.conn.execute(insert(tags).values(id=tag_id, name=name, created_at=now()))
        await tx.conn.execute(insert(status_tags).values(status_id=status_id, tag_id=tag_id))
        used.append(tag_id)
    if new_public:
        tx.after_commit(lambda: tag_weeks.used(ctx, used))  # their weeks count it at once


async def _attach_mentions(ctx, tx: Tx, author, status_id: int, mentioned: dict, parent) -> None:
    targets = dict.fromkeys(mentioned.values())
    if parent is not None and parent["account_id"] != author["id"]:
        targets[parent["account_id"]] = None  # a reply notifies its parent's author
    for account_id in targets:
        if account_id in mentioned.values():
            await tx.conn.execute(
                insert(mentions).values(status_id=status_id, account_id=account_id)
            )
        if account_id != author["id"]:
            await notifications.notify(ctx, tx, account_id, author["id"], "mention", status_id)


async def _count_post(conn: AsyncConnection, author_id: int, parent, moment, step: int) -> None:
    values = {"statuses_count": accounts.c.statuses_count + step}
    if step > 0:
        values["last_status_at"] = moment
    await conn.execute(update(accounts).where(accounts.c.id == author_id).values(values))
    if parent is not None:
        await conn.execute(
            update(statuses)
            .where(statuses.c.id == parent["id"])
            .values(replies_count=statuses.c.replies_count + step)
        )


STATUS_BY_ID = Hot(select(statuses).where(statuses.c.id == bindparam("id")))
SUSPENDED_AMONG = Hot(
    select(accounts.c.id).where(
        accounts.c.id.in_(bindparam("ids", expanding=True)), accounts.c.suspended_at.is_not(None)
    )
)


async def get_row(conn: AsyncConnection, status_id: int) -> RowMapping:
    found = await STATUS_BY_ID.mappings(conn, {"id": status_id})
    if not found:
        raise NotFound("Record")
    return found[0]


async def get_visible(conn: AsyncConnection, status_id: int, viewer_id: int | None) -> RowMapping:
    """A status the viewer may see; 404 otherwise, as Mastodon hides what you may not read."""
    row = await get_row(conn, status_id)
    if not await can_see(conn, row, viewer_id):
        raise NotFound("Record")
    return row


async def can_see(conn: AsyncConnection, row: RowMapping, viewer_id: int | None) -> bool:
    return bool(await visible_subset(conn, [row], viewer_id))


_MENTIONING_VIEWER = Hot(
    select(mentions.c.status_id).where(
        mentions.c.status_id.in_(bindparam("ids", expanding=True)),
        mentions.c.account_id == bindparam("viewer"),
    )
)


async def visible_subset(
    conn: AsyncConnection,
    rows: list[RowMapping],
    viewer_id: int | None,
    live_authors: set[int] | None = None,
) -> list[RowMapping]:
    """The rows a viewer may see, in order; at most three queries for any number of rows, and
    one on a page of public posts. ``live_authors``: the authors already known not suspended
    (the renderer has loaded them), which saves asking again."""
    if not rows:
        return []
    authors = {r["account_id"] for r in rows}
    if live_authors is None:
        gone = set(await SUSPENDED_AMONG.scalars(conn, {"ids": authors}))
    else:
        gone = authors - live_authors
    blocked: set[int] = set()
    followed: set[int] = set()
    mentioned: set[int] = set()
    if viewer_id is not None:
        restricted = [r["id"] for r in rows if r["visibility"] in ("private", "direct")]
        blocked, followed = await social.standing_among(
            conn, viewer_id, authors - gone, with_follows=bool(restricted)
        )
        if restricted:
            asked = {"ids": restricted, "viewer": viewer_id}
            mentioned = set(await _MENTIONING_VIEWER.scalars(conn, asked))
    return [
        r
        for r in rows
        if r["account_id"] not in gone
        and (r["account_id"] == viewer_id or r["account_id"] not in blocked)
        and rules.visible_to(
            r["visibility"],
            r["account_id"],
            viewer_id,
            r["account_id"] in followed,
            r["id"] in mentioned,
        )
    ]


async def delete_status(ctx: Context, tx: Tx, status_id: int, actor_id: int) -> RowMapping:
    """Delete one's own post: 404 for a post the actor may not see (a 403 would say it exists),
    403 for one they see but did not write."""
    row = await get_visible(tx.conn, status_id, actor_id)
    if row["account_id"] != actor_id:
        raise Forbidden("This action is not allowed")
    reblog_ids = list(
        (
            await tx.conn.execute(select(statuses.c.id).where(statuses.c.reblog_of_id == status_id))
        ).scalars()
    )
    parent = None
    if row["in_reply_to_id"] is not None:
        parent = (
            (await tx.conn.execute(select(statuses).where(statuses.c.id == row["in_reply_to_id"])))
            .mappings()
            .first()
        )
    if row["reblog_of_id"] is not None:
        await tx.conn.execute(
            update(statuses)
            .where(statuses.c.id == row["reblog_of_id"])
            .values(reblogs_count=statuses.c.reblogs_count - 1)
        )
    fans = await ctx.fanout.tag_followers(tx.conn, row) if ctx.fanout is not None else []
    await media.let_go(tx, status_id)  # kept a while: "delete and redraft" attaches them again
    await tx.conn.execute(delete(statuses).where(statuses.c.id.in_([status_id, *reblog_ids])))
    await _count_post(tx.conn, actor_id, parent, now(), -1)
    tx.after_commit(lambda: ctx.fanout.retract(row, [status_id, *reblog_ids], fans))
    return row


async def edit(
    ctx: Context,
    tx: Tx,
    status_id: int,
    actor_id: int,
    body: str,
    *,
    spoiler_text: str | None = None,
    sensitive: bool = False,
    language: str | None = None,
    media_ids: list[int] | None = None,
    media_attributes: dict[int, dict] | None = None,
) -> int:
    """Edit a post as Mastodon 4 does: the same checks and rendering as a new post, its tags and
    mentions made again, ``edited_at`` set, and each revision kept (the original on first edit).

    As in Mastodon, an edit sends the whole post: a missing spoiler clears it, a missing
    language keeps the old one. Feeds hold ids, so they need nothing; live streams get
    ``status.update`` once committed. ``media_ids`` None keeps the pictures; a list makes
    them those (new uploads, or ones it has), with ``media_attributes`` changing alt text.
    """
    row = await get_visible(tx.conn, status_id, actor_id)
    if row["account_id"] != actor_id:
        raise Forbidden("This action is not allowed")
    if row["reblog_of_id"] is not None:
        raise Invalid("status", "is a reblog, which cannot be edited")
    keeps = media_ids is None and bool(row["media_attachments"])
    written = await _written(ctx, tx.conn, body, blank=keeps or bool(media_ids))
    spoiler = rules.check_spoiler(spoiler_text)
    lang = rules.check_language(language) or row["language"]
    revised = {
        "text": written.body,
        "spoiler_text": spoiler,
        "sensitive": sensitive or bool(spoiler),
        "content_html": written.html,
    }
    if media_ids is not None or media_attributes:
        kept = media_ids if media_ids is not None else media.attached_ids(row)
        if kept and row["poll_votes_count"] is not None:
            raise ValidationFailed("a post cannot have both pictures and a poll")
        revised["media_attachments"] = await media.attach(
            tx, actor_id, kept, status_id, media_attributes
        )
    moment = now()
    await _keep_original(ctx, tx.conn, row)
    changes = {**revised, "language": lang, "edited_at": moment}
    if cards.relinked(ctx, row["text"], written.body):  # the old card goes; the new one comes
        changes["card_id"] = None
        cards.follow_link(ctx, tx, status_id, written.body)
    await tx.conn.execute(update(statuses).where(statuses.c.id == status_id).values(changes))
    await _keep_revision(
        ctx, tx.conn, {"id": status_id, **revised}, moment, row["media_attachments"]
    )
    await tx.conn.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
    await _attach_tags(ctx, tx, status_id, written.tags)
    await _mention_again(ctx, tx, row, written.mentioned)
    await _notify_rebloggers(ctx, tx, row)
    tx.after_commit(lambda: ctx.fanout.announce_edit(status_id))
    return status_id


async def _keep_original(ctx: Context, conn: AsyncConnection, row: RowMapping) -> None:
    """Before the first edit (``edited_at`` still empty), the post as written is revision one."""
    if row["edited_at"] is None:
        await _keep_revision(ctx, conn, row, row["created_at"])


async def _keep_revision(ctx: Context, conn: AsyncConnection, values, moment, media=None) -> None:
    """One revision as it was shown, its pictures (``media``: the post's, unless changed)."""
    await conn.execute(
        insert(status_edits).values(
            id=ctx.ids.next_id(),
            status_id=values["id"],
            text=values["text"],
            spoiler_text=values["spoiler_text"],
            sensitive=values["sensitive"],
            content_html=values["content_html"],
            media_attachments=values.get("media_attachments", media),
            created_at=moment,
        )
    )


async def _mention_again(ctx: Context, tx: Tx, row: RowMapping, mentioned: dict[str, int]) -> None:
    """Mentions follow the new text; only people newly mentioned are notified (Mastodon's way)."""
    status_id, now_mentioned = row["id"], set(mentioned.values())
    before = set(
        await tx.conn.scalars(
            select(mentions.c.account_id).where(mentions.c.status_id == status_id)
        )
    )
    if before - now_mentioned:
        await tx.conn.execute(
            delete(mentions).where(
                mentions.c.status_id == status_id, mentions.c.account_id.in_(before - now_mentioned)
            )
        )
    added = {name: i for name, i in mentioned.items() if i not in before}
    await _attach_mentions(ctx, tx, {"id": row["account_id"]}, status_id, added, None)


async def _notify_rebloggers(ctx: Context, tx: Tx, row: RowMapping) -> None:
    """Who reposted a post is told it changed (an ``update`` notification, as in Mastodon)."""
    rebloggers = await tx.conn.scalars(
        select(statuses.c.account_id).where(statuses.c.reblog_of_id == row["id"]).distinct()
    )
    for account_id in list(rebloggers):
        if account_id != row["account_id"]:
            await notifications.notify(ctx, tx, account_id, row["account_id"], "update", row["id"])


async def history(
    conn: AsyncConnection, status_id: int, viewer_id: int | None
) -> tuple[RowMapping, list]:
    """A visible status and its revisions, oldest first; one (the post as it is) if never edited."""
    row = await get_visible(conn, status_id, viewer_id)
    result = await conn.execute(
        select(status_edits)
        .where(status_edits.c.status_id == status_id)
        .order_by(status_edits.c.id)
    )
    revisions = list(result.mappings())
    if not revisions:
        revisions = [{**row, "created_at": row["edited_at"] or row["created_at"]}]  # type: ignore[list-item]
    return row, revisions


async def source(conn: AsyncConnection, status_id: int, viewer_id: int | None) -> RowMapping:
    """The raw text of a post, for its author's edit form."""
    row = await get_visible(conn, status_id, viewer_id)
    if row["account_id"] != viewer_id:
        raise Forbidden("This action is not allowed")
    return row


async def favourite(ctx: Context, tx: Tx, viewer_id: int, status_id: int) -> None:
    row = await _original(tx.conn, status_id, viewer_id)
    if await _pair_exists(tx.conn, favourites, viewer_id, row["id"]):
        return
    await tx.conn.execute(
        insert(favourites).values(
            id=ctx.ids.next_id(), account_id=viewer_id, status_id=row["id"], created_at=now()
        )
    )
    await _bump(tx.conn, row["id"], "favourites_count", +1)
    if row["account_id"] != viewer_id:
        await notifications.notify(ctx, tx, row["account_id"], viewer_id, "favourite", row["id"])


async def unfavourite(tx: Tx, viewer_id: int, status_id: int) -> None:
    row = await _original(tx.conn, status_id, viewer_id)
    result = await tx.conn.execute(
        delete(favourites).where(
            favourites.c.account_id == viewer_id, favourites.c.status_id == row["id"]
        )
    )
    if result.rowcount:
        await _bump(tx.conn, row["id"], "favourites_count", -1)


async def reblog(ctx: Context, tx: Tx, viewer: RowMapping, status_id: int, visibility=None) -> int:
    """Repost; returns the reblog's own status id (existing one if already reblogged)."""
    row = await _original(tx.conn, status_id, viewer["id"])
    if row["visibility"] not in ("public", "unlisted") and row["account_id"] != viewer["id"]:
        raise Forbidden("This action is not allowed")
    if row["visibility"] not in ("public", "unlisted"):
        visibility = row["visibility"]  # one's own private post stays private (as Mastodon)
    existing = await tx.conn.scalar(
        select(statuses.c.id).where(
            statuses.c.account_id == viewer["id"], statuses.c.reblog_of_id == row["id"]
        )
    )
    if existing is not None:
        return existing
    reblog_id = ctx.ids.next_id()
    await tx.conn.execute(
        insert(statuses).values(
            id=reblog_id,
            account_id=viewer["id"],
            text="",
            content_html="",
            spoiler_text="",
            visibility=rules.check_visibility(visibility).value,
            sensitive=False,
            reblog_of_id=row["id"],
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            fanout_state=FanoutState.PENDING.value,
            created_at=now(),
        )
    )
    await _bump(tx.conn, row["id"], "reblogs_count", +1)
    await tx.conn.execute(
        update(accounts)
        .where(accounts.c.id == viewer["id"])
        .values(statuses_count=accounts.c.statuses_count + 1)
    )
    if row["account_id"] != viewer["id"]:
        await notifications.notify(ctx, tx, row["account_id"], viewer["id"], "reblog", row["id"])
    tx.after_commit(lambda: ctx.fanout.enqueue(reblog_id))
    return reblog_id


async def unreblog(ctx: Context, tx: Tx, viewer_id: int, status_id: int) -> int:
    row = await _original(tx.conn, status_id, viewer_id)
    reblog_id = await tx.conn.scalar(
        select(statuses.c.id).where(
            statuses.c.account_id == viewer_id, statuses.c.reblog_of_id == row["id"]
        )
    )
    if reblog_id is not None:
        await delete_status(ctx, tx, reblog_id, viewer_id)
    return row["id"]


async def bookmark(ctx: Context, tx: Tx, viewer_id: int, status_id: int, on: bool) -> int:
    row = await _original(tx.conn, status_id, viewer_id)
    present = await _pair_exists(tx.conn, bookmarks, viewer_id, row["id"])
    if on and not present:
        await tx.conn.execute(
            insert(bookmarks).values(
                id=ctx.ids.next_id(), account_id=viewer_id, status_id=row["id"], created_at=now()
            )
        )
    elif not on and present:
        await tx.conn.execute(
            delete(bookmarks).where(
                bookmarks.c.account_id == viewer_id, bookmarks.c.status_id == row["id"]
            )
        )
    return row["id"]


async def _original(conn: AsyncConnection, status_id: int, viewer_id: int) -> RowMapping:
    row = await get_visible(conn, status_id, viewer_id)
    if row["reblog_of_id"] is not None:
        return await get_visible(conn, row["reblog_of_id"], viewer_id)
    return row


async def _pair_exists(conn: AsyncConnection, table, account_id: int, status_id: int) -> bool:
    return bool(
        await conn.scalar(
            select(table.c.id).where(
                and_(table.c.account_id == account_id, table.c.status_id == status_id)
            )
        )
    )


async def _bump(conn: AsyncConnection, status_id: int, column: str, step: int) -> None:
    await conn.execute(
        update(statuses)
        .where(statuses.c.id == status_id)
        .values({column: getattr(statuses.c, column) + step})
    )


async def pending_fanout(conn: AsyncConnection) -> list[int]:
    result = await conn.execute(
        select(statuses.c.id)
        .where(statuses.c.fanout_state == FanoutState.PENDING.value)
        .order_by(statuses.c.id)
    )
    return list(result.scalars())


def visible_filter(viewer_id: int | None):
    """SQL condition for statuses a viewer can list in a timeline (public or own)."""
    condition: ColumnElement[bool] = statuses.c.visibility.in_(["public", "unlisted"])
    if viewer_id is not None:
        condition = or_(condition, statuses.c.account_id == viewer_id)
    return condition
