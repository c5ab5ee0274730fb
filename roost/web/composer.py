"""The compose page and the pictures a draft holds: what ``/compose`` (posts.py) and
``/compose/media`` (attach.py) share.

A draft's pictures are uploads of the person's own, not attached yet (``roost.services.media``);
the page names them in its address (``/compose?media=1,2``) and its form carries them as hidden
``media_ids``, each with its alt text in ``description_<id>``, so nothing about a draft lives on
the server but the uploads themselves. The text typed so far rides in the session across the
redirect that follows an upload, when it is small enough for the cookie (else the page is drawn
in answer to the upload itself).
"""

from __future__ import annotations

import json

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import NotFound, RoostError, ValidationFailed
from roost.domain.ids import parse_id
from roost.present import media as present
from roost.present.entities import statuses_by_id
from roost.services import media
from roost.services import posts as post_service
from roost.services.context import Conn, Context, Tx
from roost.web.render import html
from roost.web.session import field

DRAFT_FIELDS = ("text", "spoiler_text", "visibility", "in_reply_to_id", "next")
DRAFT_BYTES = 1500  # a session cookie holds about 4 KB, and base64 makes this 2 KB
NOT_FOUND = "One of the pictures was not found. Attach it again."


def media_ids(form: FormData) -> list[int]:
    """The draft's pictures, in order; junk is refused rather than ignored."""
    sent = [str(v) for v in form.getlist("media_ids")][: media.MOST_ATTACHED + 1]
    ids = [parse_id(v) for v in sent if v]
    if any(i is None for i in ids):
        raise ValidationFailed(NOT_FOUND)
    return [i for i in ids if i is not None]


def descriptions(form: FormData, ids: list[int]) -> dict[int, str]:
    return {i: field(form, f"description_{i}", 5000) for i in ids if f"description_{i}" in form}


async def describe(tx: Tx, account_id: int, described: dict[int, str]) -> None:
    """Keep the alt text typed beside each picture (someone else's picture is not found)."""
    for media_id, text in described.items():
        try:
            await media.describe(tx, account_id, media_id, text, None)
        except NotFound:
            raise ValidationFailed(NOT_FOUND) from None


async def pending(ctx: Context, conn: Conn, account_id: int, ids: list[int]) -> list[dict]:
    """The person's own unattached uploads among ``ids``, as the page shows them; others (gone,
    attached, not theirs) are left out quietly: an address is no proof of anything."""
    shown = []
    for media_id in dict.fromkeys(ids[: media.MOST_ATTACHED]):
        try:
            row = await media.own(conn, account_id, media_id)
        except NotFound:
            continue
        if row["status_id"] is None and row["state"] != media.FAILED:
            shown.append({**present.upload(ctx, row), "ready": row["state"] == media.READY})
    return shown


def address(values: dict, ids: list[int]) -> str:
    """The compose page holding ``ids`` (and the post replied to)."""
    query = []
    if reply := values.get("in_reply_to_id"):
        query.append(f"in_reply_to={parse_id(reply) or ''}")
    if ids:
        query.append("media=" + ",".join(str(i) for i in ids))
    return "/compose" + ("?" + "&".join(query) if query else "")


def wanted(request: Request) -> list[int]:
    """The pictures the address names (``?media=1,2``)."""
    raw = request.query_params.get("media", "").split(",")[: media.MOST_ATTACHED]
    return [i for i in (parse_id(v) for v in raw) if i is not None]


def keep_draft(request: Request, values: dict) -> bool:
    """Put the text typed so far in the session for the next page; False if it is too large."""
    draft = {k: values[k] for k in DRAFT_FIELDS if values.get(k)}
    if len(json.dumps(draft)) > DRAFT_BYTES:  # as the cookie holds it: "\\u" and 4 hex digits
        return False
    request.session["draft"] = draft
    return True


def take_draft(request: Request) -> dict:
    draft = request.session.pop("draft", None)
    return draft if isinstance(draft, dict) else {}


async def reply_target(ctx: Context, conn: Conn, reply_id: int | None, me_id: int) -> dict | None:
    if reply_id is None:
        return None
    await post_service.get_visible(conn, reply_id, me_id)
    found = await statuses_by_id(ctx, conn, [reply_id], me_id)
    return found[0] if found else None


def page(
    request: Request,
    values: dict,
    errors: dict,
    reply_to: dict | None,
    pictures: list[dict] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "title": "Reply" if reply_to else "New post",
        "values": values,
        "errors": errors,
        "reply_to": reply_to,
        "pending": pictures or [],
        "next": values.get("next") or "/home",
        "here": "/compose",
    }
    return html(request, "compose.html", context, status=status)


def refusal(exc: RoostError) -> tuple[int, str]:
    """What a refused picture says, and its status (not a picture, a bomb, too large...)."""
    message = exc.message.removeprefix("Validation failed: ")
    if message.startswith("File "):
        message = "That file " + message.removeprefix("File ")
    message = message[:1].upper() + message[1:]
    if not message.endswith((".", "!")):
        message += "."
    return (exc.status if 400 <= exc.status < 500 else 422), message
