"""Safety of the pages: user text is shown as text, forms need a CSRF token, strict headers."""

from __future__ import annotations

import pytest

from roost.web.render import CSP

PAYLOADS = (
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
)
CSP_EXPECTED = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)  # connect-src: the pages use same-origin fetch and SSE, never a WebSocket to anywhere


async def test_payloads_in_posts_names_and_bios_are_text(web, client) -> None:
    await web.sign_up(client, "mallory", display_name="<b>x</b><script>")
    token = await web.token(client)
    bio = " ".join(PAYLOADS)
    saved = await client.post(
        "/settings", data={"csrf": token, "display_name": "<i>M</i>", "note": bio}
    )
    assert saved.status_code == 303
    for payload in PAYLOADS:
        assert (
            await web.post(client, f"look {payload} #xss", spoiler_text=payload)
        ).status_code == 303
    await web.settle()
    async with web.visitor() as visitor:
        for path in (
            "/@mallory",
            "/public",
            "/tags/xss",
            "/search?q=look",
            "/search?q=" + PAYLOADS[0],
        ):
            page = (await visitor.get(path)).text
            for payload in PAYLOADS:
                assert payload not in page, (path, payload)
            assert "<script>alert" not in page and "<img src=x" not in page and "<svg" not in page
            assert "&lt;i&gt;M&lt;/i&gt;" in page or path.startswith("/search"), path
        profile = (await visitor.get("/@mallory")).text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in profile  # the bio, as text


async def test_settings_page_keeps_payloads_as_field_values(web, client) -> None:
    await web.sign_up(client, "mallory")
    token = await web.token(client)
    await client.post(
        "/settings", data={"csrf": token, "display_name": '"><b>', "note": "</textarea><b>"}
    )
    page = (await client.get("/settings")).text
    assert 'value="&#34;&gt;&lt;b&gt;"' in page
    assert "&lt;/textarea&gt;&lt;b&gt;</textarea>" in page


@pytest.mark.parametrize("token", [None, "", "forged"])
async def test_forms_without_a_valid_csrf_token_are_refused(web, client, token) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        status = (await web.post(bob, "bob's post")).headers["location"].rsplit("/", 1)[1]
    data = {} if token is None else {"csrf": token}
    attempts = {
        "/compose": {"text": "forged post"},
        "/settings": {"display_name": "Hacked"},
        "/settings/password": {"current_password": web.password, "new_password": "hacked pass 1"},
        "/@bob/follow": {},
        f"/posts/{status}/favourite": {},
        f"/posts/{status}/reblog": {},
        "/logout": {},
    }
    for path, values in attempts.items():
        answer = await client.post(path, data={**data, **values})
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    home = await client.get("/home")
    assert home.status_code == 200, "still logged in"
    assert "forged post" not in home.text
    assert "Following" not in (await client.get("/@bob")).text
    async with web.visitor() as stranger:
        await stranger.get("/login")
        values = {**data, "username": "alice", "password": web.password}
        assert (await stranger.post("/login", data=values)).status_code == 403
        assert (await stranger.get("/home")).status_code == 303
        signup = {**data, "username": "eve", "password": web.password}
        assert (await stranger.post("/signup", data=signup)).status_code == 403


async def test_a_token_from_another_session_is_refused(web, client) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        bobs_token = await web.token(bob)
    answer = await client.post("/compose", data={"csrf": bobs_token, "text": "x"})
    assert answer.status_code == 403


async def test_strict_headers_on_every_page(web, client) -> None:
    assert CSP == CSP_EXPECTED
    await web.sign_up(client, "alice")
    for path in ("/", "/home", "/public", "/@alice", "/login", "/nope-404-page", "/@ghost"):
        answer = await client.get(path)
        if answer.status_code in (303, 307) or path == "/nope-404-page":
            continue
        assert answer.headers["content-security-policy"] == CSP_EXPECTED, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in answer.text and " style=" not in answer.text, path
        assert " on" + "click=" not in answer.text


async def test_session_cookie_flags(web, client) -> None:
    answer = await web.sign_up(client, "alice")
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("roost_session=") and "httponly" in cookie and "samesite=lax" in cookie


async def test_session_cookie_is_secure_over_https(database_url) -> None:
    import httpx

    from roost.app import create_site, start
    from roost.config import Settings

    settings = Settings.from_env(
        {}, database_url=database_url, secret_key="s" * 40, domain="roost.test", https=True
    )
    site = create_site(settings)
    await start(site.state.ctx)
    try:
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="https://roost.test") as c:
            answer = await c.get("/login")
        cookie = answer.headers["set-cookie"].lower()
        assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    finally:
        await site.state.ctx.close()
