"""Web sessions held on the server (issue 12, finding 7): a replayed cookie after logging out
or changing the password opened /settings."""

from __future__ import annotations

import httpx


def _replay(web, cookies: httpx.Cookies) -> httpx.AsyncClient:
    other = web.visitor()
    other.cookies = httpx.Cookies(cookies)
    return other


async def _login(web, client, username: str, password: str) -> None:
    page = await client.get("/login")
    data = {"csrf": web.csrf_of(page.text), "username": username, "password": password}
    answer = await client.post("/login", data=data)
    assert answer.status_code == 303, answer.text


async def test_a_cookie_kept_from_before_logout_opens_nothing(web, client) -> None:
    assert (await web.sign_up(client, "ivy")).status_code == 303
    kept = httpx.Cookies(client.cookies)
    logout = await client.post("/logout", data={"csrf": await web.token(client)})
    assert logout.status_code == 303
    async with _replay(web, kept) as thief:
        replayed = await thief.get("/settings")
        assert replayed.status_code == 303 and "/login" in replayed.headers["location"]


async def test_a_new_password_ends_other_sessions_and_app_tokens(web, client) -> None:
    assert (await web.sign_up(client, "jude")).status_code == 303
    async with web.visitor() as laptop:
        await _login(web, laptop, "jude", web.password)
        assert (await laptop.get("/settings")).status_code == 200
        app = await client.post(
            "/api/v1/apps",
            data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
        creds = app.json()
        grant = await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "username": "jude",
                "password": web.password,
                "scope": "read",
            },
        )
        bearer = {"Authorization": f"Bearer {grant.json()['access_token']}"}
        me = "/api/v1/accounts/verify_credentials"
        assert (await client.get(me, headers=bearer)).status_code == 200
        new = "a whole new passphrase here"
        changed = await client.post(
            "/settings/password",
            data={
                "csrf": await web.token(client),
                "current_password": web.password,
                "new_password": new,
            },
        )
        assert changed.status_code == 303, changed.text
        assert (await client.get("/settings")).status_code == 200  # the browser that changed it
        assert (await laptop.get("/settings")).status_code == 303  # every other: logged out
        async with web.visitor() as app_client:
            assert (await app_client.get(me, headers=bearer)).status_code == 401


async def test_log_out_everywhere_ends_every_session(web, client) -> None:
    assert (await web.sign_up(client, "kai")).status_code == 303
    async with web.visitor() as phone:
        await _login(web, phone, "kai", web.password)
        page = await client.get("/settings")
        assert "Log out everywhere" in page.text
        ended = await client.post("/settings/sessions", data={"csrf": web.csrf_of(page.text)})
        assert ended.status_code == 303 and ended.headers["location"] == "/login"
        assert (await client.get("/settings")).status_code == 303
        assert (await phone.get("/settings")).status_code == 303
        await _login(web, phone, "kai", web.password)  # and signing in again works
        assert (await phone.get("/settings")).status_code == 200
