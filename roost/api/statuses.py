"""Status endpoints: post, read, edit, delete, thread, favourite, reblog, bookmark, lists."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, IfToken, endpoint
from roost.api.http import ApiError, Json, link_header, path_id
from roost.api.params import Flag, Id, Ids, Nested, Paging, Records, Text, Whole, Words
from roost.domain.polls import Draft, check_draft
from roost.present import entities
from roost.services import accounts as account_service
from roost.services import pins, posts, relations, threads


async def _one(call: Call, status_id: int) -> dict:
    conn = call.writing.conn if call.writing else call.conn
    shared = call.writing is None  # a row read inside a write may yet be rolled back
    found = await entities.statuses_by_id(
        call.ctx, conn, [status_id], call.viewer_id, shared=shared
    )
    if not found:
        raise ApiError(404, "Record not found")
    return found[0]


VISIBILITIES = ("public", "unlisted", "private", "direct")
WORDING = {"status": Text(required=True), "spoiler_text": Text(), "sensitive": Flag(),
           "language": Text()}  # fmt: skip


POLL = {
    "options": Words(),
    "expires_in": Whole(),
    "multiple": Flag(),
    "hide_totals": Flag(),
}


MEDIA_ATTRIBUTES = Records(fields={"id": Id(), "description": Text(), "focus": Text()}, most=4)


def _content(call: Call, poll: bool = False) -> tuple[str, dict]:
    """What a new post and an edit both send: the text, and its warning, sensitivity and
    language. A poll on an edit is refused: Mastodon resets the votes when an edit changes
    the options, which Roost does not do yet."""
    if not poll and any(key == "poll" or key.startswith("poll[") for key in call.params):
        raise ApiError(422, "Validation failed: a poll cannot be added or changed by an edit")
    a = call.args
    wording = {k: a[k] for k in ("spoiler_text", "sensitive", "language")}
    return a["status"] or "", wording


@endpoint(
    "write:statuses",
    write=True,
    body={
        **WORDING,
        "sensitive": Flag(None),  # absent: the author's default
        "in_reply_to_id": Id(),
        "visibility": Text(listed=VISIBILITIES),
        "poll": Nested(fields=POLL),
        "media_ids": Ids(most=5),
        "status": Text(),  # none at all for a post of pictures alone
    },
)
async def create(call: Call) -> dict:
    body, wording = _content(call, poll=True)
    status_id = await posts.create(
        call.ctx,
        call.tx,
        call.account,
        body,
        in_reply_to_id=call.args["in_reply_to_id"],
        visibility=call.args["visibility"],
        idempotency_key=call.request.headers.get("idempotency-key"),
        application_id=call.app_id,
        poll=_poll(call.args["poll"]),
        media_ids=call.args["media_ids"] or None,
        **wording,
    )
    return await _one(call, status_id)


def _poll(asked: dict | None) -> Draft | None:
    """A new post's poll, checked by the domain's rules (each refusal a 422)."""
    if asked is None:
        return None
    options = asked["options"] or []
    return check_draft(
        options, asked["expires_in"], bool(asked["multiple"]), bool(asked["hide_totals"])
    )


@endpoint(IfToken("read:statuses"))
async def show(call: Call) -> dict:
    row = await posts.get_visible(call.conn, path_id(call.request), call.viewer_id)
    return await _one(call, row["id"])


@endpoint("write:statuses", write=True)
async def delete(call: Call) -> dict:
    status_id = path_id(call.request)
    entity = await _one(call, status_id)
    await posts.delete_status(call.ctx, call.tx, status_id, call.me)
    entity["text"] = entity.get("text") or ""
    return entity


@endpoint(
    "write:statuses",
    write=True,
    body={
        **WORDING,
        "media_ids": Ids(most=5, optional=True),
        "media_attributes": MEDIA_ATTRIBUTES,
    },
)
async def edit(call: Call) -> dict:
    """Edit a status (its author only); the whole post is sent again, as Mastodon's clients do
    (``media_ids`` absent keeps its pictures)."""
    body, wording = _content(call)
    described = {a["id"]: a for a in call.args["media_attributes"] if a["id"] is not None}
    status_id = await posts.edit(
        call.ctx,
        call.tx,
        path_id(call.request),
        call.me,
        body,
        media_ids=call.args["media_ids"],
        media_attributes=described,
        **wording,
    )
    return await _one(call, status_id)


@endpoint(IfToken("read:statuses"))
async def history(call: Call) -> list:
    """A status's revisions, oldest first (StatusEdit entities)."""
    row, revisions = await posts.history(call.conn, path_id(call.request), call.viewer_id)
    author = await account_service.get_many(call.conn, {row["account_id"]})
    return [
        entities.status_edit(call.ctx, revision, author[row["account_id"]])
        for revision in revisions
    ]


