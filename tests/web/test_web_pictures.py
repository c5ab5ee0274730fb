"""Pictures on the web pages: attached in the composer without a script (alt text, thumbnails,
remove), shown as lazy thumbnails on timelines, hidden behind "Show pictures" when sensitive,
avatars and headers set in the settings, and OpenGraph meta on post and profile pages."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import httpx

from roost.app import create_site, start
from roost.config import MediaSettings
from roost.services import accounts as account_service
from roost.services import media as media_service
from roost.web import opengraph
from roost.web.render import CSP, content_policy
from tests.support import pictures
from tests.support.settings import make_settings, media_dir
from tests.web.test_web_weight import WEIGHT_LIMIT, weight

IMG = re.compile(r"<img [^>]*>")
MEDIA_IDS = re.compile(r'name="media_ids" value="(\d+)"')
META = re.compile(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">')


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:800]
    return response.headers["location"]


def attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def images_in(page: str) -> list[dict[str, str]]:
    """The post pictures of a page (not avatars)."""
    found = []
    for section in re.findall(r'<div class="media n\d">(.*?)</div>', page, re.S):
        found += [attrs(tag) for tag in IMG.findall(section)]
    return found


def meta(page: str) -> dict[str, str]:
    head = page.split("</head>")[0]
    return {name: html.unescape(value) for name, value in META.findall(head)}


async def attach(web, client, data: bytes, alt: str = "", **fields) -> httpx.Response:
    """Press "Attach" on the compose page with a file chosen (and the draft in ``fields``)."""
    form = {"csrf": await web.token(client, "/compose"), "description": alt, **fields}
    files = {"file": ("photo.jpg", data, "image/jpeg")}
    return await client.post("/compose/media", data=form, files=files)


async def held(web, client, count: int) -> list[str]:
    """Attach ``count`` pictures, one after another as a person does; the draft's ids."""
    ids: list[str] = []
    for n in range(count):
        answer = await attach(web, client, pictures.png(20 + n, 10), f"picture {n}", media_ids=ids)
        page = await client.get(location(answer))
        ids = MEDIA_IDS.findall(page.text)
    assert len(ids) == count
    return ids


async def test_attach_describe_and_post_pictures_without_a_script(web, client) -> None:
    await web.sign_up(client, "alice")
    first = await attach(web, client, pictures.jpeg(200, 100), "A red corner", text="kept words")
    back = location(first)
    assert back.startswith("/compose?media=")
    page = (await client.get(back)).text
    [one] = MEDIA_IDS.findall(page)
    assert ">kept words</textarea>" in page, "the draft's text survives the upload"
    assert f'name="description_{one}" rows="2" maxlength="1500">A red corner</textarea>' in page
    thumbnail = attrs(IMG.findall(page.split('class="pending"')[1])[0])
    assert "/small/" in thumbnail["src"] and thumbnail["width"] and thumbnail["height"]
    second = await attach(web, client, pictures.png(), "", media_ids=one)
    page = (await client.get(location(second))).text
    ids = MEDIA_IDS.findall(page)
    assert ids[0] == one and len(ids) == 2
    assert 'class="nudge"' in page and "Add a description" in page, "no alt text: a nudge"
    form = {"csrf": web.csrf_of(page), "text": "", "media_ids": ids}
    form[f"description_{ids[1]}"] = "A green field"
    posted = location(await client.post("/compose", data=form))
    await web.settle()
    for path in ("/home", "/public", "/@alice", posted):
        shown = images_in((await client.get(path)).text)
        assert [i["alt"] for i in shown] == ["A red corner", "A green field"], path
        for image in shown:
            assert image["loading"] == "lazy" and image["decoding"] == "async"
            assert int(image["width"]) > 0 and int(image["height"]) > 0
            assert "/small/" in image["src"], "a thumbnail, never the original inline"
    page = (await client.get("/public")).text
    assert re.search(r'<a href="[^"]*/original/[^"]*"><img ', page), "linked to the original"


async def test_a_draft_too_long_for_the_cookie_comes_back_with_the_upload(web, client) -> None:
    await web.sign_up(client, "alice")
    long_text = "é" * 400  # six bytes each in the session's JSON: more than the cookie takes
    answer = await attach(web, client, pictures.png(), "alt", text=long_text)
    assert answer.status_code == 200 and f">{long_text}</textarea>" in answer.text
    assert len(MEDIA_IDS.findall(answer.text)) == 1
    assert answer.headers["cache-control"] == "private, no-store"


async def test_remove_a_picture_and_keep_the_rest(web, client) -> None:
    await web.sign_up(client, "alice")
    ids = await held(web, client, 2)
    form = {"csrf": await web.token(client), "remove": ids[0], "media_ids": ids, "text": "x"}
    answer = await client.post("/compose/media", data=form, files={"file": ("", b"", "")})
    page = (await client.get(location(answer))).text
    assert MEDIA_IDS.findall(page) == [ids[1]]
    assert [r["id"] for r in await uploads_of(web, "alice")] == [int(ids[1])]


