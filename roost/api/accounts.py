"""Account endpoints: sign-up, credentials, profiles, follow graph, blocks and mutes."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, IfToken, endpoint
from roost.api.http import ApiError, Json, link_header, path_id
from roost.api.params import File, Flag, Ids, Nested, Paging, Text
from roost.api.timelines import statuses_page
from roost.bodies import Upload
from roost.domain.errors import Invalid
from roost.domain.scopes import parse_scopes
from roost.present import entities
from roost.services import accounts as account_service
from roost.services import (
    featured,
    oauth,
    pictures,
    pins,
    preferences,
    relations,
    social,
    timelines,
)
from roost.slots import give_back

SIGN_UP = {
    "username": Text(required=True),
    "email": Text(required=True),
    "password": Text(required=True),
    "agreement": Flag(),
    "locale": Text(),
    "reason": Text(),
}


@endpoint("write:accounts", user=False, own_transactions=True, body=SIGN_UP)
async def register(call: Call) -> dict:
    if not call.ctx.settings.registrations_open:
        raise ApiError(403, "Registrations are closed on this server")
    a = call.args
    if not a["agreement"]:
        raise Invalid("agreement", "must be accepted")
    account = await account_service.register(
        call.ctx, a["username"] or "", a["email"] or "", a["password"] or ""
    )
    scopes = sorted(call.caller.scopes) if call.caller else parse_scopes("read write follow")
    async with call.ctx.db.write() as tx:
        return await oauth.issue_token(call.ctx, tx, call.app_id, account, scopes)


@endpoint("read:accounts")
async def verify_credentials(call: Call) -> dict:
    # Read afresh: the caller's cached row may predate its latest counts or profile.
    account = await account_service.get(call.conn, call.me)
    defaults = await preferences.of(call.conn, call.me)
    return entities.credential_account(call.ctx, account, defaults)


PROFILE = {"display_name": Text(), "note": Text(), "locked": Flag(None), "bot": Flag(None)}
SOURCE = {"privacy": Text(), "sensitive": Flag(None), "language": Text()}


PICTURES = {"avatar": File(), "header": File()}


@endpoint(
    "write:accounts",
    own_transactions=True,
    body={**PROFILE, "source": Nested(fields=SOURCE), **PICTURES},
    upload=Upload(files=2),
)
async def update_credentials(call: Call) -> dict:
    """The profile, posting defaults and pictures; the pictures are made before the write."""
    ctx = call.ctx
    sent = {which: call.args[which].data for which in PICTURES if call.args[which] is not None}
    if sent:
        give_back(call.request.scope)  # a worker process makes them: no slot is used
    made = await pictures.make_many(ctx, sent)
    profile = {name: call.args[name] for name in PROFILE}
    async with ctx.db.write() as tx:
        await pictures.change(ctx, tx, call.me, made)
        row = await account_service.update_profile(ctx, tx, call.me, **profile)
        defaults = await preferences.change(tx, call.me, **(call.args["source"] or {}))
    return entities.credential_account(ctx, row, defaults)


@endpoint("write:accounts", write=True)
async def delete_avatar(call: Call) -> dict:
    """Back to the default avatar (Mastodon 4.2's DELETE /api/v1/profile/avatar)."""
    await pictures.change(call.ctx, call.tx, call.me, {"avatar": None})
    return entities.account(call.ctx, await account_service.get(call.tx.conn, call.me))


@endpoint("write:accounts", write=True)
async def delete_header(call: Call) -> dict:
    await pictures.change(call.ctx, call.tx, call.me, {"header": None})
    return entities.account(call.ctx, await account_service.get(call.tx.conn, call.me))


@endpoint(IfToken("read:accounts"))
async def show(call: Call) -> dict:
    row = await account_service.get(call.conn, path_id(call.request))
    return entities.account(call.ctx, row)


@endpoint(IfToken("read:accounts"), query={"acct": Text(required=True)})
async def lookup(call: Call) -> dict:
    acct = call.args["acct"] or ""
    row = await account_service.lookup(call.conn, acct, call.ctx.settings.domain)
    return entities.account(call.ctx, row)


ACCOUNT_POSTS = {
    "page": Paging(),
    "exclude_replies": Flag(),
    "exclude_reblogs": Flag(),
    "only_media": Flag(),
    "pinned": Flag(),
}


@endpoint(IfToken("read:statuses"), cache=True, query=ACCOUNT_POSTS)
async def statuses(call: Call) -> Response:
    account_id = path_id(call.request)
    await account_service.get(call.conn, account_id)
    a = call.args
    window = a["page"]
    if a["only_media"]:
        ids: list[int] = await timelines.account_media(
            call.conn, account_id, call.viewer_id, window
        )
    elif a["pinned"]:  # all of them (five at most) on the first page, newest pin first
        first = window.max_id is None and window.lower is None
        ids = await pins.pinned(call.conn, account_id) if first else []
    else:
        ids = await timelines.account(
            call.conn,
            account_id,
            call.viewer_id,
            window,
            exclude_replies=a["exclude_replies"],
            exclude_reblogs=a["exclude_reblogs"],
        )
    return await statuses_page(call, ids, "account")


PEOPLE = {"page": Paging(most=80)}


async def _account_list(call: Call, kind: str, owner_id: int) -> Response:
    pairs = await relations.page(call.conn, kind, owner_id, call.args["page"])
    rows = await account_service.get_many(call.conn, {other for _, other in pairs})
    found = [entities.account(call.ctx, rows[o]) for _, o in pairs if o in rows]
    return Json(found, headers=link_header(call.request, [rid for rid, _ in pairs]))


@endpoint(IfToken("read:accounts"), query=PEOPLE)
async def followers(call: Call) -> Response:
    target = path_id(call.request)
    await account_service.get(call.conn, target)
    return await _account_list(call, "followers", target)


@endpoint(IfToken("read:accounts"), query=PEOPLE)
async def following(call: Call) -> Response:
    owner = path_id(call.request)
    await account_service.get(call.conn, owner)
    return await _account_list(call, "following", owner)


async def _relationship(call: Call, target: int) -> dict:
    rel = (
        await social.relationships(
            call.writing.conn if call.writing else call.conn, call.me, [target]
        )
    )[0]
    return entities.relationship(rel)


def _target(call: Call) -> int:
    return path_id(call.request)


@endpoint("write:follows", write=True)
async def follow(call: Call) -> dict:
    target = _target(call)
    await account_service.get(call.tx.conn, target)
    await social.follow(call.ctx, call.tx, call.me, target)
    return await _relationship(call, target)


@endpoint("write:follows", write=True)
async def unfollow(call: Call) -> dict:
    target = _target(call)
    await account_service.get(call.tx.conn, target)
    await social.unfollow(call.ctx, call.tx, call.me, target)
    return await _relationship(call, target)


def _toggle(action, scope: str, on: bool):
    @endpoint(scope, write=True)
    async def handler(call: Call) -> dict:
        target = _target(call)
        await account_service.get(call.tx.conn, target)
        await action(call.ctx, call.tx, call.viewer_id, target, on)
        return await _relationship(call, target)

    return handler


block = _toggle(social.block, "write:blocks", True)
unblock = _toggle(social.block, "write:blocks", False)
mute = _toggle(social.mute, "write:mutes", True)
unmute = _toggle(social.mute, "write:mutes", False)


@endpoint("read:blocks", query=PEOPLE)
async def blocked(call: Call) -> Response:
    return await _account_list(call, "blocked", call.me)


@endpoint("read:mutes", query=PEOPLE)
async def muted(call: Call) -> Response:
    return await _account_list(call, "muted", call.me)


@endpoint("write:accounts", write=True, body={"comment": Text()})
async def note(call: Call) -> dict:
    """Write (or clear) one's private note about an account, shown in the Relationship."""
    target = _target(call)
    await account_service.get(call.tx.conn, target)
    await featured.set_note(call.ctx, call.tx, call.me, target, call.args["comment"] or "")
    return await _relationship(call, target)


@endpoint(IfToken("read:accounts"))
async def featured_tags(call: Call) -> list:
    owner = await account_service.get(call.conn, path_id(call.request))
    found = await featured.featured(call.conn, owner["id"])
    return [entities.featured_tag(call.ctx, owner["username"], f) for f in found]


@endpoint("read:follows", query={"id": Ids(most=80)})
async def relationships(call: Call) -> list:
    rels = await social.relationships(call.conn, call.me, call.args["id"])
    return [entities.relationship(r) for r in rels]


@endpoint("read:accounts", query={"q": Text(required=True), "page": Paging(most=80)})
async def search(call: Call) -> list:
    q = call.args["q"] or ""
    limit = call.args["page"].limit
    rows = await account_service.search(call.conn, q, limit)
    return [entities.account(call.ctx, r) for r in rows]


@endpoint("read:follows", query=PEOPLE)
async def follow_requests(call: Call) -> Response:
    """People waiting for a locked account to accept them."""
    return await _account_list(call, "follow_requests", call.me)


def _answer(accept: bool):
    @endpoint("write:follows", write=True)
    async def handler(call: Call) -> dict:
        follower = _target(call)
        await social.answer_request(call.ctx, call.tx, call.me, follower, accept)
        return await _relationship(call, follower)

    return handler


authorize_request = _answer(True)
reject_request = _answer(False)
