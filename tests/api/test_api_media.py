"""Media attachments (issue 15): uploads processed off the request path, cleaned of metadata,
attached to posts in order, refused clearly when they are not what they claim, and let go."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from roost.services import media as media_service
from tests.api.conftest import Api, User
from tests.support import pictures


def upload(api: Api, user: User, data: bytes, name: str = "photo.jpg", version: str = "v2", **form):
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    return api.post(
        f"/api/{version}/media",
        files={"file": (name, data, kind)},
        data=form,
        headers=user.headers,
    )


def uploaded(api: Api, user: User, data: bytes | None = None, **form) -> dict:
    response = upload(api, user, data or pictures.jpeg(), **form)
    assert response.status_code == 200, response.text
    return response.json()


def fetch(api: Api, url: str) -> bytes:
    response = api.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content


def test_an_upload_is_cleaned_turned_and_described(api: Api) -> None:
    alice = api.user("alice")
    sent = pictures.jpeg(200, 100, gps=True, orientation=6)
    entity = uploaded(api, alice, sent, description="A red corner", focus="0.5,-0.25")
    assert entity["type"] == "image"
    assert entity["url"].startswith("http://roost.test/")
    assert entity["preview_url"].startswith("http://roost.test/")
    assert entity["description"] == "A red corner"
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert len(entity["blurhash"]) >= 6
    original = pictures.read(fetch(api, entity["url"]))
    # orientation 6 turns the 200x100 picture upright: 100 wide, 200 high
    assert original.size == (100, 200)
    assert entity["meta"]["original"]["width"] == 100
    assert entity["meta"]["original"]["height"] == 200
    exif = original.getexif()
    assert pictures.GPS_IFD not in exif and not exif.get_ifd(pictures.GPS_IFD)
    assert 0x010F not in exif  # the camera's make went too: every field is dropped
    assert b"RoostCam" not in fetch(api, entity["url"])
    small = pictures.read(fetch(api, entity["preview_url"]))
    assert abs(small.width / small.height - 0.5) < 0.05  # the small keeps the aspect


def test_the_owner_reads_back_and_describes_an_upload_nobody_else_sees(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    media_id = uploaded(api, alice)["id"]
    assert api.get(f"/api/v1/media/{media_id}", headers=alice.headers).status_code == 200
    assert api.get(f"/api/v1/media/{media_id}", headers=bob.headers).status_code == 404
    changed = api.put(
        f"/api/v1/media/{media_id}", json={"description": "Now described"}, headers=alice.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "Now described"
    refused = api.put(f"/api/v1/media/{media_id}", json={"description": "x"}, headers=bob.headers)
    assert refused.status_code == 404
    bad_focus = api.put(f"/api/v1/media/{media_id}", json={"focus": "3,0"}, headers=alice.headers)
    assert bad_focus.status_code == 422


def test_attachments_keep_their_order_and_show_everywhere(api: Api) -> None:
    alice = api.user("alice")
    ids = [uploaded(api, alice, pictures.png(10 + i, 10))["id"] for i in range(3)]
    order = [ids[2], ids[0], ids[1]]
    post = api.status(alice, "Three pictures", media_ids=order)
    assert [m["id"] for m in post["media_attachments"]] == order
    assert (
        api.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"]
        == (post["media_attachments"])
    )
    public = api.get("/api/v1/timelines/public").json()
    assert [m["id"] for m in public[0]["media_attachments"]] == order
    api.drain()
    home = api.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert [m["id"] for m in home[0]["media_attachments"]] == order
    only = api.get(f"/api/v1/accounts/{alice.id}/statuses", params={"only_media": "true"})
    api.status(alice, "No pictures here")
    assert [s["id"] for s in only.json()] == [post["id"]]


def test_a_post_of_pictures_alone_needs_no_text(api: Api) -> None:
    alice = api.user("alice")
    media_id = uploaded(api, alice)["id"]
    response = api.post("/api/v1/statuses", json={"media_ids": [media_id]}, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["media_attachments"]) == 1
    blank = api.post("/api/v1/statuses", json={"status": " "}, headers=alice.headers)
    assert blank.status_code == 422


def test_attachments_refused_clearly(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    five = [uploaded(api, alice, pictures.png(8, 8))["id"] for _ in range(5)]
    too_many = api.post(
        "/api/v1/statuses", json={"status": "five", "media_ids": five}, headers=alice.headers
    )
    assert too_many.status_code == 422
    assert "at most 4" in too_many.json()["error"]
    theirs = api.post(
        "/api/v1/statuses", json={"status": "mine?", "media_ids": five[:1]}, headers=bob.headers
    )
    assert theirs.status_code == 422
    assert "not found" in theirs.json()["error"]
    api.status(alice, "taken", media_ids=five[:1])
    again = api.post(
        "/api/v1/statuses", json={"status": "again", "media_ids": five[:1]}, headers=alice.headers
    )
    assert again.status_code == 422
    assert "another post" in again.json()["error"]
    with_poll = api.post(
        "/api/v1/statuses",
        json={
            "status": "both",
            "media_ids": five[1:2],
            "poll": {"options": ["a", "b"], "expires_in": 3600},
        },
        headers=alice.headers,
    )
    assert with_poll.status_code == 422
    nonsense = api.post(
        "/api/v1/statuses", json={"status": "x", "media_ids": ["abc"]}, headers=alice.headers
    )
    assert nonsense.status_code == 422


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        (b"just some text, not a picture at all\n" * 10, "notes.png", "image"),
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 200, "clip.jpg", "video and audio"),
        (pictures.bomb_png(), "bomb.png", ""),
        (pictures.polyglot(), "polyglot.jpg", ""),
    ],
    ids=["text-named-png", "video", "decompression-bomb", "polyglot"],
)
def test_what_is_not_a_plain_picture_is_refused_and_the_server_still_serves(
    api: Api, data: bytes, name: str, said: str
) -> None:
    alice = api.user("alice")
    response = upload(api, alice, data, name)
    assert response.status_code == 422, response.text
    assert said in response.json()["error"]
    assert api.get("/api/v1/instance").status_code == 200
    assert uploaded(api, alice)["url"]


def test_an_empty_or_oversized_upload_is_refused(api_with) -> None:
    api = api_with(media=_media(max_image_bytes=50_000))
    alice = api.user("alice")
    assert upload(api, alice, b"").status_code == 422
    big = pictures.jpeg(2000, 2000)
    assert len(big) > 50_000
    assert upload(api, alice, big).status_code == 413
    text_only = api.post("/api/v2/media", data={"description": "x"}, headers=alice.headers)
    assert text_only.status_code == 422


def test_a_slow_upload_answers_202_and_is_polled_until_ready(api_with) -> None:
    api = api_with(media=_media(wait=0.0))
    alice = api.user("alice")
    response = upload(api, alice, pictures.jpeg(1200, 900))
    assert response.status_code in (200, 202), response.text
    media_id = response.json()["id"]
    if response.status_code == 202:
        assert response.json()["url"] is None
    deadline = time.monotonic() + 20
    while True:
        polled = api.get(f"/api/v1/media/{media_id}", headers=alice.headers)
        if polled.status_code == 200 or time.monotonic() > deadline:
            break
        assert polled.status_code == 206
        time.sleep(0.05)
    assert polled.status_code == 200
    assert polled.json()["url"]


def test_v1_upload_answers_when_processed(api: Api) -> None:
    alice = api.user("alice")
    response = upload(api, alice, pictures.png(), "square.png", version="v1")
    assert response.status_code == 200, response.text
    assert response.json()["url"].endswith(".png")


def test_uploads_need_the_media_scope(api: Api) -> None:
    alice = api.user("alice")
    reader = api.token_for(alice, "read")
    response = api.post(
        "/api/v2/media",
        files={"file": ("a.png", pictures.png(), "image/png")},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 403
    assert api.post("/api/v2/media", files={"file": ("a.png", pictures.png())}).status_code == 401


def test_unattached_uploads_are_bounded_and_expire(api_with) -> None:
    api = api_with(media=_media(max_unattached=2, unattached_ttl=0.0))
    alice = api.user("alice")
    kept = [uploaded(api, alice)["id"] for _ in range(2)]
    refused = upload(api, alice, pictures.jpeg())
    assert refused.status_code == 422
    post = api.status(alice, "one kept", media_ids=kept[:1])
    url = post["media_attachments"][0]["url"]
    loose = api.get(f"/api/v1/media/{kept[1]}", headers=alice.headers).json()["url"]
    ctx = api.client.app.state.ctx
    assert api.client.portal.call(media_service.sweep, ctx) == 1
    assert api.get(f"/api/v1/media/{kept[1]}", headers=alice.headers).status_code == 404
    assert api.get(loose).status_code == 404  # its files went with it
    assert api.get(url).status_code == 200  # the attached one stays


def test_delete_and_redraft_attaches_the_same_pictures(api: Api) -> None:
    alice = api.user("alice")
    media_id = uploaded(api, alice, description="kept")["id"]
    post = api.status(alice, "first draft", media_ids=[media_id])
    deleted = api.delete(f"/api/v1/statuses/{post['id']}", headers=alice.headers)
    assert deleted.status_code == 200
    assert [m["id"] for m in deleted.json()["media_attachments"]] == [media_id]
    again = api.status(alice, "second draft", media_ids=[media_id])
    assert again["media_attachments"][0]["description"] == "kept"


def test_an_edit_changes_pictures_and_their_alt_text(api: Api) -> None:
    alice = api.user("alice")
    first, second = uploaded(api, alice)["id"], uploaded(api, alice)["id"]
    post = api.status(alice, "one picture", media_ids=[first])
    kept = api.put(
        f"/api/v1/statuses/{post['id']}", json={"status": "text changed"}, headers=alice.headers
    )
    assert [m["id"] for m in kept.json()["media_attachments"]] == [first]
    swapped = api.put(
        f"/api/v1/statuses/{post['id']}",
        json={
            "status": "two pictures",
            "media_ids": [second, first],
            "media_attributes": [{"id": first, "description": "described later"}],
        },
        headers=alice.headers,
    )
    assert swapped.status_code == 200, swapped.text
    shown = swapped.json()["media_attachments"]
    assert [m["id"] for m in shown] == [second, first]
    assert shown[1]["description"] == "described later"
    seen = api.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"]
    assert seen == shown
    dropped = api.put(
        f"/api/v1/statuses/{post['id']}",
        json={"status": "none left", "media_ids": []},
        headers=alice.headers,
    )
    assert dropped.json()["media_attachments"] == []
    # each revision shows the pictures it had, and their files stay while the post does
    history = api.get(f"/api/v1/statuses/{post['id']}/history").json()
    shown = [[m["id"] for m in revision["media_attachments"]] for revision in history]
    assert shown == [[first], [first], [second, first], []]
    assert api.get(history[0]["media_attachments"][0]["url"]).status_code == 200
    again = api.put(
        f"/api/v1/statuses/{post['id']}",
        json={"status": "back again", "media_ids": [first]},
        headers=alice.headers,
    )
    assert [m["id"] for m in again.json()["media_attachments"]] == [first]
    # the picture the edits took off is still the post's own, not a loose upload to expire
    assert api.get(f"/api/v1/media/{second}", headers=alice.headers).status_code == 200
    refused = api.put(f"/api/v1/media/{second}", json={"description": "x"}, headers=alice.headers)
    assert refused.status_code == 404  # only unattached uploads are described this way


def test_avatar_and_header_are_set_shown_and_removed(api: Api) -> None:
    alice = api.user("alice")
    default = api.get(f"/api/v1/accounts/{alice.id}").json()["avatar"]
    response = api.patch(
        "/api/v1/accounts/update_credentials",
        files={
            "avatar": ("me.jpg", pictures.jpeg(800, 600, gps=True), "image/jpeg"),
            "header": ("wide.png", pictures.png(3000, 600), "image/png"),
        },
        data={"display_name": "Alice A."},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Alice A."
    assert me["avatar"] != default and me["avatar"] == me["avatar_static"]
    avatar = pictures.read(fetch(api, me["avatar"]))
    assert avatar.size == (400, 400)
    assert not avatar.getexif().get_ifd(pictures.GPS_IFD)
    assert pictures.read(fetch(api, me["header"])).size == (1500, 500)
    post = api.status(alice, "with a face")
    assert post["account"]["avatar"] == me["avatar"]
    bad = api.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("x.png", b"not a picture", "image/png")},
        headers=alice.headers,
    )
    assert bad.status_code == 422
    removed = api.delete("/api/v1/profile/avatar", headers=alice.headers)
    assert removed.status_code == 200
    assert removed.json()["avatar"] == default
    assert api.get(me["avatar"]).status_code == 404  # the old file is gone


def test_the_instance_says_what_it_takes(api: Api) -> None:
    configuration = api.get("/api/v2/instance").json()["configuration"]
    assert configuration["statuses"]["max_media_attachments"] == 4
    taken = configuration["media_attachments"]
    assert "image/jpeg" in taken["supported_mime_types"]
    assert not any(t.startswith("video/") for t in taken["supported_mime_types"])
    assert taken["image_size_limit"] > 0
    assert taken["video_size_limit"] == 0


def _media(**changes):
    from roost.config import MediaSettings
    from tests.support.settings import media_dir

    return MediaSettings(dir=media_dir(), **changes)


def test_a_refused_header_takes_the_new_avatar_back_with_it(api: Api) -> None:
    alice = api.user("alice")
    response = api.patch(
        "/api/v1/accounts/update_credentials",
        files={
            "avatar": ("me.jpg", pictures.jpeg(500, 500), "image/jpeg"),
            "header": ("wide.png", pictures.bomb_png(), "image/png"),
        },
        headers=alice.headers,
    )
    assert response.status_code == 422, response.text
    folder = Path(api.client.app.state.ctx.media_files.directory)
    assert not list(folder.glob("avatar/*/*")), "no avatar file left behind"
    me = api.get("/api/v1/accounts/verify_credentials", headers=alice.headers).json()
    assert me["avatar"].endswith("/static/avatar.png")


HOSTILE_MULTIPART = {
    "no-closing-boundary": b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"'
    b"\r\nContent-Type: image/png\r\n\r\n" + pictures.png(),
    "no-boundary-at-all": pictures.png(),
    "three-files": b"".join(
        b'--b\r\nContent-Disposition: form-data; name="f%d"; filename="a.png"\r\n\r\nx\r\n' % n
        for n in range(3)
    )
    + b"--b--\r\n",
    "huge-filename": b'--b\r\nContent-Disposition: form-data; name="file"; filename="'
    + b"a" * 20_000
    + b'.png"\r\n\r\n'
    + pictures.png()
    + b"\r\n--b--\r\n",
    "text-where-the-file-goes": b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
    b"not a file\r\n--b--\r\n",
    "file-where-text-goes": b'--b\r\nContent-Disposition: form-data; name="description"; '
    b'filename="d.txt"\r\n\r\nhello\r\n--b\r\nContent-Disposition: form-data; name="file"; '
    b'filename="a.png"\r\n\r\n' + pictures.png() + b"\r\n--b--\r\n",
    "nul-in-description": b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
    b'a\x00b\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    + pictures.png()
    + b"\r\n--b--\r\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MULTIPART))
@pytest.mark.parametrize("path", ["/api/v2/media", "/api/v1/accounts/update_credentials"])
def test_hostile_multipart_bodies_get_an_answer_never_a_server_error(
    sqlite_api: Api, name: str, path: str
) -> None:
    alice = sqlite_api.user("alice")
    response = sqlite_api.client.request(
        "PATCH" if "credentials" in path else "POST",
        path,
        content=HOSTILE_MULTIPART[name],
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]


def test_an_accounts_uploads_are_bounded_by_the_day(api_with) -> None:
    picture = pictures.png(64, 64)
    api = api_with(media=_media(daily_bytes=len(picture) * 2 + 10))
    alice, bob = api.user("alice"), api.user("bob")
    for _ in range(2):
        api.status(alice, "kept", media_ids=[uploaded(api, alice, picture)["id"]])
    third = upload(api, alice, picture, "third.png")
    assert third.status_code == 422
    assert "in the last 24 hours" in third.json()["error"]
    assert upload(api, bob, picture, "bobs.png").status_code == 200  # one account's bound
