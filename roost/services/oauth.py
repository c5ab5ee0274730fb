"""OAuth 2 for Mastodon clients: apps, authorization codes, tokens (stored as SHA-256 digests).

Grants: authorization code (PKCE S256 and plain), password (switchable off), client credentials
and refresh tokens. Each grant opens its own short transactions, after any password check: an
argon2 hash must never run while SQLite's one writer is held, nor while a pooled connection
waits for it (the token endpoint holds none).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import OAuthError, ValidationFailed
from roost.domain.signed import mint_token, same_secret, token_digest
from roost.services import accounts as account_service
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.tables import accounts, apps, auth_codes, tokens

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
Row = Mapping

BAD_CLIENT = OAuthError("invalid_client", "Client authentication failed", 401)
BAD_CODE = OAuthError("invalid_grant", "The authorization code is invalid or expired")


# --- Apps -----------------------------------------------------------------------------------


async def register_app(
    ctx: Context, name: str, website: str | None, redirect_uris: list, scopes: list[str]
) -> Row:
    """A new client app; its secret is shown once, in the answer to this call."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("client_name must be 1-200 characters")
    if not redirect_uris or any(
        not isinstance(u, str) or not (u == OOB or ":" in u) or len(u) > 2000 for u in redirect_uris
    ):
        raise ValidationFailed("redirect_uris must be absolute URIs")
    row = {
        "id": ctx.ids.next_id(),
        "name": name,
        "website": website or None,
        "redirect_uris": " ".join(redirect_uris),
        "scopes": " ".join(scopes),
        "client_id": secrets.token_urlsafe(32),
        "client_secret": secrets.token_urlsafe(32),
        "created_at": now(),
    }
    async with ctx.db.write() as tx:
        await tx.conn.execute(insert(apps).values(row))
    return row


async def app_by_id(conn: AsyncConnection, app_id: int | None) -> Row | None:
    return (await conn.execute(select(apps).where(apps.c.id == app_id))).mappings().first()


async def client(
    ctx: Context, client_id: str | None, client_secret: str | None, check_secret: bool = True
) -> Row:
    """The app named by ``client_id``, proven by its secret unless ``check_secret`` is off
    (the consent page; a public client proves itself by PKCE instead)."""
    async with ctx.db.read() as conn:
        query = select(apps).where(apps.c.client_id == (client_id or ""))
        row = (await conn.execute(query)).mappings().first()
    if row is None or (check_secret and not same_secret(client_secret or "", row["client_secret"])):
        raise BAD_CLIENT
    return row


def granted(requested: list[str], app: Row) -> list[str]:
    """The scopes asked for, if the app was registered for all of them."""
    allowed = set(app["scopes"].split())
    extra = [s for s in requested if s not in allowed and s.split(":")[0] not in allowed]
    if extra:
        raise OAuthError("invalid_scope", f"The app was not registered for {extra[0]}")
    return requested


def check_redirect(app: Row, redirect_uri: str | None) -> str:
    """The redirect URI to use: exactly one the app registered (the first when none is sent)."""
    registered = app["redirect_uris"].split()
    uri = redirect_uri or registered[0]
    if uri not in registered:
        raise OAuthError("invalid_request", "redirect_uri does not match the app")
    return uri


# --- Tokens ---------------------------------------------------------------------------------


async def issue_token(
    ctx: Context,
    tx: Tx,
    app_id: int | None,
    account: Row | None,
    scopes: list[str],
    with_refresh: bool = True,
) -> dict:
    """Create a token and answer in Mastodon's Token shape (the secret is shown only now)."""
    if account is not None:
        access = mint_token(ctx.secret, account["id"], int(account["created_at"].timestamp()))
    else:
        access = mint_token(ctx.secret, 0, 0)
    refresh = secrets.token_urlsafe(32) if with_refresh and account is not None else None
    moment = now()
    await tx.conn.execute(
        insert(tokens).values(
            id=ctx.ids.next_id(),
            token_digest=token_digest(access),
            refresh_digest=token_digest(refresh) if refresh else None,
            app_id=app_id,
            account_id=account["id"] if account is not None else None,
            scopes=" ".join(scopes),
            created_at=moment,
        )
    )
    answer = {
        "access_token": access,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "created_at": int(moment.timestamp()),
    }
    if ctx.settings.token_lifetime > 0:
        answer["expires_in"] = ctx.settings.token_lifetime
    if refresh:
        answer["refresh_token"] = refresh
    return answer


async def revoke(ctx: Context, token: str, app_id: int | None = None) -> None:
    """Revoke a token (by its access or refresh value); with ``app_id``, only if that app's
    (RFC 7009: a client revokes only tokens issued to it)."""
    digest = token_digest(token)
    query = update(tokens).where(
        (tokens.c.token_digest == digest) | (tokens.c.refresh_digest == digest)
    )
    if app_id is not None:
        query = query.where(tokens.c.app_id == app_id)
    async with ctx.db.write() as tx:
        await tx.conn.execute(query.values(revoked_at=now()))