@endpoint("read:statuses")
async def source(call: Call) -> dict:
    """A status's raw text, for its author's edit form."""
    row = await posts.source(call.conn, path_id(call.request), call.viewer_id)
    return {"id": str(row["id"]), "text": row["text"], "spoiler_text": row["spoiler_text"]}


@endpoint(IfToken("read:statuses"))
async def context(call: Call) -> Response:
    ancestors, descendants = await threads.context(call.conn, path_id(call.request), call.viewer_id)
    both = await entities.statuses_json_by_id(
        call.ctx,
        call.conn,
        [*ancestors, *descendants],
        call.viewer_id,
        shared=True,
        context="thread",
    )
    older = set(ancestors)
    split = len([status_id for status_id, _ in both if status_id in older])
    return Json(
        b'{"ancestors":%s,"descendants":%s}'
        % (entities.json_array(both[:split]), entities.json_array(both[split:]))
    )


@endpoint("write:favourites", write=True)
async def favourite(call: Call) -> dict:
    status_id = path_id(call.request)
    await posts.favourite(call.ctx, call.tx, call.me, status_id)
    return await _one(call, status_id)


@endpoint("write:favourites", write=True)
async def unfavourite(call: Call) -> dict:
    status_id = path_id(call.request)
    await posts.unfavourite(call.tx, call.me, status_id)
    return await _one(call, status_id)


@endpoint("write:statuses", write=True, body={"visibility": Text(listed=VISIBILITIES)})
async def reblog(call: Call) -> dict:
    reblog_id = await posts.reblog(
        call.ctx, call.tx, call.account, path_id(call.request), call.args["visibility"]
    )
    return await _one(call, reblog_id)


@endpoint("write:statuses", write=True)
async def unreblog(call: Call) -> dict:
    original = await posts.unreblog(call.ctx, call.tx, call.me, path_id(call.request))
    return await _one(call, original)


@endpoint("write:bookmarks", write=True)
async def bookmark(call: Call) -> dict:
    original = await posts.bookmark(call.ctx, call.tx, call.me, path_id(call.request), True)
    return await _one(call, original)


@endpoint("write:bookmarks", write=True)
async def unbookmark(call: Call) -> dict:
    original = await posts.bookmark(call.ctx, call.tx, call.me, path_id(call.request), False)
    return await _one(call, original)


@endpoint("write:accounts", write=True)
async def pin(call: Call) -> dict:
    """Pin one's own post to one's profile (at most five)."""
    return await _one(call, await pins.pin(call.ctx, call.tx, call.me, path_id(call.request)))


@endpoint("write:accounts", write=True)
async def unpin(call: Call) -> dict:
    return await _one(call, await pins.unpin(call.tx, call.me, path_id(call.request)))


@endpoint("write:mutes", write=True)
async def mute(call: Call) -> dict:
    """Mute a thread one takes part in: its notifications stop."""
    muted = await pins.mute(call.ctx, call.tx, call.me, path_id(call.request), True)
    return await _one(call, muted)


@endpoint("write:mutes", write=True)
async def unmute(call: Call) -> dict:
    unmuted = await pins.mute(call.ctx, call.tx, call.me, path_id(call.request), False)
    return await _one(call, unmuted)


async def _actors(call: Call, kind: str) -> Response:
    window = call.args["page"]
    pairs = await relations.actors(call.conn, kind, path_id(call.request), call.viewer_id, window)
    rows = await account_service.get_many(call.conn, {a for _, a in pairs})
    found = [entities.account(call.ctx, rows[a]) for _, a in pairs if a in rows]
    return Json(found, headers=link_header(call.request, [rid for rid, _ in pairs]))


@endpoint(IfToken("read:accounts"), query={"page": Paging(most=80)})
async def favourited_by(call: Call) -> Response:
    return await _actors(call, "favourited_by")


@endpoint(IfToken("read:accounts"), query={"page": Paging(most=80)})
async def reblogged_by(call: Call) -> Response:
    return await _actors(call, "reblogged_by")


async def _own_list(call: Call, kind: str) -> Response:
    pairs = await relations.page(call.conn, kind, call.me, call.args["page"])
    ids = [status for _, status in pairs]
    found = await entities.statuses_by_id(call.ctx, call.conn, ids, call.viewer_id, shared=True)
    return Json(found, headers=link_header(call.request, [rid for rid, _ in pairs]))


@endpoint("read:favourites", query={"page": Paging()})
async def favourites_list(call: Call) -> Response:
    return await _own_list(call, "favourites")


@endpoint("read:bookmarks", query={"page": Paging()})
async def bookmarks_list(call: Call) -> Response:
    return await _own_list(call, "bookmarks")
