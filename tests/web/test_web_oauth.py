"""The OAuth authorization page (roost/api/consent.py) in the site's look, on the site's session."""

from __future__ import annotations

from urllib.parse import urlencode

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def make_app(client) -> dict:
    answer = await client.post(
        "/api/v1/apps",
        data={"client_name": "<b>Birdwatch</b>", "redirect_uris": OOB, "scopes": "read write"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def authorize_url(app: dict) -> str:
    query = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code"}
    return "/oauth/authorize?" + urlencode({**query, "scope": "read write"})


async def test_log_in_approve_and_get_a_token(web, client) -> None:
    async with web.visitor() as owner:
        await web.sign_up(owner, "alice")
    app = await make_app(client)
    login = await client.get(authorize_url(app))
    assert login.status_code == 200
    assert "&lt;b&gt;Birdwatch&lt;/b&gt; wants to use your Roost account" in login.text.replace(
        "<strong>", ""
    ).replace("</strong>", "")
    assert (
        "/static/roost.css?v=" in login.text
        and login.headers["cache-control"] == "private, no-store"
    )
    form = {"client_id": app["client_id"], "redirect_uri": OOB, "scope": "read write"}
    wrong = await client.post(
        "/oauth/authorize",
        data={**form, "csrf": web.csrf_of(login.text), "action": "login", "username": "alice",
              "password": "wrong password"},
    )  # fmt: skip
    assert wrong.status_code == 401 and "The username or password is wrong." in wrong.text
    consent = await client.post(
        "/oauth/authorize",
        data={**form, "csrf": web.csrf_of(wrong.text), "action": "login", "username": "alice",
              "password": web.password},
    )  # fmt: skip
    assert "wants to act as <strong>@alice</strong>" in consent.text
    assert "write posts, favourite, repost" in consent.text
    refused = await client.post("/oauth/authorize", data={**form, "action": "approve"})
    assert refused.status_code == 403
    shown = await client.post(
        "/oauth/authorize",
        data={**form, "csrf": web.csrf_of(consent.text), "action": "approve"},
    )
    code = shown.text.split('<code id="code" class="code">')[1].split("</code>")[0]
    token = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": OOB,
              "client_id": app["client_id"], "client_secret": app["client_secret"]},
    )  # fmt: skip
    assert token.status_code == 200, token.text
    me = await client.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["username"] == "alice"
    home = await client.get("/home")
    assert home.status_code == 200, "the same session is logged in on the site"


async def test_bad_requests_get_the_error_page(client) -> None:
    answer = await client.get("/oauth/authorize?client_id=nope")
    assert answer.status_code == 400
    assert "Cannot authorize" in answer.text and 'role="alert"' in answer.text