async def uploads_of(web, username: str) -> list:
    """The person's uploads not attached to a post."""
    async with web.site.state.ctx.db.read() as conn:
        account = await account_service.by_username(conn, username)
        return await media_service.held_by(conn, account["id"])


async def test_a_fifth_picture_is_refused(web, client) -> None:
    await web.sign_up(client, "alice")
    ids = await held(web, client, 4)
    page = (await client.get(f"/compose?media={','.join(ids)}")).text
    assert 'name="file"' not in page and "at most 4 pictures" in page
    fifth = await attach(web, client, pictures.png(), "five", media_ids=ids, text="mine")
    assert fifth.status_code == 422 and "at most 4 pictures" in fifth.text
    assert ">mine</textarea>" in fifth.text
    extra = await held_elsewhere(web)
    form = {"csrf": await web.token(client), "text": "five", "media_ids": [*ids, extra]}
    refused = await client.post("/compose", data=form)
    assert refused.status_code == 422 and "at most 4" in refused.text


async def held_elsewhere(web) -> str:
    """An upload of someone else's (bob), ready."""
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        [one] = await held(web, bob, 1)
    return one


async def test_someone_elses_picture_cannot_be_attached(web, client) -> None:
    bobs = await held_elsewhere(web)
    await web.sign_up(client, "alice")
    form = {"csrf": await web.token(client), "text": "stolen", "media_ids": bobs}
    refused = await client.post("/compose", data=form)
    assert refused.status_code == 422 and "not found" in refused.text
    form[f"description_{bobs}"] = "renamed"
    assert (await client.post("/compose", data=form)).status_code == 422
    page = (await client.get(f"/compose?media={bobs}")).text
    assert not MEDIA_IDS.findall(page), "an address shows only one's own uploads"
    [row] = await uploads_of(web, "bob")
    assert row["id"] == int(bobs) and row["description"] == "picture 0", "untouched"


async def test_what_is_not_a_picture_comes_back_with_a_clear_message(web, client) -> None:
    await web.sign_up(client, "alice")
    for data in (b"just some text", pictures.bomb_png(), pictures.polyglot()[:40]):
        answer = await attach(web, client, data, "alt", text="keep me")
        assert answer.status_code == 422, answer.text[:300]
        assert 'data-error-for="file">' in answer.text
        assert 'aria-invalid="true"' in answer.text and ">keep me</textarea>" in answer.text
    none_chosen = await client.post(
        "/compose/media", data={"csrf": await web.token(client)}, files={"file": ("", b"", "")}
    )
    assert none_chosen.status_code == 422 and "choose a picture" in none_chosen.text
    unsent = await web.post(client, "forgot to attach", file="photo.jpg")
    assert unsent.status_code == 422 and "Press Attach" in unsent.text
    forged = await client.post("/compose/media", data={"csrf": "nope"}, files={"file": ("a", b"x")})
    assert forged.status_code == 403


async def test_a_sensitive_post_hides_its_pictures(web, client) -> None:
    await web.sign_up(client, "alice")
    ids = await held(web, client, 1)
    form = {"csrf": await web.token(client), "text": "spoilers", "media_ids": ids}
    location(await client.post("/compose", data={**form, "spoiler_text": "the ending"}))
    page = (await client.get("/@alice")).text
    assert '<details class="sensitive"><summary>Show pictures (1)</summary>' in page


async def test_avatar_and_header_are_set_shown_and_removed(web, client) -> None:
    await web.sign_up(client, "alice")
    token = await web.token(client)
    files = {
        "avatar": ("me.png", pictures.png(300, 300), "image/png"),
        "header": ("wide.jpg", pictures.jpeg(900, 300), "image/jpeg"),
    }
    assert location(await client.post("/settings/pictures", data={"csrf": token}, files=files))
    settings = (await client.get("/settings")).text
    assert 'alt="Your avatar"' in settings and 'alt="Your header"' in settings
    await web.post(client, "with a face")
    await web.settle()
    for path in ("/@alice", "/home"):
        page = (await client.get(path)).text
        avatar = [attrs(t) for t in IMG.findall(page) if 'class="avatar"' in t]
        assert avatar and "/avatar/" in avatar[0]["src"], path
    profile = (await client.get("/@alice")).text
    assert re.search(r'<img class="header" src="[^"]*/header/', profile)
    bad = {"avatar": ("x.png", b"not a picture", "image/png")}
    refused = await client.post("/settings/pictures", data={"csrf": token}, files=bad)
    assert refused.status_code == 422 and 'data-error-for="avatar">That file' in refused.text
    removed = {"csrf": token, "remove_avatar": "1", "remove_header": "1"}
    location(await client.post("/settings/pictures", data=removed, files={"x": ("", b"")}))
    page = (await client.get("/@alice")).text
    assert '<span class="avatar" aria-hidden="true">A</span>' in page
    assert 'class="header"' not in page


