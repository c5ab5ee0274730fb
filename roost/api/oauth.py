"""OAuth 2 for Mastodon clients: apps, authorize (login + consent), token, revoke, metadata.

Grants: authorization code (PKCE S256 and plain), password (switchable off, ROOST_PASSWORD_GRANT),
client credentials and refresh tokens. Secrets (codes, tokens) are stored as SHA-256 digests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from roost.api import consent
from roost.api.auth import issue_token, parse_scopes, revoke
from roost.api.endpoint import PUBLIC, Call, endpoint
from roost.api.http import ApiError, body, text
from roost.domain.signed import same_secret, token_digest
from roost.services import accounts as account_service
from roost.services.context import now
from roost.store.tables import apps, auth_codes, tokens

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


def application(row: RowMapping, with_secret: bool = False) -> dict:
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


@endpoint(PUBLIC, write=True)
async def create_app(call: Call) -> dict:
    params = call.params
    name = (text(params.get("client_name"), "client_name") or "").strip()
    if not name or len(name) > 200:
        raise ApiError(422, "Validation failed: client_name must be 1-200 characters")
    raw_uris = params.get("redirect_uris") or ""
    uris = raw_uris if isinstance(raw_uris, list) else str(raw_uris).split()
    if not uris or any(
        not isinstance(u, str) or not (u == OOB or ":" in u) or len(u) > 2000 for u in uris
    ):
        raise ApiError(422, "Validation failed: redirect_uris must be absolute URIs")
    scopes = parse_scopes(params.get("scopes"), "read")
    row = {
        "id": call.ctx.ids.next_id(),
        "name": name,
        "website": (text(params.get("website"), "website") or None),
        "redirect_uris": " ".join(uris),
        "scopes": " ".join(scopes),
        "client_id": secrets.token_urlsafe(32),
        "client_secret": secrets.token_urlsafe(32),
        "created_at": now(),
    }
    await call.tx.conn.execute(insert(apps).values(row))
    return application(row, with_secret=True)


@endpoint("read", user=False)
async def verify_app(call: Call) -> dict:
    row = await call.conn.execute(select(apps).where(apps.c.id == call.caller.app_id))
    found = row.mappings().first()
    if found is None:
        raise ApiError(401, "The access token is invalid")
    return application(found)


async def find_app(
    conn, client_id: str | None, client_secret: str | None = None, check_secret: bool = True
) -> RowMapping:
    row = (
        (await conn.execute(select(apps).where(apps.c.client_id == (client_id or ""))))
        .mappings()
        .first()
    )
    if row is None or (check_secret and not same_secret(client_secret or "", row["client_secret"])):
        raise ApiError(401, "invalid_client", "Client authentication failed")
    return row


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
    return text(call.params.get("client_id"), "client_id"), text(
        call.params.get("client_secret"), "client_secret"
    )


def _granted(requested: list[str], app: RowMapping) -> list[str]:
    allowed = set(app["scopes"].split())
    extra = [s for s in requested if s not in allowed and s.split(":")[0] not in allowed]
    if extra:
        raise ApiError(400, "invalid_scope", f"The app was not registered for {extra[0]}")
    return requested


@endpoint(PUBLIC, own_transactions=True)
async def token(call: Call) -> dict:
    """Each grant opens its own write transaction, after any password check: an argon2 hash
    must never run while SQLite's one writer is held."""
    grant = text(call.params.get("grant_type"), "grant_type") or ""
    client_id, client_secret = _client_auth(call)
    handlers = {
        "authorization_code": _grant_code,
        "password": _grant_password,
        "client_credentials": _grant_client,
        "refresh_token": _grant_refresh,
    }
    if grant not in handlers:
        raise ApiError(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '-'}")
    public_client = grant == "authorization_code" and not client_secret
    async with call.ctx.db.read() as conn:
        app = await find_app(conn, client_id, client_secret, check_secret=not public_client)
    if public_client:  # no secret, however it was (not) sent: the code must carry PKCE
        return await _grant_code(call, app, proven_by_pkce=True)
    return await handlers[grant](call, app)


async def _grant_code(call: Call, app: RowMapping, proven_by_pkce: bool = False) -> dict:
    """Redeem a code: a confidential client proved itself with its secret; a public one
    (``proven_by_pkce``) only by the code's PKCE verifier, so a code without PKCE is refused."""
    code = text(call.params.get("code"), "code") or ""
    invalid = ApiError(400, "invalid_grant", "The authorization code is invalid or expired")
    async with call.ctx.db.write() as tx:
        query = select(auth_codes).where(auth_codes.c.code_digest == token_digest(code))
        row = (await tx.conn.execute(query)).mappings().first()
        if row is None or row["app_id"] != app["id"] or _aware(row["expires_at"]) < now():
            raise invalid
        used = delete(auth_codes).where(auth_codes.c.code_digest == row["code_digest"])
        await tx.conn.execute(used)
    # the code is spent (committed) before it is judged: a wrong verifier does not leave it usable
    redirect = text(call.params.get("redirect_uri"), "redirect_uri")
    if redirect and redirect != row["redirect_uri"]:
        raise invalid
    if row["code_challenge"] and not _pkce_ok(row, call.params.get("code_verifier")):
        raise invalid
    if proven_by_pkce and not row["code_challenge"]:
        raise ApiError(401, "invalid_client", "Client authentication failed")
    async with call.ctx.db.write() as tx:
        account = await account_service.get(tx.conn, row["account_id"])
        return await issue_token(call.ctx, tx, app["id"], account, row["scopes"].split())


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _pkce_ok(row: RowMapping, verifier) -> bool:
    if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128:
        return False
    if row["code_challenge_method"] == "plain":
        return same_secret(verifier, row["code_challenge"])
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return same_secret(expected, row["code_challenge"])


