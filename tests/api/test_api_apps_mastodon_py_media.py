"""Issue 15's pictures through Mastodon.py, against a real `roost serve`: media_post (as apps
call it, without waiting, and synchronously), status_post with media_ids, media_update,
status_update with media_attributes, account_update_credentials with an avatar and a header,
and delete-and-redraft."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_api_apps_mastodon_py import _client
from tests.support import pictures

pytestmark = pytest.mark.slow


def test_pictures_through_mastodon_py(live_api, helpers, tmp_path):
    live_api.user("alice")
    alice = _client(live_api, "alice", helpers.password)
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(pictures.jpeg(640, 480, gps=True, orientation=6))
    square = tmp_path / "square.png"
    square.write_bytes(pictures.png(300, 300))

    # open files, not paths: Mastodon.py leaves the files it opens itself unclosed
    with photo.open("rb") as sent:
        first = alice.media_post(sent, "image/jpeg", description="A red corner", focus=(0.1, -0.2))
    assert first["url"], "a picture is processed within the upload's wait: apps need not poll"
    assert first["meta"]["original"]["width"] == 480  # turned upright
    with square.open("rb") as sent:
        second = alice.media_post(sent, "image/png", synchronous=True)
    assert second["url"].endswith(".png")
    assert alice.media_update(second, description="A green square")["description"] == (
        "A green square"
    )

    post = alice.status_post("Two pictures", media_ids=[second, first])
    assert [m["id"] for m in post["media_attachments"]] == [second["id"], first["id"]]
    shown = httpx.get(post["media_attachments"][1]["url"])
    assert shown.status_code == 200
    assert not pictures.read(shown.content).getexif().get_ifd(pictures.GPS_IFD)

    # media_attributes alone: Mastodon.py 2.3.3 fails to join them with media_ids (set + set)
    edited = alice.status_update(
        post,
        "One picture now",
        media_attributes=[{"id": first["id"], "description": "Described again"}],
    )
    assert [m["description"] for m in edited["media_attachments"]] == ["Described again"]

    with photo.open("rb") as avatar, square.open("rb") as header:
        me = alice.account_update_credentials(
            avatar=avatar,
            avatar_mime_type="image/jpeg",
            header=header,
            header_mime_type="image/png",
        )
    assert pictures.read(httpx.get(me["avatar"]).content).size == (400, 400)
    assert pictures.read(httpx.get(me["header"]).content).size == (300, 100)  # 3:1, not enlarged
    assert alice.status(post["id"])["account"]["avatar"] == me["avatar"]

    gone = alice.status_delete(post)
    redraft = alice.status_post(gone["text"] or "Again", media_ids=gone["media_attachments"])
    assert [m["id"] for m in redraft["media_attachments"]] == [first["id"]]
    mine = alice.account_statuses(me["id"], only_media=True)
    assert [s["id"] for s in mine] == [redraft["id"]]
