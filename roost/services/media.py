"""Pictures people upload: taken, processed, attached to posts, and let go.

The request path does only what is cheap: the size, a look at the first bytes (a picture, or a
clear 422), the upload kept as sent, and a row ``processing``. Decoding, the checks that need
the pixels (bombs, polyglots), cleaning (orientation applied, every metadata field dropped),
resizing and the blurhash are a job's (``roost.services.media_jobs``), so an upload flood costs
the workers' bounded time and never the request loop's. A post shows its pictures from its own
row (``statuses.media_attachments``, written when they are attached): timelines ask nothing more.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from roost.domain import images
from roost.domain.errors import Invalid, NotFound, RoostError, ValidationFailed
from roost.services import accounts
from roost.services.context import Conn, Context, Tx, now
from roost.store.media_files import new_key
from roost.store.tables import media_attachments

log = logging.getLogger(__name__)

ACCEPTED = ("image/jpeg", "image/png", "image/webp", "image/gif")
MOST_ATTACHED = 4  # Mastodon's four pictures a post
MOST_DESCRIPTION = 1500  # Mastodon's longest alt text
READY, PROCESSING, FAILED = "ready", "processing", "failed"


class TooLarge(RoostError):
    status = 413


def limits(ctx: Context) -> images.Limits:
    media = ctx.settings.media
    return images.Limits(
        max_bytes=media.max_image_bytes, max_pixels=media.max_pixels, max_frames=media.max_frames
    )


def check_size(ctx: Context, data: bytes) -> None:
    if not data:
        raise Invalid("file", "is empty")
    if len(data) > ctx.settings.media.max_image_bytes:
        raise TooLarge(f"File is larger than {ctx.settings.media.max_image_bytes} bytes")


async def receive(ctx: Context, data: bytes) -> tuple[str, str]:
    """Keep an upload as sent, after the cheap checks: (its key, the type its bytes say)."""
    check_size(ctx, data)
    kind = images.sniff(data)
    key = new_key("incoming", "bin")
    await ctx.media_files.put(key, data, kind)
    return key, kind


async def upload(
    ctx: Context,
    tx: Tx,
    account_id: int,
    incoming: str,
    size: int,
    description: str | None = None,
    focus: str | None = None,
) -> int:
    """The row of an upload ``receive`` kept, its processing queued once committed."""
    await accounts.hold(tx, account_id)  # counted under the account's lock: no race past it
    held = await tx.conn.scalar(
        select(func.count())
        .select_from(media_attachments)
        .where(
            media_attachments.c.account_id == account_id,
            media_attachments.c.status_id.is_(None),
            media_attachments.c.state != FAILED,
        )
    )
    if (held or 0) >= ctx.settings.media.max_unattached:
        raise ValidationFailed(
            f"you hold {held} uploads not attached to a post; attach or delete some first"
        )
    await _within_daily_bytes(ctx, tx, account_id, size)
    media_id = ctx.ids.next_id()
    x, y = _focus(focus)
    await tx.conn.execute(
        insert(media_attachments).values(
            id=media_id,
            account_id=account_id,
            state=PROCESSING,
            kind="image",
            incoming_key=incoming,
            description=_description(description) or "",
            focus_x=x,
            focus_y=y,
            size=size,
            created_at=now(),
        )
    )
    tx.after_commit(lambda: ctx.media_jobs.enqueue(media_id))
    return media_id


async def _within_daily_bytes(ctx: Context, tx: Tx, account_id: int, size: int) -> None:
    """An account's uploads of the last 24 hours stay within ``ROOST_MEDIA_DAILY_BYTES``
    (counted under its row lock, with the uploads it has since attached or deleted with a
    post; ones it deleted itself are forgotten)."""
    most = ctx.settings.media.daily_bytes
    if not most:
        return
    sent = await tx.conn.scalar(
        select(func.coalesce(func.sum(media_attachments.c.size), 0)).where(
            media_attachments.c.account_id == account_id,
            media_attachments.c.created_at > now() - timedelta(days=1),
        )
    )
    if (sent or 0) + size > most:
        raise ValidationFailed(
            f"you have uploaded {(sent or 0) // 1_000_000} MB in the last 24 hours; "
            f"the limit is {most // 1_000_000} MB"
        )


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(c for c in value if c in "\n\t" or c.isprintable()).strip()
    if len(cleaned) > MOST_DESCRIPTION:
        raise Invalid("description", f"is too long (at most {MOST_DESCRIPTION} characters)")
    return cleaned


def _focus(value: str | None) -> tuple[float | None, float | None]:
    """Mastodon's focal point, "x,y" each within -1.0..1.0 (0,0 the centre)."""
    if value in (None, ""):
        return None, None
    try:
        x, y = (float(part) for part in str(value).split(","))
    except ValueError:
        raise Invalid("focus", "must be two numbers, x,y, each from -1.0 to 1.0") from None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        raise Invalid("focus", "must be two numbers, x,y, each from -1.0 to 1.0")
    return x, y


