"""Writing posts on the site (roost/web/posts.py) and a post's page (roost/web/thread.py): a
refused post or edit comes back where it was written, with the typed text and the message beside
its field; junk never becomes a post; a thread shows what came before and after."""

from __future__ import annotations

import re

import httpx

BLANK = 'data-error-for="text">Text can&#39;t be blank.</p>'
GONE = 'data-error-for="form">The post you are replying to is gone.</p>'


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def title(page: str) -> str:
    return re.search(r"<title>(.*?) · Roost</title>", page).group(1)


async def test_a_refused_post_comes_back_on_the_page_it_was_written_on(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "the first post"))
    first = posted.rsplit("/", 1)[1]
    token = await web.token(client)
    pages = {"/home": "Home", "/public": "Public timeline", posted: "Post by alice"}
    for origin, shown in pages.items():
        data = {"csrf": token, "text": " ", "spoiler_text": "kept warning", "origin": origin}
        if origin == posted:
            data["in_reply_to_id"] = first
        answer = await client.post("/compose", data=data)
        assert answer.status_code == 422, origin
        assert title(answer.text) == shown, origin
        assert BLANK in answer.text and 'value="kept warning"' in answer.text, origin
        assert 'aria-invalid="true">' in answer.text and " autofocus" in answer.text
        assert f'name="origin" value="{origin}"' in answer.text
        assert answer.headers["cache-control"] == "private, no-store"
    long_text = "word " * 120
    too_long = await web.post(client, long_text, origin="/home")
    assert too_long.status_code == 422 and title(too_long.text) == "Home"
    assert f"{long_text}</textarea>" in too_long.text
    assert "maximum is 500 characters" in too_long.text
    for elsewhere in ("//evil.example/home", "https://evil.example/home", "/settings", ""):
        answer = await web.post(client, " ", origin=elsewhere)
        assert answer.status_code == 422 and title(answer.text) == "New post", elsewhere


async def test_an_unknown_visibility_is_named_beside_its_menu(web, client) -> None:
    await web.sign_up(client, "alice")
    answer = await web.post(client, "kept words", visibility="everyone", origin="/home")
    assert answer.status_code == 422
    message = "Visibility must be public, unlisted, private or direct."
    assert f'id="visibility-error" data-error-for="visibility">{message}</p>' in answer.text
    assert '<select id="visibility" name="visibility" aria-describedby="visibility-error"' in (
        answer.text
    )
    assert 'aria-describedby="visibility-error" aria-invalid="true">' in answer.text
    assert "kept words</textarea>" in answer.text


async def test_junk_in_reply_to_is_refused_not_posted_at_the_top(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "a post to reply to"))
    token = await web.token(client)
    for junk in ("abc", "12x", "9" * 25, str(2**63), "-5", "0"):
        data = {"csrf": token, "text": f"reply {junk}", "in_reply_to_id": junk, "origin": posted}
        answer = await client.post("/compose", data=data)
        assert answer.status_code == 422, junk
        assert GONE in answer.text and f"reply {junk}</textarea>" in answer.text, junk
        script = await client.post("/compose", data=data, headers={"X-Requested-With": "fetch"})
        assert script.status_code == 422
        assert script.json() == {"errors": {"form": "The post you are replying to is gone."}}
    profile = await client.get("/@alice")
    assert profile.text.count('class="status') == 1, "nothing was posted"


async def test_a_refused_edit_keeps_the_typed_text(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "typo here"))
    status_id = posted.rsplit("/", 1)[1]
    token = await web.token(client)
    typed = "a much longer text, " * 30
    answer = await client.post(
        f"/posts/{status_id}/edit", data={"csrf": token, "text": typed, "spoiler_text": "cw kept"}
    )
    assert answer.status_code == 422
    assert '<details class="card" id="edit" open>' in answer.text
    assert f"{typed}</textarea>" in answer.text and 'value="cw kept"' in answer.text
    assert 'data-error-for="edit-text">Not saved: Text is too long' in answer.text
    assert 'id="edit-text" name="text" rows="4" autofocus aria-describedby="edit-text-error"' in (
        answer.text
    )
    assert "typo here" in (await client.get(posted)).text  # unchanged


async def test_a_reply_posted_by_the_script_sits_in_its_thread(web, client) -> None:
    await web.sign_up(client, "alice")
    posted = location(await web.post(client, "start of a thread"))
    token = await web.token(client)
    data = {"csrf": token, "text": "a reply", "in_reply_to_id": posted.rsplit("/", 1)[1]}
    data["next"] = posted
    made = await client.post("/compose", data=data, headers={"X-Requested-With": "fetch"})
    assert "a reply" in made.json()["html"] and "In a conversation" not in made.json()["html"]
    elsewhere = await client.get("/public")
    assert "In a conversation" in elsewhere.text  # outside its thread, the reply says so


async def test_a_post_page_shows_its_ancestors_and_replies(web, client) -> None:
    await web.sign_up(client, "alice")
    ids = [location(await web.post(client, "first in the chain")).rsplit("/", 1)[1]]
    for words in ("second in the chain", "third in the chain"):
        answer = await web.post(client, words, in_reply_to_id=ids[-1])
        ids.append(location(answer).rsplit("#post-", 1)[1])
    chain = [f"/@alice/{i}" for i in ids]
    last = (await client.get(chain[2])).text
    earlier = last.split('aria-label="Earlier in the conversation">')[1].split("</section>")[0]
    assert re.findall(r'id="post-(\d+)"', earlier) == ids[:2]
    assert "In a conversation" not in earlier
    assert 'class="status focus" id="post-' + ids[2] in last
    root = (await client.get(chain[0])).text
    assert "Earlier in the conversation" not in root
    replies = root.split('aria-label="Replies"')[1]
    assert re.findall(r'id="post-(\d+)"', replies) == ids[1:]
