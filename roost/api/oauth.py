"""OAuth 2 over HTTP for Mastodon clients: app registration, token, revoke, metadata.

The use cases live in ``roost.services.oauth``; the login and consent pages of
``/oauth/authorize`` are web pages (``roost.web.consent``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from roost.api.endpoint import PUBLIC, Call, endpoint
from roost.api.http import ApiError
from roost.api.params import Scopes, Spaced, Text
from roost.services import oauth


def application(row: Mapping, with_secret: bool = False) -> dict:
    uris = row["redirect_uris"].split()
    entity = {
        "id": str(row["id"]),
        "name": row["name"],
        "website": row["website"],
        "scopes": row["scopes"].split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if with_secret:
        entity["client_id"] = row["client_id"]
        entity["client_secret"] = row["client_secret"]
    return entity


APP = {
    "client_name": Text(required=True),
    "redirect_uris": Spaced(required=True),
    "scopes": Scopes(),
    "website": Text(),
}


@endpoint(PUBLIC, own_transactions=True, body=APP)
async def create_app(call: Call) -> dict:
    a = call.args
    uris = a["redirect_uris"] or []
    row = await oauth.register_app(
        call.ctx, a["client_name"] or "", a["website"], uris, a["scopes"]
    )
    return application(row, with_secret=True)


@endpoint("read", user=False)
async def verify_app(call: Call) -> dict:
    found = await oauth.app_by_id(call.conn, call.app_id)
    if found is None:
        raise ApiError(401, "The access token is invalid")
    return application(found)


def _client_auth(call: Call) -> tuple[str | None, str | None]:
    """client_id/secret from the body, or from HTTP Basic as RFC 6749 also allows."""
    header = call.request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
            return client_id, client_secret
        except (ValueError, UnicodeDecodeError):
            raise ApiError(401, "invalid_client", "Client authentication failed") from None
    return call.args["client_id"], call.args["client_secret"]


GRANTS = ("authorization_code", "password", "client_credentials", "refresh_token")
CLIENT = {"client_id": Text(), "client_secret": Text()}
TOKEN = {
    "grant_type": Text(required=True, listed=GRANTS),
    **CLIENT,
    "scope": Scopes(),
    "code": Text(),
    "redirect_uri": Text(),
    "code_verifier": Text(),
    "username": Text(),
    "password": Text(),
    "refresh_token": Text(),
}


@endpoint(PUBLIC, own_transactions=True, body=TOKEN)
async def token(call: Call) -> dict:
    """Holds no connection: a password grant waits for an argon2 hash (``services.oauth``)."""
    a, ctx = call.args, call.ctx
    grant = a["grant_type"] or ""
    client_id, client_secret = _client_auth(call)
    if grant not in GRANTS:
        raise ApiError(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '-'}")
    public_client = grant == "authorization_code" and not client_secret
    app = await oauth.client(ctx, client_id, client_secret, check_secret=not public_client)
    if grant == "authorization_code":
        code, redirect, verifier = a["code"] or "", a["redirect_uri"], a["code_verifier"]
        return await oauth.grant_code(ctx, app, code, redirect, verifier, public_client)
    if grant == "password":
        login, password = a["username"] or "", a["password"] or ""
        return await oauth.grant_password(ctx, app, login, password, a["scope"])
    if grant == "client_credentials":
        return await oauth.grant_client(ctx, app, a["scope"])
    return await oauth.grant_refresh(ctx, app, a["refresh_token"] or "")


@endpoint(PUBLIC, own_transactions=True, body={**CLIENT, "token": Text(required=True)})
async def revoke_token(call: Call) -> dict:
    """RFC 7009: a client revokes only tokens issued to it; any other token is left alone and,
    as the RFC asks, the answer is the same 200 (it tells nothing about the token)."""
    client_id, client_secret = _client_auth(call)
    app = await oauth.client(call.ctx, client_id, client_secret)
    value = call.args["token"] or ""
    if value:
        await oauth.revoke(call.ctx, value, app_id=app["id"])
    return {}


@endpoint(PUBLIC)
async def metadata(call: Call) -> dict:
    base = call.ctx.base_url
    grants = ["authorization_code", "client_credentials", "refresh_token"]
    if call.ctx.settings.password_grant:
        grants.append("password")
    return {
        "issuer": base + "/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": ["read", "write", "follow", "push", "admin:read", "admin:write"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "service_documentation": f"{base}/docs/api",
    }
