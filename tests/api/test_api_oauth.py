"""OAuth 2: apps, the consent page (code + PKCE), password, client credentials, refresh, revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest

from roost.services import oauth

OOB = "urn:ietf:wg:oauth:2.0:oob"


def _token(api, app, **values):
    data = {"client_id": app["client_id"], "client_secret": app["client_secret"], **values}
    return api.client.post("/oauth/token", data=data)


def _assert_token(body: dict, scope: str) -> None:
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"] == "Bearer"
    assert set(scope.split()) <= set(body["scope"].split())
    assert isinstance(body["created_at"], int)


def test_app_registration_json_and_form(sqlite_api):
    as_json = sqlite_api.app()
    assert {"id", "name", "client_id", "client_secret", "redirect_uri", "vapid_key"} <= set(as_json)
    assert isinstance(as_json["id"], str)
    as_form = sqlite_api.client.post(
        "/api/v1/apps",
        data={"client_name": "form", "redirect_uris": OOB, "scopes": "read write"},
    )
    assert as_form.status_code == 200
    assert as_form.json()["scopes"] == ["read", "write"]
    bad = sqlite_api.client.post("/api/v1/apps", json={"client_name": "", "redirect_uris": OOB})
    assert bad.status_code == 422
    assert set(bad.json()) == {"error", "error_description"}
    unknown = sqlite_api.client.post(
        "/api/v1/apps", json={"client_name": "x", "redirect_uris": OOB, "scopes": "rule:world"}
    )
    assert unknown.status_code == 400


def test_metadata_lists_grants(sqlite_api):
    body = sqlite_api.client.get("/.well-known/oauth-authorization-server").json()
    assert {"authorization_code", "password", "client_credentials", "refresh_token"} <= set(
        body["grant_types_supported"]
    )
    assert "S256" in body["code_challenge_methods_supported"]
    assert body["token_endpoint"].endswith("/oauth/token")
    assert body["revocation_endpoint"].endswith("/oauth/revoke")


def test_password_grant(api, helpers):
    alice = api.user("alice")
    response = _token(
        api,
        api.default_app,
        grant_type="password",
        username="alice@example.com",
        password=helpers.password,
        scope="read write follow push",
    )
    assert response.status_code == 200, response.text
    _assert_token(response.json(), "read write follow push")
    assert response.json()["refresh_token"]
    me = api.client.get(
        "/api/v1/accounts/verify_credentials",
        headers=helpers.bearer(response.json()["access_token"]),
    )
    assert me.json()["id"] == alice.id
    wrong = _token(api, api.default_app, grant_type="password", username="alice", password="no")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


def test_password_grant_switched_off(api_with, helpers):
    api = api_with(password_grant=False)
    api.user("grace")
    grants = api.client.get("/.well-known/oauth-authorization-server").json()
    assert "password" not in grants["grant_types_supported"]
    refused = _token(
        api, api.default_app, grant_type="password", username="grace", password=helpers.password
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "unsupported_grant_type"


def test_client_credentials_app_token(sqlite_api, helpers):
    token = sqlite_api.app_token("read")
    headers = helpers.bearer(token)
    assert (
        sqlite_api.client.get("/api/v1/apps/verify_credentials", headers=headers).status_code == 200
    )
    # an app token acts for no one: user methods refuse it as Mastodon does
    assert sqlite_api.client.get("/api/v1/timelines/home", headers=headers).status_code == 422
    assert sqlite_api.client.get("/api/v1/timelines/public", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/oauth/authorize/", "/oauth/authorize"])
def test_authorization_code_with_pkce(api, helpers, path):
    api.user("carol")
    app = api.default_app
    verifier, challenge = helpers.pkce_pair()
    code = helpers.authorize_code(
        api.client, app, "carol", helpers.password, challenge=challenge, path=path
    )
    wrong = _token(
        api,
        app,
        grant_type="authorization_code",
        code=code,
        redirect_uri=OOB,
        code_verifier="x" * 50,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # a failed attempt burns the code (RFC 6749 10.5): the right verifier comes too late
    late = _token(api, app, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert late.status_code == 400, late.text
    code = helpers.authorize_code(
        api.client, app, "carol", helpers.password, challenge=challenge, path=path
    )
    public = api.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "code_verifier": verifier,
        },
    )
    assert public.status_code == 200, public.text
    _assert_token(public.json(), "read write follow push")
    me = api.client.get(
        "/api/v1/accounts/verify_credentials", headers=helpers.bearer(public.json()["access_token"])
    )
    assert me.json()["username"] == "carol"
    again = _token(api, app, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert again.status_code == 400  # codes are single-use


def test_authorization_code_redirects_with_code_and_state(sqlite_api, helpers):
    sqlite_api.user("dave")
    app = sqlite_api.client.post(
        "/api/v1/apps",
        json={"client_name": "web", "redirect_uris": "https://client.example/cb", "scopes": "read"},
    ).json()
    code = helpers.authorize_code(
        sqlite_api.client,
        app,
        "dave",
        helpers.password,
        scope="read",
        redirect_uri="https://client.example/cb",
    )
    response = _token(
        sqlite_api,
        app,
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://client.example/cb",
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read"


def test_consent_page_refuses_bad_requests(sqlite_api):
    unknown = sqlite_api.client.get("/oauth/authorize?client_id=nope&response_type=code")
    assert unknown.status_code == 400
    app = sqlite_api.default_app
    stolen = sqlite_api.client.get(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=https://evil.example/"
    )
    assert stolen.status_code == 400
    forged = sqlite_api.client.post(
        "/oauth/authorize",
        data={"client_id": app["client_id"], "action": "approve", "csrf": "forged"},
    )
    assert forged.status_code == 403
    huge = sqlite_api.client.post(
        "/oauth/authorize", data={"client_id": app["client_id"], "junk": "x" * 100_000}
    )
    assert huge.status_code == 413


def test_refresh_token(api, helpers):
    api.user("erin")
    first = _token(
        api,
        api.default_app,
        grant_type="password",
        username="erin",
        password=helpers.password,
        scope="read",
    ).json()
    second = _token(
        api, api.default_app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert second.status_code == 200, second.text
    _assert_token(second.json(), "read")
    headers = helpers.bearer(second.json()["access_token"])
    assert api.client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    reused = _token(
        api, api.default_app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert reused.status_code == 400


def test_revoke_makes_the_token_401(api, helpers):
    frank = api.user("frank")
    app = api.default_app
    revoked = api.client.post(
        "/oauth/revoke",
        data={
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "token": frank.token,
        },
    )
    assert revoked.status_code == 200
    after = api.client.get("/api/v1/accounts/verify_credentials", headers=frank.headers)
    assert after.status_code == 401
    assert set(after.json()) == {"error", "error_description"}


def test_unsupported_grant_and_bad_client(sqlite_api):
    app = sqlite_api.default_app
    assert _token(sqlite_api, app, grant_type="implicit").json()["error"] == (
        "unsupported_grant_type"
    )
    bad = sqlite_api.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": "wrong",
        },
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    greedy = _token(
        sqlite_api, sqlite_api.app("read"), grant_type="client_credentials", scope="write"
    )
    assert greedy.status_code == 400


def test_expired_code_is_refused(sqlite_api, helpers, monkeypatch):
    monkeypatch.setattr(oauth, "CODE_LIFETIME", timedelta(seconds=-1))
    sqlite_api.user("hank")
    app = sqlite_api.default_app
    code = helpers.authorize_code(sqlite_api.client, app, "hank", helpers.password)
    late = _token(sqlite_api, app, grant_type="authorization_code", code=code, redirect_uri=OOB)
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"


def test_tokens_expire_when_a_lifetime_is_set(api_with, helpers, monkeypatch):
    import time

    from roost.api import auth

    api = api_with(token_lifetime=3600)
    api.user("ivy")
    grant = dict(grant_type="password", username="ivy", password=helpers.password, scope="read")
    first = _token(api, api.default_app, **grant).json()
    assert first["expires_in"] == 3600
    headers = helpers.bearer(first["access_token"])
    me = "/api/v1/accounts/verify_credentials"
    assert api.client.get(me, headers=headers).status_code == 200
    later = time.time() + 3601
    monkeypatch.setattr(auth.time, "time", lambda: later)
    expired = api.client.get(me, headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]
    assert api.client.get("/api/v1/timelines/home", headers=headers).status_code == 401
    monkeypatch.undo()
    renewed = _token(
        api, api.default_app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert renewed.status_code == 200
    headers = helpers.bearer(renewed.json()["access_token"])
    assert api.client.get(me, headers=headers).status_code == 200


def test_tokens_do_not_expire_by_default(api, helpers):
    api.user("jo")
    grant = dict(grant_type="password", username="jo", password=helpers.password, scope="read")
    assert "expires_in" not in _token(api, api.default_app, **grant).json()


def test_a_code_without_pkce_needs_the_client_secret(api, helpers):
    """Issue 12, finding 5: `Authorization: Basic base64("<client_id>:")` passed as a public
    client and redeemed a code that had no PKCE."""
    import base64

    api.user("dora")
    app = api.default_app
    code = helpers.authorize_code(api.client, app, "dora", helpers.password)
    empty_secret = base64.b64encode(f"{app['client_id']}:".encode()).decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": OOB}
    skipped = api.client.post(
        "/oauth/token", data=form, headers={"Authorization": f"Basic {empty_secret}"}
    )
    assert skipped.status_code == 401, skipped.text
    assert skipped.json()["error"] == "invalid_client"
    no_secret = api.client.post("/oauth/token", data={**form, "client_id": app["client_id"]})
    assert no_secret.status_code in (400, 401)  # the code was burnt by the first try, too
    code = helpers.authorize_code(api.client, app, "dora", helpers.password)
    confidential = _token(api, app, grant_type="authorization_code", code=code, redirect_uri=OOB)
    assert confidential.status_code == 200, confidential.text


def test_an_app_revokes_only_its_own_tokens(api, helpers):
    """Issue 12, finding 12 (RFC 7009): another app's token is left alone, with the same 200."""
    gina = api.user("gina")  # her token was issued to the default app
    other = api.app()
    answer = api.client.post(
        "/oauth/revoke",
        data={
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
            "token": gina.token,
        },
    )
    assert answer.status_code == 200
    still = api.client.get("/api/v1/accounts/verify_credentials", headers=gina.headers)
    assert still.status_code == 200