async def process(ctx: Context, media_id: int) -> None:
    """The job: decode, check, clean, resize; ready with its files, or failed with why."""
    async with ctx.db.read() as conn:
        row = await _row(conn, media_id)
    if row is None or row["state"] != PROCESSING or not row["incoming_key"]:
        return
    files = ctx.media_files
    try:
        data = await files.get(row["incoming_key"])
    except FileNotFoundError:
        await _fail(ctx, media_id, "The upload was lost before it was processed")
        return
    try:
        done = await ctx.media_jobs.crunch(images.process, data, limits(ctx))
    except Invalid as exc:
        await _fail(ctx, media_id, exc.message)
        await files.delete(row["incoming_key"])
        return
    original = new_key("original", done.original.extension)
    small = new_key("small", done.small.extension)
    await files.put(original, done.original.data, done.original.content_type)
    await files.put(small, done.small.data, done.small.content_type)
    meta = {"original": _size(done.original), "small": _size(done.small)}
    async with ctx.db.write(background=True) as tx:
        await tx.conn.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media_id)
            .values(
                state=READY,
                incoming_key=None,
                file_key=original,
                small_key=small,
                meta=orjson.dumps(meta).decode(),
                blurhash=done.blurhash,
                processed_at=now(),
            )
        )
    await files.delete(row["incoming_key"])


def _size(picture: images.Picture) -> dict[str, Any]:
    width, height = picture.width, picture.height
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": width / height if height else 1.0,
    }


async def _fail(ctx: Context, media_id: int, why: str) -> None:
    async with ctx.db.write(background=True) as tx:
        await tx.conn.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media_id)
            .values(state=FAILED, incoming_key=None, error=why[:300], processed_at=now())
        )


async def _row(conn: Conn, media_id: int) -> RowMapping | None:
    found = await conn.execute(select(media_attachments).where(media_attachments.c.id == media_id))
    return found.mappings().first()


async def own(conn: Conn, account_id: int, media_id: int) -> RowMapping:
    """One of the caller's uploads; anyone else's is not found."""
    row = await _row(conn, media_id)
    if row is None or row["account_id"] != account_id:
        raise NotFound()
    return row


async def describe(
    tx: Tx, account_id: int, media_id: int, description: str | None, focus: str | None
) -> RowMapping:
    """Change an unattached upload's alt text or focal point (an attached one is changed by
    editing its post, as on Mastodon)."""
    row = await own(tx.conn, account_id, media_id)
    if row["status_id"] is not None:
        raise NotFound()
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = _description(description)
    if focus is not None:
        changes["focus_x"], changes["focus_y"] = _focus(focus)
    if changes:
        await tx.conn.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(changes)
        )
    return await own(tx.conn, account_id, media_id)


async def remove(ctx: Context, tx: Tx, account_id: int, media_id: int) -> None:
    """Delete an unattached upload and its files (an attached one is a 422)."""
    row = await own(tx.conn, account_id, media_id)
    if row["status_id"] is not None:
        raise ValidationFailed("the media is attached to a post")
    await tx.conn.execute(delete(media_attachments).where(media_attachments.c.id == media_id))
    tx.after_commit(lambda: ctx.media_files.delete(*_keys(row)))


def _keys(row: RowMapping) -> list[str]:
    return [k for k in (row["incoming_key"], row["file_key"], row["small_key"]) if k]


