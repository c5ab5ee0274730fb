"""People's avatars and headers: checked, cleaned and cropped like every picture (by the
picture workers' threads, before the profile's write begins), kept in the media files, and
the old ones removed once the new ones are committed."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update

from roost.domain import images
from roost.services import media
from roost.services.context import Context, Tx, now
from roost.store.media_files import new_key
from roost.store.tables import accounts

SIZES = {"avatar": (400, 400), "header": (1500, 500)}  # Mastodon's


async def make(ctx: Context, which: str, data: bytes) -> str:
    """A new ``which`` ("avatar" or "header") from an upload: its key in the media files."""
    media.check_size(ctx, data)
    images.sniff(data)
    width, height = SIZES[which]
    picture = await ctx.media_jobs.crunch(
        images.profile_picture, data, width, height, media.limits(ctx)
    )
    key = new_key(which, picture.extension)
    await ctx.media_files.put(key, picture.data, picture.content_type)
    return key


async def make_many(ctx: Context, sent: Mapping[str, bytes]) -> dict[str, str]:
    """``make`` for each of ``sent`` (which -> the upload), all or none: if one is refused,
    the files of those already made are removed before the refusal goes on."""
    made: dict[str, str] = {}
    try:
        for which, data in sent.items():
            made[which] = await make(ctx, which, data)
    except BaseException:
        await ctx.media_files.delete(*made.values())
        raise
    return made


async def change(ctx: Context, tx: Tx, account_id: int, keys: Mapping[str, str | None]) -> None:
    """Set the account's ``avatar``/``header`` to new keys (None: back to the default), and
    remove the files they replace once committed."""
    if not keys:
        return
    columns = {f"{which}_key": key for which, key in keys.items()}
    found = await tx.conn.execute(
        select(*(accounts.c[c] for c in columns)).where(accounts.c.id == account_id)
    )
    old = [k for k in found.one() if k]
    await tx.conn.execute(
        update(accounts).where(accounts.c.id == account_id).values({**columns, "updated_at": now()})
    )
    if old:
        tx.after_commit(lambda: ctx.media_files.delete(*old))
