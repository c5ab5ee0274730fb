"""The web pages over HTTP (in-process, SQLite and PostgreSQL): accounts, timelines, posts,
profiles, search, notifications, settings, errors and cache headers."""

from __future__ import annotations

import re

import httpx

WEIGHT_LIMIT = 100_000  # bytes a page may weigh on first load (issue 6)


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


async def test_sign_up_log_out_and_log_in_again(web, client) -> None:
    assert location(await web.sign_up(client, "alice", display_name="Alice")) == "/home"
    home = await client.get("/home")
    assert home.status_code == 200
    assert "Welcome to Roost, @alice!" in home.text
    await client.post("/logout", data={"csrf": web.csrf_of(home.text)})
    assert location(await client.get("/home")) == "/login?next=/home"
    form = await client.get("/login?next=/notifications")
    data = {"csrf": web.csrf_of(form.text), "username": "alice", "password": web.password}
    data["next"] = "/notifications"
    assert location(await client.post("/login", data=data)) == "/notifications"


async def test_wrong_password_keeps_the_username_and_says_why(web, client) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as other:
        form = await other.get("/login")
        data = {"csrf": web.csrf_of(form.text), "username": "alice", "password": "nope nope"}
        answer = await other.post("/login", data=data)
    assert answer.status_code == 401
    assert 'value="alice"' in answer.text
    assert "The username or password is wrong." in answer.text


async def test_bad_sign_up_values_come_back_beside_their_field(web, client) -> None:
    await web.sign_up(client, "taken")
    async with web.visitor() as other:
        cases = {
            "taken": ("username", "Username is already taken."),
            "Bad Name!": ("username", "Username must be 1-30 letters, digits or underscores."),
        }
        for name, (key, message) in cases.items():
            answer = await web.sign_up(other, name, display_name="Kept Name")
            assert answer.status_code == 422
            assert f'id="{key}-error" data-error-for="{key}">{message}</p>' in answer.text
            assert 'value="Kept Name"' in answer.text
        for password in ("short", "password", "bob_is_bobby1"):
            answer = await web.sign_up(
                other, "bob_is_bobby"[: 3 + len(password) % 2], password=password
            )
            assert answer.status_code == 422
            assert 'data-error-for="password">Password ' in answer.text


async def test_every_sign_up_mistake_shows_at_once(web, client) -> None:
    """The shield allows a few sign-up tries: one try shows every field's problem, not one."""
    await web.sign_up(client, "taken", email="taken@example.com")
    async with web.visitor() as other:
        cases = [
            ({"username": "Taken", "password": "password"}, {
                "username": "Username is already taken.",
                "password": "Password is too easy to guess; try a few unrelated words.",
            }),
            ({"username": "newcomer", "password": "password", "email": "Taken@Example.com"}, {
                "email": "Email is already taken.",
                "password": "Password is too easy to guess; try a few unrelated words.",
            }),
            ({"username": "bad name!", "password": "short", "email": "nope",
              "display_name": "x" * 31}, {
                "username": "Username must be 1-30 letters, digits or underscores.",
                "password": "Password must be 8-256 characters.",
                "email": "Email is not a valid address.",
                "display_name": "Display name must be at most 30 characters.",
            }),
        ]  # fmt: skip
        for form, expected in cases:
            answer = await web.sign_up(other, form.pop("username"), **form)
            assert answer.status_code == 422
            for key, message in expected.items():
                assert f'id="{key}-error" data-error-for="{key}">{message}</p>' in answer.text
        assert location(await web.sign_up(other, "fresh")) == "/home"


async def test_post_errors_keep_the_text(web, client) -> None:
    await web.sign_up(client, "alice")
    empty = await web.post(client, "   ", spoiler_text="a warning")
    assert empty.status_code == 422
    assert "Text can&#39;t be blank." in empty.text
    assert 'value="a warning"' in empty.text
    long_text = "word " * 120
    too_long = await web.post(client, long_text)
    assert too_long.status_code == 422
    assert "maximum is 500 characters" in too_long.text
    assert long_text.strip() in too_long.text


