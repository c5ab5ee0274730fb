"""Announcements from the operator (`roost announce`): the active ones, and dismissing one."""

from __future__ import annotations

from roost.api.endpoint import Call, endpoint
from roost.api.http import ApiError, path_id
from roost.present import entities
from roost.services import announcements


@endpoint("read")
async def index(call: Call) -> list:
    shown = await announcements.active(call.conn, call.me)
    return [entities.announcement(one.row, one.read) for one in shown]


@endpoint("write:accounts", write=True)
async def dismiss(call: Call) -> dict:
    await announcements.dismiss(call.ctx, call.tx, call.me, path_id(call.request))
    return {}


@endpoint("write:favourites")
async def reaction(call: Call) -> dict:
    """PUT and DELETE of a reaction: Roost has no reactions (nor custom emojis) yet."""
    await announcements.exists(call.conn, path_id(call.request))
    raise ApiError(422, "Validation failed: reactions to announcements are not supported")