_CALLER_QUERY = select(
    tokens.c.id.label("token_id"),
    tokens.c.created_at.label("token_created_at"),
    tokens.c.scopes.label("token_scopes"),
    tokens.c.app_id.label("token_app_id"),
    tokens.c.revoked_at.label("token_revoked_at"),
    accounts,
).select_from(tokens.outerjoin(accounts, accounts.c.id == tokens.c.account_id))


async def token_holder(conn: AsyncConnection, digest: str) -> Row | None:
    """A live token and its account's columns in one row; None when unknown or revoked, or
    when its account is suspended."""
    row = (await conn.execute(_CALLER_QUERY.where(tokens.c.token_digest == digest))).mappings()
    found = row.first()
    if found is None or found["token_revoked_at"] is not None:
        return None
    if found["id"] is not None and found["suspended_at"] is not None:
        return None
    return found


# --- Grants ---------------------------------------------------------------------------------


async def grant_code(
    ctx: Context,
    app: Row,
    code: str,
    redirect_uri: str | None,
    verifier: object,
    proven_by_pkce: bool = False,
) -> dict:
    """Redeem a code: a confidential client proved itself with its secret; a public one
    (``proven_by_pkce``) only by the code's PKCE verifier, so a code without PKCE is refused.
    The code is spent (committed) before it is judged: a failed attempt leaves it unusable."""
    async with ctx.db.write() as tx:
        query = select(auth_codes).where(auth_codes.c.code_digest == token_digest(code))
        row = (await tx.conn.execute(query)).mappings().first()
        if row is None or row["app_id"] != app["id"] or _aware(row["expires_at"]) < now():
            raise BAD_CODE
        used = delete(auth_codes).where(auth_codes.c.code_digest == row["code_digest"])
        await tx.conn.execute(used)
    if redirect_uri and redirect_uri != row["redirect_uri"]:
        raise BAD_CODE
    if row["code_challenge"] and not _pkce_ok(row, verifier):
        raise BAD_CODE
    if proven_by_pkce and not row["code_challenge"]:
        raise BAD_CLIENT
    async with ctx.db.write() as tx:
        account = await account_service.get(tx.conn, row["account_id"])
        return await issue_token(ctx, tx, app["id"], account, row["scopes"].split())


async def grant_password(
    ctx: Context, app: Row, login: str, password: str, scopes: list[str]
) -> dict:
    if not ctx.settings.password_grant:
        raise OAuthError("unsupported_grant_type", "The password grant is switched off")
    account = await account_service.authenticate(ctx.db, login, password)
    if account is None:
        raise OAuthError("invalid_grant", "The username or password is wrong")
    scopes = granted(scopes, app)
    async with ctx.db.write() as tx:
        return await issue_token(ctx, tx, app["id"], account, scopes)


async def grant_client(ctx: Context, app: Row, scopes: list[str]) -> dict:
    scopes = granted(scopes, app)
    async with ctx.db.write() as tx:
        return await issue_token(ctx, tx, app["id"], None, scopes, with_refresh=False)


async def grant_refresh(ctx: Context, app: Row, refresh: str) -> dict:
    async with ctx.db.write() as tx:
        query = select(tokens).where(tokens.c.refresh_digest == token_digest(refresh))
        row = (await tx.conn.execute(query)).mappings().first()
        if row is None or row["revoked_at"] is not None or row["app_id"] != app["id"]:
            raise OAuthError("invalid_grant", "The refresh token is invalid")
        await tx.conn.execute(
            update(tokens).where(tokens.c.id == row["id"]).values(revoked_at=now())
        )
        account = await account_service.get(tx.conn, row["account_id"])
        return await issue_token(ctx, tx, app["id"], account, row["scopes"].split())


async def create_code(
    ctx: Context,
    app: Row,
    account_id: int,
    scopes: list[str],
    redirect_uri: str,
    challenge: str | None,
    challenge_method: str | None,
) -> str:
    """A single-use authorization code for an approved consent (valid ``CODE_LIFETIME``)."""
    code = secrets.token_urlsafe(32)
    async with ctx.db.write() as tx:
        await tx.conn.execute(
            insert(auth_codes).values(
                code_digest=token_digest(code),
                app_id=app["id"],
                account_id=account_id,
                scopes=" ".join(scopes),
                redirect_uri=redirect_uri,
                code_challenge=challenge or None,
                code_challenge_method=(challenge_method or "S256") if challenge else None,
                expires_at=now() + CODE_LIFETIME,
            )
        )
    return code


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _pkce_ok(row: Row, verifier: object) -> bool:
    if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128:
        return False
    if row["code_challenge_method"] == "plain":
        return same_secret(verifier, row["code_challenge"])
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return same_secret(expected, row["code_challenge"])