async def test_follow_post_mention_favourite_reply_notify(web, client, site) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        token = await web.token(bob)
        assert location(await bob.post("/@alice/follow", data={"csrf": token})) == "/@alice"
        profile = await bob.get("/@alice")
        assert "Following · Unfollow" in profile.text
        posted = location(await web.post(client, "Hello @bob, this is #RoostTest"))
        status_id = posted.rsplit("/", 1)[1]
        await web.settle()
        home = await bob.get("/home")
        assert f'data-id="{status_id}"' in home.text
        # the page's lean form of the stored HTML: local links, no API classes
        assert '<a href="/tags/roosttest" rel="tag">#RoostTest</a>' in home.text
        assert '<a href="/@bob">@bob</a>' in home.text and "h-card" not in home.text
        notes = await bob.get("/notifications")
        assert "mentioned you" in notes.text
        fav = await bob.post(f"/posts/{status_id}/favourite", data={"csrf": token, "next": "/home"})
        assert location(fav) == "/home"
        reply = await web.post(bob, "@alice thanks!", in_reply_to_id=status_id, next=posted)
        assert location(reply).startswith(posted + "#post-")
        thread = await bob.get(posted)
        assert "@alice thanks!" not in thread.text  # rendered as a link, not raw
        assert "thanks!" in thread.text and "Favourited" in thread.text
    alice_notes = await client.get("/notifications")
    assert "favourited your post" in alice_notes.text
    assert "followed you" in alice_notes.text
    found = await client.get("/search?q=roosttest")
    assert f'data-id="{status_id}"' in found.text and "#roosttest" in found.text
    tagged = await client.get("/tags/roosttest")
    assert f'data-id="{status_id}"' in tagged.text
    followers = await client.get("/@alice/followers")
    assert "@bob" in followers.text


async def test_empty_pages_past_either_end_say_so(web, client) -> None:
    """An "Older →" from an exactly full page, or "Load newer posts" without JavaScript when
    nothing is newer, lead to an empty page: it says so, not "No posts yet." or "empty"."""
    older_link = re.compile(r'<a href="([^"]+)" rel="next">Older →</a>')
    await web.sign_up(client, "alice")
    ids = [location(await web.post(client, f"post {n}")).rsplit("/", 1)[1] for n in range(20)]
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        token = await web.token(bob)
        await bob.post("/@alice/follow", data={"csrf": token})
        for n, status_id in enumerate(ids):  # 1 follow + 20 favourites + 9 reposts
            await bob.post(f"/posts/{status_id}/favourite", data={"csrf": token})
            if n < 9:
                await bob.post(f"/posts/{status_id}/reblog", data={"csrf": token})
        await web.settle()
        top = re.search(r'data-id="(\d+)"', (await bob.get("/home")).text).group(1)
        newer = (await bob.get(f"/home?min_id={top}")).text
        assert "No newer posts yet." in newer and "Your home timeline is empty" not in newer
    profile = (await client.get("/@alice")).text
    assert profile.count('class="status') == 20
    past = (await client.get(older_link.search(profile).group(1))).text
    assert "No older posts." in past and "No posts yet." not in past
    assert '<a href="/@alice" rel="prev">← Newer</a>' in past
    newer = (await client.get(f"/@alice?min_id={ids[-1]}")).text
    assert "No newer posts yet." in newer and "No posts yet." not in newer
    notes = (await client.get("/notifications")).text
    assert notes.count('class="notification') == 30
    past = (await client.get(older_link.search(notes).group(1).replace("&amp;", "&"))).text
    assert "No older notifications." in past and "No notifications yet." not in past