def test_denying_an_out_of_band_app_shows_a_page(api, helpers):
    """Issue 12: denial answered `303 Location: urn:ietf:wg:oauth:2.0:oob?error=...`, which
    no browser can follow; and an app with a real redirect still gets access_denied there."""
    from urllib.parse import urlencode

    from tests.api.conftest import forms_of

    api.user("hank")
    app = api.default_app
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB}
    page = api.client.get(f"/oauth/authorize?{urlencode(query)}")
    form = forms_of(page.text)[0]
    fields = {**dict(form["fields"]), "username": "hank", "password": helpers.password}
    page = api.client.post(form["action"], data=fields, follow_redirects=False)
    form = forms_of(page.text)[0]
    denied = api.client.post(
        form["action"], data={**dict(form["fields"]), "action": "deny"}, follow_redirects=False
    )
    assert denied.status_code == 200, denied.headers
    assert "was not given access" in denied.text and app["name"] in denied.text


def test_password_grant_upgrades_an_old_hash_without_holding_the_writer(api, helpers):
    """Issue 12: the token endpoint ran in one write transaction, so every password grant held
    SQLite's only writer through an argon2 hash; a grant that also rewrites an old hash would
    wait for itself. Now the hash comes first and each write is short."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from roost.store.tables import accounts

    erin = api.user("erin")
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(helpers.password)
    ctx = api.client.app.state.ctx

    async def set_old_hash() -> None:
        async with ctx.db.write() as tx:
            await tx.conn.execute(update(accounts).values(password_hash=old))

    api.client.portal.call(set_old_hash)
    for _ in range(2):  # the first grant upgrades the hash, the second checks the new one
        granted = api.client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": api.default_app["client_id"],
                "client_secret": api.default_app["client_secret"],
                "username": erin.username,
                "password": helpers.password,
            },
        )
        assert granted.status_code == 200, granted.text
