"""Filters: version 2 (filters with keywords and chosen posts) and version 1 (one keyword each),
for the clients that offer a filter screen (Tusky, Ice Cubes, Phanpy, Elk)."""

from __future__ import annotations

from roost.api.endpoint import Call, endpoint
from roost.api.http import path_id
from roost.api.params import Choice, Flag, Id, Records, Text, Words
from roost.present import filters as shown
from roost.services import filters
from roost.services.filters import ACTIONS, CONTEXTS, Change

KEYWORD = {"keyword": Text(), "whole_word": Flag(default=None)}
FILTER = {
    "title": Text(),
    "context": Words(listed=CONTEXTS),
    "filter_action": Choice(values=ACTIONS),
    "expires_in": Text(),
    "keywords_attributes": Records(
        fields={**KEYWORD, "id": Id(), "_destroy": Flag()}, most=filters.MAX_KEYWORDS
    ),
}
V1 = {
    "phrase": Text(),
    "context": Words(listed=CONTEXTS),
    "irreversible": Flag(default=None),
    "whole_word": Flag(default=None),
    "expires_in": Text(),
}


def _change(call: Call) -> Change:
    a = call.args
    return Change(
        a["title"], a["context"], a["filter_action"], a["expires_in"], a["keywords_attributes"]
    )


# --- version 2 ----------------------------------------------------------------------------------


@endpoint("read:filters")
async def index(call: Call) -> list:
    return [shown.filter_v2(f) for f in await filters.all_of(call.conn, call.me)]


@endpoint("read:filters")
async def show(call: Call) -> dict:
    return shown.filter_v2(await filters.one(call.conn, call.me, path_id(call.request)))


@endpoint("write:filters", write=True, body=FILTER)
async def create(call: Call) -> dict:
    return shown.filter_v2(await filters.create(call.ctx, call.tx, call.me, _change(call)))


@endpoint("write:filters", write=True, body=FILTER)
async def update(call: Call) -> dict:
    made = await filters.change(call.ctx, call.tx, call.me, path_id(call.request), _change(call))
    return shown.filter_v2(made)


@endpoint("write:filters", write=True)
async def destroy(call: Call) -> dict:
    await filters.remove(call.ctx, call.tx, call.me, path_id(call.request))
    return {}


# --- keywords and chosen posts of one filter ----------------------------------------------------


@endpoint("read:filters")
async def keywords(call: Call) -> list:
    found = await filters.keywords_of(call.conn, call.me, path_id(call.request, "filter_id"))
    return [shown.keyword(k) for k in found]


@endpoint("write:filters", write=True, body=KEYWORD)
async def add_keyword(call: Call) -> dict:
    filter_id = path_id(call.request, "filter_id")
    a = call.args
    made = await filters.add_keyword(
        call.ctx, call.tx, call.me, filter_id, a["keyword"], a["whole_word"]
    )
    return shown.keyword(made)


@endpoint("read:filters")
async def keyword(call: Call) -> dict:
    return shown.keyword(await filters.keyword_of(call.conn, call.me, path_id(call.request)))


@endpoint("write:filters", write=True, body=KEYWORD)
async def update_keyword(call: Call) -> dict:
    a = call.args
    made = await filters.change_keyword(
        call.ctx, call.tx, call.me, path_id(call.request), a["keyword"], a["whole_word"]
    )
    return shown.keyword(made)


@endpoint("write:filters", write=True)
async def remove_keyword(call: Call) -> dict:
    await filters.remove_keyword(call.ctx, call.tx, call.me, path_id(call.request))
    return {}


@endpoint("read:filters")
async def statuses(call: Call) -> list:
    found = await filters.statuses_of(call.conn, call.me, path_id(call.request, "filter_id"))
    return [shown.status(s) for s in found]


@endpoint("write:filters", write=True, body={"status_id": Id()})
async def add_status(call: Call) -> dict:
    filter_id = path_id(call.request, "filter_id")
    made = await filters.add_status(call.ctx, call.tx, call.me, filter_id, call.args["status_id"])
    return shown.status(made)


@endpoint("read:filters")
async def status(call: Call) -> dict:
    return shown.status(await filters.status_of(call.conn, call.me, path_id(call.request)))


@endpoint("write:filters", write=True)
async def remove_status(call: Call) -> dict:
    await filters.remove_status(call.ctx, call.tx, call.me, path_id(call.request))
    return {}


# --- version 1: a filter per keyword ------------------------------------------------------------


def _v1_change(call: Call) -> Change:
    return Change(
        title=call.args["phrase"], context=call.args["context"], expires_in=call.args["expires_in"]
    )


@endpoint("read:filters")
async def v1_index(call: Call) -> list:
    return [shown.filter_v1(f) for f in await filters.v1_all(call.conn, call.me)]


@endpoint("read:filters")
async def v1_show(call: Call) -> dict:
    return shown.filter_v1(await filters.v1_one(call.conn, call.me, path_id(call.request)))


@endpoint("write:filters", write=True, body=V1)
async def v1_create(call: Call) -> dict:
    a = call.args
    whole_word = True if a["whole_word"] is None else a["whole_word"]
    made = await filters.v1_create(
        call.ctx, call.tx, call.me, _v1_change(call), bool(a["irreversible"]), whole_word
    )
    return shown.filter_v1(made)


@endpoint("write:filters", write=True, body=V1)
async def v1_update(call: Call) -> dict:
    a = call.args
    made = await filters.v1_change(
        call.ctx,
        call.tx,
        call.me,
        path_id(call.request),
        _v1_change(call),
        a["irreversible"],
        a["whole_word"],
    )
    return shown.filter_v1(made)


@endpoint("write:filters", write=True)
async def v1_destroy(call: Call) -> dict:
    await filters.v1_remove(call.ctx, call.tx, call.me, path_id(call.request))
    return {}