async def test_post_and_profile_pages_carry_escaped_opengraph_meta(web, client) -> None:
    await web.sign_up(client, "alice", display_name='Al "the" <b>')
    nasty = 'He said "hi" </meta><script>alert(1)</script> & left'
    plain = location(await web.post(client, nasty))
    ids = await held(web, client, 1)
    form = {"csrf": await web.token(client), "text": "a view", "media_ids": ids}
    pictured = location(await client.post("/compose", data=form))
    async with web.visitor() as visitor:
        page = await visitor.get(plain)
        assert page.headers["cache-control"].startswith("public"), "the edge's cache answers"
        head = page.text.split("</head>")[0]
        assert "<script>alert" not in head and "</meta><script>" not in head
        found = meta(page.text)
        assert found["og:description"] == nasty
        assert found["og:title"] == 'Al "the" <b> (@alice)'
        assert found["og:type"] == "article" and found["og:site_name"]
        assert found["og:url"].endswith(plain) and found["twitter:card"] == "summary"
        assert found["og:image"].endswith("/static/avatar.png")
        found = meta((await visitor.get(pictured)).text)
        assert "/small/" in found["og:image"] and found["og:image:alt"] == "picture 0"
        assert found["twitter:card"] == "summary_large_image"
        found = meta((await visitor.get("/@alice")).text)
        assert found["og:type"] == "profile" and found["og:title"] == 'Al "the" <b> (@alice)'


async def test_no_preview_of_a_private_post(web, client) -> None:
    await web.sign_up(client, "alice")
    private = location(await web.post(client, "for my followers", visibility="private"))
    own_view = await client.get(private)
    assert own_view.status_code == 200 and "og:description" not in own_view.text
    async with web.visitor() as visitor:
        assert (await visitor.get(private)).status_code == 404


async def test_a_timeline_of_pictures_stays_light_and_shows_thumbnails_only(web, client) -> None:
    await web.sign_up(client, "alice")
    ctx = web.site.state.ctx
    async with ctx.db.read() as conn:
        me = (await account_service.by_username(conn, "alice"))["id"]
    for n in range(20):
        ids = []
        for k in range(4):
            key, _kind = await media_service.receive(ctx, pictures.png(30 + k, 20 + n))
            async with ctx.db.write() as tx:
                made = await media_service.upload(ctx, tx, me, key, 100, f"alt {n}.{k}")
            ids.append(made)
        await ctx.media_jobs.drain()
        form = {"csrf": await web.token(client), "text": f"post {n}", "media_ids": ids}
        location(await client.post("/compose", data=form))
    async with web.visitor() as visitor:
        page = await visitor.get("/public")
        assert await weight(visitor, page) <= WEIGHT_LIMIT
        assert page.text.count('<article class="status') == 20, "none cut for its pictures"
        shown = images_in(page.text)
        assert len(shown) == 80
        assert all("/small/" in i["src"] and i["loading"] == "lazy" for i in shown)


def test_the_csp_allows_pictures_from_the_media_host_only() -> None:
    assert content_policy("") == CSP
    policy = content_policy("https://cdn.example.com/roost-media/")
    assert "img-src 'self' data: https://cdn.example.com; connect-src 'self';" in policy
    assert content_policy("javascript:alert(1)") == CSP
    assert content_policy("https://cdn.example.com; script-src *") == content_policy(
        "https://cdn.example.com"
    )


def test_a_preview_never_shows_what_a_warning_hides() -> None:
    ctx = SimpleNamespace(settings=SimpleNamespace(instance_name="Roost"))
    author = {"username": "al", "display_name": "", "avatar": "https://r.test/static/avatar.png"}
    picture = {"preview_url": "https://r.test/media/small/a.jpg", "description": "x", "meta": {}}
    status = {
        "reblog": None,
        "visibility": "public",
        "account": author,
        "spoiler_text": "the ending",
        "sensitive": True,
        "content": "<p>Bruce Willis was dead all along</p>",
        "media_attachments": [picture],
        "url": "https://r.test/@al/1",
        "created_at": "2026-12-03T12:00:00.000Z",
    }
    og = opengraph.of_status(ctx, status)
    assert og["description"] == "Content warning: the ending"
    assert og["image"] == author["avatar"] and og["card"] == "summary"
    shown = opengraph.of_status(ctx, {**status, "spoiler_text": "", "sensitive": False})
    assert shown["description"] == "Bruce Willis was dead all along"
    assert shown["image"] == picture["preview_url"] and shown["card"] == "summary_large_image"
    for hidden in ("private", "direct"):
        assert opengraph.of_status(ctx, {**status, "visibility": hidden}) is None
    assert opengraph.plain("<p>" + "a" * 300 + "</p>").endswith("…")


async def test_pages_allow_pictures_from_where_they_are_served(database_url) -> None:
    settings = make_settings(
        database_url, media=MediaSettings(url="https://cdn.example.com/m/", dir=media_dir())
    )
    site = create_site(settings)
    await start(site.state.ctx)
    try:
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as visitor:
            page = await visitor.get("/public")
    finally:
        await site.state.ctx.close()
    assert page.headers["content-security-policy"] == content_policy("https://cdn.example.com")