async def test_followers_page_on_by_cursor(web, client, monkeypatch) -> None:
    """41 followers: a page of 40, then "Older →" to the last one; none lost or repeated."""
    from roost.domain import accounts as rules

    hashed = rules.hash_password(web.password)
    monkeypatch.setattr(rules, "hash_password", lambda _: hashed)  # 41 argon2 hashes are slow
    await web.sign_up(client, "star")
    names = [f"fan{n:02d}" for n in range(41)]
    for name in names:
        async with web.visitor() as fan:
            await web.sign_up(fan, name)
            await fan.post("/@star/follow", data={"csrf": await web.token(fan)})
    who = re.compile(r'<a class="who" href="/@(\w+)">')
    first = (await client.get("/@star/followers")).text
    older = re.search(r'<a href="([^"]+)" rel="next">Older →</a>', first).group(1)
    rest = (await client.get(older)).text
    assert len(who.findall(first)) == 40 and who.findall(first)[0] == "fan40"  # newest first
    assert who.findall(rest) == ["fan00"] and 'rel="next"' not in rest
    assert sorted(who.findall(first) + who.findall(rest)) == names


async def test_script_requests_get_json_and_fragments(web, client) -> None:
    await web.sign_up(client, "alice")
    token = await web.token(client)
    headers = {"X-Requested-With": "fetch"}
    made = await client.post("/compose", data={"csrf": token, "text": "via fetch"}, headers=headers)
    body = made.json()
    assert 'class="status' in body["html"] and body["url"].startswith("/@alice/")
    bad = await client.post("/compose", data={"csrf": token, "text": ""}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"]["text"] == "Text can't be blank."
    fav = await client.post(f"/posts/{body['id']}/favourite", data={"csrf": token}, headers=headers)
    assert 'aria-pressed="true"' in fav.json()["html"]
    older = await client.get("/public?min_id=1&fragment=1")
    assert older.text.count('class="status') == 1 and "<html" not in older.text


async def test_settings_change_profile_and_password(web, client) -> None:
    await web.sign_up(client, "alice")
    token = await web.token(client)
    saved = await client.post(
        "/settings", data={"csrf": token, "display_name": "Alice A.", "note": "I like #birds"}
    )
    assert location(saved) == "/settings"
    profile = await client.get("/@alice")
    assert (
        "Alice A." in profile.text and '<a href="/tags/birds" rel="tag">#birds</a>' in profile.text
    )
    too_long = await client.post("/settings", data={"csrf": token, "display_name": "x" * 31})
    assert too_long.status_code == 422 and 'value="' + "x" * 31 + '"' in too_long.text
    wrong = await client.post(
        "/settings/password",
        data={"csrf": token, "current_password": "nope", "new_password": "a fresh passphrase"},
    )
    assert wrong.status_code == 422 and "Current password is wrong." in wrong.text
    changed = await client.post(
        "/settings/password",
        data={"csrf": token, "current_password": web.password, "new_password": "a fresh one 2"},
    )
    assert location(changed) == "/settings"


async def test_unknown_things_are_friendly_404s_and_junk_is_not_a_500(web, client) -> None:
    await web.sign_up(client, "alice")
    for path in (
        "/@nobody",
        "/@alice/123",
        "/@alice/99999999999999999999999",
        "/@alice/x1",
        "/tags/neverused",
        "/tags/%20",
        "/@nobody/followers",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "Nothing here" in answer.text and 'href="/search"' in answer.text
    for path in ("/public?max_id=x&min_id=-1", "/search?q=%00%ff", "/home?max_id=" + "9" * 40):
        assert (await client.get(path)).status_code == 200, path
    token = await web.token(client)
    assert (await client.post("/posts/1/explode", data={"csrf": token})).status_code == 404
    assert (await client.post("/posts/1/favourite", data={"csrf": token})).status_code == 404
    junk = await client.post(
        "/compose",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert junk.status_code in (400, 403)
    # forms are bounded like every body (roost/bodies.py): size, fields, no files
    huge = await client.post("/compose", data={"csrf": token, "text": "x" * 100_000})
    assert huge.status_code == 413 and "too large" in huge.text
    many = await client.post("/compose", data={"csrf": token, **{f"f{i}": "1" for i in range(50)}})
    assert many.status_code == 400
    with_file = await client.post("/compose", data={"csrf": token}, files={"f": b"payload"})
    assert with_file.status_code == 400


async def test_expired_session_goes_to_login_then_back(web, client) -> None:
    await web.sign_up(client, "alice")
    client.cookies.clear()
    page = await client.get("/notifications?max_id=5")
    assert location(page) == "/login?next=/notifications%3Fmax_id%3D5"
    form = await client.get("/login?next=/notifications%3Fmax_id%3D5")
    assert 'name="next" value="/notifications?max_id=5"' in form.text
    data = {"csrf": web.csrf_of(form.text), "username": "alice", "password": web.password}
    data["next"] = "/notifications?max_id=5"
    assert location(await client.post("/login", data=data)) == "/notifications?max_id=5"
    async with web.visitor() as stranger:
        evil = await stranger.get("/login?next=//evil.example/")
        assert 'name="next" value="/home"' in evil.text


async def test_cache_headers_and_page_weight(web, client) -> None:
    async with web.visitor() as author:
        await web.sign_up(author, "alice")
        await web.post(author, "A public post #cached")
        await web.post(author, "x" * 400)
        logged_in = await author.get("/public")
        assert logged_in.headers["cache-control"] == "private, no-store"
    for path in ("/", "/public", "/@alice", "/tags/cached"):
        answer = await client.get(path)
        assert answer.headers["cache-control"] == "public, max-age=15", path
        assert "Cookie" in answer.headers["vary"].split(", ")
        assert "set-cookie" not in answer.headers
        assert len(answer.content) < WEIGHT_LIMIT
    login = await client.get("/login")
    assert login.headers["cache-control"] == "private, no-store"
    assert "set-cookie" in login.headers
    css = re.search(r'href="(/static/roost\.css\?v=\w+)"', login.text).group(1)
    js = re.search(r'src="(/static/roost\.js\?v=\w+)"', login.text).group(1)
    sizes = 0
    for url in (css, js):
        asset = await client.get(url)
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        sizes += len(asset.content)
    assert sizes + len(login.content) < WEIGHT_LIMIT
    bare = await client.get("/static/roost.css")
    assert bare.headers["cache-control"] == "public, max-age=3600"
    assert (await client.get("/static/avatar.png")).headers["content-type"] == "image/png"


async def test_landing_for_visitors_and_redirect_for_members(web, client) -> None:
    landing = await client.get("/")
    assert "Sign up" in landing.text and "What people are saying" in landing.text
    await web.sign_up(client, "alice")
    assert location(await client.get("/")) == "/home"


async def test_unknown_paths_get_the_friendly_page_once_wired(site, client) -> None:
    """roost.app calls ``site.state.render_error`` for HTTP errors outside the API."""
    from roost.web.routes import render_error

    if not hasattr(site.state, "render_error"):  # until roost.app wires it (docs/web.md)
        site.state.render_error = render_error
    answer = await client.get("/no/such/page")
    assert answer.status_code == 404 and "Nothing here" in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


async def test_live_stream_needs_a_session(client) -> None:
    answer = await client.get("/web/stream")
    assert answer.status_code == 401


async def test_delete_a_post_with_a_plain_form(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "soon gone"))
    status_id = posted.rsplit("/", 1)[1]
    token = await web.token(client)
    gone = await client.post(f"/posts/{status_id}/delete", data={"csrf": token, "next": posted})
    assert location(gone) == "/@alice"
    assert "Your post was deleted." in (await client.get("/@alice")).text
    assert (await client.get(posted)).status_code == 404
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        mine = location(await web.post(client, "not yours")).rsplit("/", 1)[1]
        refused = await bob.post(f"/posts/{mine}/delete", data={"csrf": await web.token(bob)})
        assert refused.status_code == 403


async def test_the_author_edits_a_post_on_its_page(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "typo here", spoiler_text="cw"))
    status_id = posted.rsplit("/", 1)[1]
    page = (await client.get(posted)).text
    assert f'action="/posts/{status_id}/edit"' in page and ">typo here</textarea>" in page
    token = web.csrf_of(page)
    forged = await client.post(f"/posts/{status_id}/edit", data={"text": "no csrf"})
    assert forged.status_code == 403
    empty = await client.post(f"/posts/{status_id}/edit", data={"csrf": token, "text": " "})
    assert empty.status_code == 422  # the post's page, the message beside the text
    assert 'data-error-for="edit-text">Not saved: Text can&#39;t be blank.' in empty.text
    saved = await client.post(
        f"/posts/{status_id}/edit", data={"csrf": token, "text": "fixed #now", "spoiler_text": ""}
    )
    assert location(saved) == posted
    page = (await client.get(posted)).text
    assert "Your post was edited." in page and "/tags/now" in page and "typo here" not in page
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        assert "/edit" not in (await bob.get(posted)).text
        refused = await bob.post(
            f"/posts/{status_id}/edit", data={"csrf": await web.token(bob), "text": "mine now"}
        )
        assert refused.status_code == 403


async def test_blocked_authors_stay_out_of_public_pages(web, client) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        await web.post(bob, "loud words #roostblock")
    token = await web.token(client)
    assert "loud words" in (await client.get("/public")).text
    profile = await client.get("/@bob")
    assert 'action="/@bob/block"' in profile.text and 'action="/@bob/mute"' in profile.text
    refused = await client.post("/@bob/block", data={})
    assert refused.status_code == 403  # no CSRF token, no block
    assert "loud words" in (await client.get("/public")).text
    blocked = await client.post("/@bob/block", data={"csrf": token, "next": "/@bob"})
    assert location(blocked) == "/@bob"
    assert "Blocked · Unblock" in (await client.get("/@bob")).text
    assert "loud words" not in (await client.get("/public")).text
    assert "loud words" not in (await client.get("/tags/roostblock")).text
    async with web.visitor() as visitor:
        assert "loud words" in (await visitor.get("/public")).text  # hidden from alice alone
    await client.post("/@bob/unblock", data={"csrf": token})
    await client.post("/@bob/mute", data={"csrf": token})
    assert "Muted · Unmute" in (await client.get("/@bob")).text
    assert "loud words" not in (await client.get("/public")).text  # muted: hidden as well
    await client.post("/@bob/unmute", data={"csrf": token})
    assert "loud words" in (await client.get("/public")).text


async def test_the_footer_links_the_status_page_from_configuration(database_url) -> None:
    from roost.app import create_site, start
    from roost.config import Settings

    env = {"ROOST_STATUS_PAGE_URL": "https://status.roost.example/"}
    settings = Settings.from_env(env, database_url=database_url, secret_key="f" * 40)
    site = create_site(settings)
    await start(site.state.ctx)
    try:
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as c:
            for path in ("/", "/public", "/login", "/@nobody"):
                page = (await c.get(path)).text
                assert '<a href="https://status.roost.example/">Service status</a>' in page, path
    finally:
        await site.state.ctx.close()


async def test_times_carry_the_exact_moment(web, client) -> None:
    from roost.web.render import exact_time

    await web.sign_up(client, "alice")
    await web.post(client, "what time is it")
    page = (await client.get("/@alice")).text
    moment, shown, text = re.search(
        r'<time datetime="([0-9T:.\-]+Z)" title="([^"]+)">([^<]+)</time>', page
    ).groups()
    assert shown == exact_time(moment) and shown.endswith(" UTC")
    assert text == "now"  # relative, refreshed by the script


async def test_who_someone_follows(web, client) -> None:
    await web.sign_up(client, "alice")
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob", display_name="Bob B.")
    token = await web.token(client)
    await client.post("/@bob/follow", data={"csrf": token})
    following = await client.get("/@alice/following")
    assert following.status_code == 200
    assert '<h2 id="list-title">Following</h2>' in following.text
    assert '<a class="who" href="/@bob">' in following.text and "Bob B." in following.text
    nobody = await client.get("/@bob/following")
    assert "No one yet." in nobody.text and 'href="/@alice"' not in nobody.text.split("<main")[1]
    followers = await client.get("/@bob/followers")
    assert '<a class="who" href="/@alice">' in followers.text


async def test_a_weak_new_password_is_refused_beside_its_field(web, client) -> None:
    await web.sign_up(client, "alice")
    token = await web.token(client)
    for weak, why in (("password", "too easy to guess"), ("alice2026!", "your username")):
        answer = await client.post(
            "/settings/password",
            data={"csrf": token, "current_password": web.password, "new_password": weak},
        )
        assert answer.status_code == 422, weak
        assert 'id="new_password-error" data-error-for="new_password">New password ' in answer.text
        assert why in answer.text
        assert 'id="new_password" name="new_password" type="password"' in answer.text
        assert 'aria-describedby="new_password-error" aria-invalid="true">' in answer.text
    again = {"csrf": token, "username": "alice", "password": web.password}
    async with web.visitor() as other:  # the old password still works
        form = await other.get("/login")
        assert location(await other.post("/login", data={**again, "csrf": web.csrf_of(form.text)}))


async def test_a_form_sent_after_the_session_expired_goes_to_login_then_back(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "favourite me later"))
    status_id = posted.rsplit("/", 1)[1]
    token = await web.token(client)
    client.cookies.clear()  # the session is gone: expired, or the browser dropped it
    back = "/public?max_id=" + str(int(status_id) + 1)
    answer = await client.post(
        f"/posts/{status_id}/favourite",
        data={"csrf": token, "next": back},
        headers={"referer": "http://roost.test" + back},
    )
    assert location(answer) == "/login?next=/public%3Fmax_id%3D" + back.rsplit("=", 1)[1]
    form = await client.get(location(answer))
    assert f'name="next" value="{back}"' in form.text
    data = {"csrf": web.csrf_of(form.text), "username": "alice", "password": web.password}
    assert location(await client.post("/login", data={**data, "next": back})) == back
    assert (await client.get(back)).status_code == 200
    script = await client.post(
        f"/posts/{status_id}/favourite",
        data={"csrf": "stale"},
        headers={"X-Requested-With": "fetch"},
    )
    assert script.status_code == 403  # logged in again: a stale token is still refused
    client.cookies.clear()
    script = await client.post(
        f"/posts/{status_id}/favourite", data={"csrf": token}, headers={"X-Requested-With": "fetch"}
    )
    assert script.status_code == 401 and script.json()["login"] is True  # the script goes


