"""Timeline, notification, marker, search and trends endpoints."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import PUBLIC, Call, IfToken, endpoint
from roost.api.http import (
    ApiError,
    Json,
    link_header,
    optional_id,
    path_id,
)
from roost.api.params import Choice, Flag, Id, Limit, Offset, Paging, Text, Words
from roost.domain.text import normalize_tag
from roost.present import entities
from roost.services import accounts as account_service
from roost.services import markers, timelines, trends
from roost.services import notifications as notification_service
from roost.services import search as search_service


async def statuses_page(call: Call, ids: list[int], context: str) -> Response:
    """A page of statuses as JSON joined from the shelf, with its ``Link`` header; ``context``
    names where it is shown, for the viewer's filters (home, public, account...)."""
    found = await entities.statuses_json_by_id(
        call.ctx, call.conn, ids, call.viewer_id, shared=call.writing is None, context=context
    )
    return Json(entities.json_array(found), headers=link_header(call.request, ids))


PAGE = {"page": Paging()}
ELSEWHERE = {"local": Flag(), "remote": Flag(), "only_media": Flag()}


@endpoint("read:statuses", cache=True, query=PAGE)
async def home(call: Call) -> Response:
    ids = await timelines.home(call.ctx, call.me, call.args["page"], call.conn)
    return await statuses_page(call, ids, "home")


@endpoint(IfToken("read:statuses"), cache=True, query={**PAGE, **ELSEWHERE})
async def public(call: Call) -> Response:
    if call.args["remote"] or call.args["only_media"]:  # every post here is local
        return Json([])  # Roost is one server without media: nothing is remote or media
    ids = await timelines.public(call.conn, call.args["page"], call.viewer_id)
    return await statuses_page(call, ids, "public")


@endpoint(IfToken("read:statuses"), cache=True, query={**PAGE, **ELSEWHERE})
async def tag(call: Call) -> Response:
    name = normalize_tag(call.request.path_params["hashtag"])
    if name is None:
        raise ApiError(404, "Record not found")
    if call.args["only_media"]:
        return Json([])
    ids = await timelines.tag(call.conn, name, call.args["page"], call.viewer_id)
    return await statuses_page(call, ids, "public")


NOTIFICATION_TYPES = ("mention", "status", "reblog", "follow", "favourite", "poll", "update")
NOTIFICATIONS = {
    "page": Paging(most=80),
    "types": Words(listed=NOTIFICATION_TYPES),
    "exclude_types": Words(listed=NOTIFICATION_TYPES),
}


@endpoint("read:notifications", cache=True, query=NOTIFICATIONS)
async def notifications(call: Call) -> Response:
    window = call.args["page"]
    types, exclude = call.args["types"], call.args["exclude_types"]
    rows = await notification_service.page(
        call.conn,
        call.me,
        max_id=window.max_id,
        since_id=window.since_id,
        min_id=window.min_id,
        limit=window.limit,
        types=types,
        exclude=exclude,
    )
    found = await entities.notifications(call.ctx, call.conn, rows, call.me)
    return Json(found, headers=link_header(call.request, [r["id"] for r in rows]))


UNREAD = {
    "limit": Limit(100, 1000),
    "types": Words(listed=NOTIFICATION_TYPES),
    "exclude_types": Words(listed=NOTIFICATION_TYPES),
    "account_id": Id(),
}


@endpoint("read:notifications", query=UNREAD)
async def unread_count(call: Call) -> dict:
    a = call.args
    count = await notification_service.unread_count(
        call.conn, call.me, a["limit"], a["types"], a["exclude_types"], a["account_id"]
    )
    return {"count": count}


@endpoint("read:notifications")
async def notification(call: Call) -> dict:
    row = await notification_service.get(call.conn, call.me, path_id(call.request))
    found = await entities.notifications(call.ctx, call.conn, [row], call.me)
    if not found:
        raise ApiError(404, "Record not found")
    return found[0]


@endpoint("write:notifications", write=True)
async def clear_notifications(call: Call) -> dict:
    await notification_service.clear(call.tx, call.me)
    return {}


@endpoint("write:notifications", write=True)
async def dismiss_notification(call: Call) -> dict:
    await notification_service.dismiss(call.tx, call.me, path_id(call.request))
    return {}


def _marker(row) -> dict:
    return {
        "last_read_id": str(row["last_read_id"]),
        "version": row["version"],
        "updated_at": entities.iso(row["updated_at"]),
    }


@endpoint("read:statuses", query={"timeline": Words(listed=markers.TIMELINES)})
async def get_markers(call: Call) -> dict:
    wanted = call.args["timeline"] or list(markers.TIMELINES)
    rows = await markers.get(call.conn, call.me, wanted)
    return {row["timeline"]: _marker(row) for row in rows}


@endpoint("write:statuses", write=True)
async def save_markers(call: Call) -> dict:
    out = {}
    for timeline in markers.TIMELINES:
        value = call.params.get(timeline) or call.params.get(f"{timeline}[last_read_id]")
        if isinstance(value, dict):
            value = value.get("last_read_id")
        if value in (None, ""):
            continue
        last = optional_id(value, f"{timeline}[last_read_id]")
        if last is None:
            continue
        out[timeline] = _marker(await markers.save(call.tx, call.me, timeline, last))
    return out


SEARCH = {
    "q": Text(required=True),
    "type": Choice(values=("accounts", "hashtags", "statuses")),
    "resolve": Flag(),
    "page": Paging(),
    "offset": Offset(),
}


@endpoint(IfToken("read:search"), query=SEARCH)
async def search(call: Call) -> dict:
    a = call.args
    q = (a["q"] or "").strip()
    kind = a["type"]
    limit, offset = a["page"].limit, a["offset"]
    result: dict = {"accounts": [], "statuses": [], "hashtags": []}
    if not q:
        return result
    if kind in (None, "", "accounts"):
        rows = await account_service.search(call.conn, q, limit, offset)
        result["accounts"] = [entities.account(call.ctx, r) for r in rows]
    if kind in (None, "", "hashtags"):
        rows = await search_service.hashtags(call.conn, q, limit, offset)
        result["hashtags"] = [entities.tag(call.ctx, r["name"]) for r in rows]
    if kind in (None, "", "statuses") and (call.viewer_id is not None or kind == "statuses"):
        ids = await search_service.statuses_for(call.conn, call.viewer_id, q, limit, offset)
        result["statuses"] = await entities.statuses_by_id(
            call.ctx, call.conn, ids, call.viewer_id, shared=True
        )
    return result


@endpoint(PUBLIC, query=PAGE)
async def trends_tags(call: Call) -> list:
    found = await trends.tags_trending(call.ctx, call.conn)
    return [entities.tag(call.ctx, name, week) for name, week in found[: call.args["page"].limit]]