async def attach(
    tx: Tx,
    account_id: int,
    media_ids: list[int],
    status_id: int,
    described: dict[int, dict] | None = None,
) -> str | None:
    """Attach ``media_ids`` (the caller's, processed, not attached elsewhere) to ``status_id``
    in that order, letting go of any it held before (an edit); ``described`` changes alt text
    and focus by id (an edit's ``media_attributes``). Returns what the post shows (JSON)."""
    if len(media_ids) > MOST_ATTACHED:
        raise ValidationFailed(f"a post has at most {MOST_ATTACHED} attachments")
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed("the same media is attached twice")
    rows = {}
    if media_ids:
        found = await tx.conn.execute(
            select(media_attachments).where(media_attachments.c.id.in_(media_ids))
        )
        rows = {r["id"]: r for r in found.mappings()}
    for media_id in media_ids:
        row = rows.get(media_id)
        if row is None or row["account_id"] != account_id:
            raise ValidationFailed(f"media {media_id} was not found")
        if row["status_id"] not in (None, status_id):
            raise ValidationFailed(f"media {media_id} is attached to another post")
        if row["state"] != READY:
            raise ValidationFailed(
                "Cannot attach files that have not finished processing. Try again in a moment!"
                if row["state"] == PROCESSING
                else f"media {media_id} could not be processed"
            )
    await _retire(tx, status_id, keep=media_ids)
    for position, media_id in enumerate(media_ids):
        changes: dict[str, Any] = {"status_id": status_id, "position": position}
        given = (described or {}).get(media_id, {})
        if given.get("description") is not None:
            changes["description"] = _description(given["description"])
        if given.get("focus") is not None:
            changes["focus_x"], changes["focus_y"] = _focus(given["focus"])
        await tx.conn.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(changes)
        )
    if not media_ids:
        return None
    found = await tx.conn.execute(
        select(media_attachments)
        .where(
            media_attachments.c.status_id == status_id, media_attachments.c.position.is_not(None)
        )
        .order_by(media_attachments.c.position)
    )
    return orjson.dumps([shown(row) for row in found.mappings()]).decode()


async def _retire(tx: Tx, status_id: int, keep: list[int]) -> None:
    """Take a post's pictures but ``keep`` off it (an edit): they stay its own, out of sight
    (no position), so its earlier revisions still show them; they go with the post."""
    condition = media_attachments.c.status_id == status_id
    if keep:
        condition = and_(condition, media_attachments.c.id.not_in(keep))
    await tx.conn.execute(update(media_attachments).where(condition).values(position=None))


def attached_ids(status: RowMapping) -> list[int]:
    """The ids of a post's pictures, in order, from its row."""
    raw = status["media_attachments"]
    return [int(item["id"]) for item in orjson.loads(raw)] if raw else []


async def let_go(tx: Tx, status_id: int) -> None:
    """Detach a deleted post's pictures: unattached again, their expiry starting now, so that
    "delete and redraft" may attach them to the new post."""
    await tx.conn.execute(
        update(media_attachments)
        .where(media_attachments.c.status_id == status_id)
        .values(status_id=None, position=None, created_at=now())
    )


def shown(row: RowMapping) -> dict[str, Any]:
    """What an attachment shows, without its URLs' base (``roost.present.media`` adds it)."""
    meta = orjson.loads(row["meta"]) if row["meta"] else {}
    if row["focus_x"] is not None:
        meta["focus"] = {"x": row["focus_x"], "y": row["focus_y"]}
    return {
        "id": str(row["id"]),
        "type": row["kind"],
        "file": row["file_key"],
        "small": row["small_key"],
        "meta": meta,
        "description": row["description"] or None,
        "blurhash": row["blurhash"],
    }


async def sweep(ctx: Context) -> int:
    """Remove uploads nobody attached within ``unattached_ttl`` (and failed ones), files
    first: a row never points at nothing. Returns how many went."""
    cutoff = now() - timedelta(seconds=ctx.settings.media.unattached_ttl)
    async with ctx.db.read() as conn:
        found = await conn.execute(
            select(media_attachments)
            .where(
                media_attachments.c.status_id.is_(None),
                media_attachments.c.created_at < cutoff,
                or_(
                    media_attachments.c.state != PROCESSING,
                    media_attachments.c.created_at < cutoff - timedelta(hours=1),
                ),
            )
            .limit(500)
        )
        rows = list(found.mappings())
    for row in rows:
        await ctx.media_files.delete(*_keys(row))
    if rows:
        async with ctx.db.write(background=True) as tx:
            await tx.conn.execute(
                delete(media_attachments).where(
                    media_attachments.c.id.in_([r["id"] for r in rows]),
                    media_attachments.c.status_id.is_(None),
                )
            )
    return len(rows)


async def unprocessed(conn: Conn) -> list[int]:
    """Uploads acknowledged but not processed yet (a restart resumes them)."""
    found = await conn.scalars(
        select(media_attachments.c.id).where(media_attachments.c.state == PROCESSING)
    )
    return list(found)


async def state_of(ctx: Context, media_id: int) -> str | None:
    async with ctx.db.read() as conn:
        return await conn.scalar(
            select(media_attachments.c.state).where(media_attachments.c.id == media_id)
        )


async def held_by(conn: Conn, account_id: int) -> list[RowMapping]:
    found = await conn.execute(
        select(media_attachments).where(
            media_attachments.c.account_id == account_id,
            media_attachments.c.status_id.is_(None),
        )
    )
    return list(found.mappings())
