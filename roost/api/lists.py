"""Lists: the viewer's lists, their members, the lists holding an account, and a list's
timeline (thin over ``roost.services.lists``)."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, endpoint
from roost.api.http import Json, link_header, path_id
from roost.api.params import Choice, Flag, Ids, Paging, PagingOrAll, Text
from roost.api.timelines import statuses_page
from roost.domain.errors import ValidationFailed
from roost.present import entities
from roost.services import accounts as account_service
from roost.services import lists
from roost.services.lists import MEMBERS_MOST, REPLIES_POLICIES

MADE = {
    "title": Text(required=True),
    "replies_policy": Choice(values=REPLIES_POLICIES),
    "exclusive": Flag(),
}
CHANGED = {**MADE, "title": Text(), "exclusive": Flag(None)}
MEMBERS = {"account_ids": Ids(most=MEMBERS_MOST)}


@endpoint("read:lists")
async def index(call: Call) -> list:
    return [entities.account_list(one) for one in await lists.owned(call.conn, call.me)]


@endpoint("read:lists")
async def show(call: Call) -> dict:
    return entities.account_list(await lists.get(call.conn, call.me, path_id(call.request)))


@endpoint("write:lists", write=True, body=MADE)
async def create(call: Call) -> dict:
    a = call.args
    made = await lists.create(
        call.ctx, call.tx, call.me, a["title"], a["replies_policy"], a["exclusive"]
    )
    return entities.account_list(made)


@endpoint("write:lists", write=True, body=CHANGED)
async def update(call: Call) -> dict:
    a = call.args
    changed = await lists.change(
        call.tx, call.me, path_id(call.request), a["title"], a["replies_policy"], a["exclusive"]
    )
    return entities.account_list(changed)


@endpoint("write:lists", write=True)
async def delete(call: Call) -> dict:
    await lists.remove(call.tx, call.me, path_id(call.request))
    return {}


@endpoint("read:lists", query={"page": PagingOrAll(most=80, whole=MEMBERS_MOST)})
async def accounts(call: Call) -> Response:
    window = call.args["page"]
    pairs = await lists.members(call.conn, call.me, path_id(call.request), window)
    rows = await account_service.get_many(call.conn, {other for _, other in pairs})
    found = [entities.account(call.ctx, rows[o]) for _, o in pairs if o in rows]
    everyone = window.limit == MEMBERS_MOST  # limit=0: all of them, no pages (as Mastodon)
    cursors = [] if everyone else [member_id for member_id, _ in pairs]
    return Json(found, headers=link_header(call.request, cursors))


def _account_ids(call: Call) -> list[int]:
    ids = call.args["account_ids"]
    if not ids:
        raise ValidationFailed("account_ids must name at least one account")
    return ids


@endpoint("write:lists", write=True, body=MEMBERS)
async def add_accounts(call: Call) -> dict:
    list_id = path_id(call.request)
    await lists.add_members(call.ctx, call.tx, call.me, list_id, _account_ids(call))
    return {}


@endpoint("write:lists", write=True, body=MEMBERS)
async def remove_accounts(call: Call) -> dict:
    await lists.remove_members(call.tx, call.me, path_id(call.request), _account_ids(call))
    return {}


@endpoint("read:lists")
async def account_lists(call: Call) -> list:
    """The viewer's lists that hold an account (404 for an account that does not exist)."""
    account_id = path_id(call.request)
    await account_service.get(call.conn, account_id)
    found = await lists.containing(call.conn, call.me, account_id)
    return [entities.account_list(one) for one in found]


@endpoint("read:lists", cache=True, query={"page": Paging()})
async def timeline(call: Call) -> Response:
    list_id = path_id(call.request, "list_id")
    ids = await lists.timeline(call.conn, call.me, list_id, call.args["page"])
    return await statuses_page(call, ids, "home")  # lists are read in the home context