async def _grant_password(call: Call, app: RowMapping) -> dict:
    if not call.ctx.settings.password_grant:
        raise ApiError(400, "unsupported_grant_type", "The password grant is switched off")
    login = text(call.params.get("username"), "username") or ""
    password = text(call.params.get("password"), "password") or ""
    account = await account_service.authenticate(call.ctx.db, login, password)
    if account is None:
        raise ApiError(400, "invalid_grant", "The username or password is wrong")
    scopes = _granted(parse_scopes(call.params.get("scope"), "read"), app)
    async with call.ctx.db.write() as tx:
        return await issue_token(call.ctx, tx, app["id"], account, scopes)


async def _grant_client(call: Call, app: RowMapping) -> dict:
    scopes = _granted(parse_scopes(call.params.get("scope"), "read"), app)
    async with call.ctx.db.write() as tx:
        return await issue_token(call.ctx, tx, app["id"], None, scopes, with_refresh=False)


async def _grant_refresh(call: Call, app: RowMapping) -> dict:
    refresh = text(call.params.get("refresh_token"), "refresh_token") or ""
    async with call.ctx.db.write() as tx:
        query = select(tokens).where(tokens.c.refresh_digest == token_digest(refresh))
        row = (await tx.conn.execute(query)).mappings().first()
        if row is None or row["revoked_at"] is not None or row["app_id"] != app["id"]:
            raise ApiError(400, "invalid_grant", "The refresh token is invalid")
        await tx.conn.execute(
            update(tokens).where(tokens.c.id == row["id"]).values(revoked_at=now())
        )
        account = await account_service.get(tx.conn, row["account_id"])
        return await issue_token(call.ctx, tx, app["id"], account, row["scopes"].split())


@endpoint(PUBLIC, write=True)
async def revoke_token(call: Call) -> dict:
    """RFC 7009: a client revokes only tokens issued to it; any other token is left alone and,
    as the RFC asks, the answer is the same 200 (it tells nothing about the token)."""
    client_id, client_secret = _client_auth(call)
    app = await find_app(call.tx.conn, client_id, client_secret)
    value = text(call.params.get("token"), "token") or ""
    if value:
        await revoke(call.tx, value, app_id=app["id"])
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


async def authorize(request: Request) -> Response:
    """GET shows login or consent; POST handles them. The page lives in ``roost.api.consent``."""
    ctx = request.app.state.ctx
    params = dict(request.query_params)
    form = {}
    if request.method == "POST":
        try:
            form = await body(request)  # bounded like every API body: 413 over 64 KiB
        except ApiError as exc:
            return consent.error_page(request, exc.description, exc.status)
        params.update({k: v for k, v in form.items() if k not in ("csrf", "password")})
    try:
        async with ctx.db.read() as conn:
            app = await find_app(conn, params.get("client_id"), check_secret=False)
        redirect_uri = params.get("redirect_uri") or app["redirect_uris"].split()[0]
        if redirect_uri not in app["redirect_uris"].split():
            raise ApiError(400, "invalid_request", "redirect_uri does not match the app")
        if params.get("response_type", "code") != "code":
            raise ApiError(400, "unsupported_response_type", "Only response_type=code")
        scopes = _granted(parse_scopes(params.get("scope") or params.get("scopes"), "read"), app)
    except ApiError as exc:
        return consent.error_page(request, exc.description)
    if request.method == "POST":
        return await _authorize_post(request, ctx, app, form, params, redirect_uri, scopes)
    return await consent.page(request, app, params, scopes)


async def _authorize_post(request, ctx, app, form, params, redirect_uri, scopes) -> Response:
    if not consent.csrf_ok(request, form.get("csrf")):
        return consent.error_page(request, "The form expired; please try again.", 403)
    if form.get("action") == "login":
        return await consent.login(request, form, app, params, scopes)
    account_id = await consent.signed_in(request)
    if account_id is None:
        return await consent.page(request, app, params, scopes)
    if form.get("action") != "approve":
        if redirect_uri == OOB:  # `urn:ietf:wg:oauth:2.0:oob?error=...` is nowhere to go
            return consent.show_denied(request, app)
        return _redirect(redirect_uri, {"error": "access_denied", "state": params.get("state")})
    code = secrets.token_urlsafe(32)
    async with ctx.db.write() as tx:
        await tx.conn.execute(
            insert(auth_codes).values(
                code_digest=token_digest(code),
                app_id=app["id"],
                account_id=account_id,
                scopes=" ".join(scopes),
                redirect_uri=redirect_uri,
                code_challenge=params.get("code_challenge") or None,
                code_challenge_method=(params.get("code_challenge_method") or "S256")
                if params.get("code_challenge")
                else None,
                expires_at=now() + CODE_LIFETIME,
            )
        )
    if redirect_uri == OOB:
        return consent.show_code(request, app, code)
    return _redirect(redirect_uri, {"code": code, "state": params.get("state")})


def _redirect(uri: str, values: dict) -> Response:
    query = urlencode({k: v for k, v in values.items() if v})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=303)


authorize.access = PUBLIC  # type: ignore[attr-defined]  # a page: the session and CSRF decide