async def test_a_tag_page_follows_the_tag_into_the_home_timeline(web, client) -> None:
    await web.sign_up(client, "alice")
    first = location(await web.post(client, "a heron #birds")).rsplit("/", 1)[1]
    async with web.visitor() as visitor:
        page = await visitor.get("/tags/birds")
        assert "Log in to follow #birds" in page.text and "1 this week" in page.text
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        token = await web.token(bob)
        page = await bob.get("/tags/Birds")
        assert "Follow #birds" in page.text and "Following #birds" not in page.text
        refused = await bob.post("/tags/birds/follow", data={"csrf": "forged"})
        assert refused.status_code == 403
        assert location(await bob.post("/tags/birds/follow", data={"csrf": token})) == "/tags/birds"
        assert "Following #birds · Unfollow" in (await bob.get("/tags/birds")).text
        later = location(await web.post(client, "a wren #birds")).rsplit("/", 1)[1]
        await web.settle()
        home = (await bob.get("/home")).text
        assert f'data-id="{later}"' in home and f'data-id="{first}"' not in home
        assert (
            location(await bob.post("/tags/birds/unfollow", data={"csrf": token})) == "/tags/birds"
        )
        assert "Follow #birds" in (await bob.get("/tags/birds")).text
    assert (await client.get("/tags/neverused")).status_code == 404
