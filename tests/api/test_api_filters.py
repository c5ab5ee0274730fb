"""Filters (Mastodon 4): version 2 with keywords and chosen posts, and version 1 (one keyword
each), as Tusky, Ice Cubes, Phanpy and Elk manage them."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer


def _create(api, user, **body) -> dict:
    response = api.client.post("/api/v2/filters", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_filter_is_made_with_keywords_read_changed_and_deleted(api):
    bob = api.user("bob")
    made = _create(
        api,
        bob,
        title="Spoilers",
        context=["home", "public"],
        filter_action="hide",
        expires_in=3600,
        keywords_attributes=[{"keyword": "finale", "whole_word": True}, {"keyword": "ending"}],
    )
    assert made["title"] == "Spoilers" and made["context"] == ["home", "public"]
    assert made["filter_action"] == "hide" and made["expires_at"] is not None
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [
        ("finale", True),
        ("ending", True),
    ]
    assert made["statuses"] == []
    listed = api.client.get("/api/v2/filters", headers=bob.headers).json()
    assert listed == [made]
    assert api.client.get(f"/api/v2/filters/{made['id']}", headers=bob.headers).json() == made

    finale, ending = made["keywords"]
    changed = api.client.put(
        f"/api/v2/filters/{made['id']}",
        json={
            "title": "No spoilers",
            "filter_action": "warn",
            "expires_in": "",
            "keywords_attributes": [
                {"id": finale["id"], "keyword": "season finale", "whole_word": False},
                {"id": ending["id"], "_destroy": True},
                {"keyword": "twist"},
            ],
        },
        headers=bob.headers,
    ).json()
    assert changed["title"] == "No spoilers" and changed["filter_action"] == "warn"
    assert changed["context"] == ["home", "public"] and changed["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [
        ("season finale", False),
        ("twist", True),
    ]
    gone = api.client.delete(f"/api/v2/filters/{made['id']}", headers=bob.headers)
    assert gone.status_code == 200 and gone.json() == {}
    assert api.client.get("/api/v2/filters", headers=bob.headers).json() == []
    assert api.client.get(f"/api/v2/filters/{made['id']}", headers=bob.headers).status_code == 404


def test_forms_send_nested_keywords_as_rails_reads_them(api):
    bob = api.user("bob")
    positional = api.client.post(
        "/api/v2/filters",
        content=(
            "title=Birds&context[]=home&context[]=thread"
            "&keywords_attributes[][keyword]=heron&keywords_attributes[][whole_word]=false"
            "&keywords_attributes[][keyword]=wren&keywords_attributes[][whole_word]=true"
        ),
        headers={**bob.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert positional.status_code == 200, positional.text
    found = positional.json()
    assert found["context"] == ["home", "thread"] and found["filter_action"] == "warn"
    assert [(k["keyword"], k["whole_word"]) for k in found["keywords"]] == [
        ("heron", False),
        ("wren", True),
    ]
    indexed = api.client.post(
        "/api/v2/filters",
        data={
            "title": "Cats",
            "context[]": "notifications",
            "keywords_attributes[1][keyword]": "tabby",
            "keywords_attributes[0][keyword]": "kitten",
        },
        headers=bob.headers,
    )
    assert indexed.status_code == 200, indexed.text
    assert [k["keyword"] for k in indexed.json()["keywords"]] == ["kitten", "tabby"]


def test_keywords_and_posts_of_a_filter_have_their_own_calls(api):
    alice, bob = api.user("alice"), api.user("bob")
    made = _create(api, bob, title="Noise", context=["home"])
    base = f"/api/v2/filters/{made['id']}"
    added = api.client.post(f"{base}/keywords", json={"keyword": "crypto"}, headers=bob.headers)
    assert added.status_code == 200 and added.json()["keyword"] == "crypto"
    keyword_url = f"/api/v2/filters/keywords/{added.json()['id']}"
    assert api.client.get(f"{base}/keywords", headers=bob.headers).json() == [added.json()]
    renamed = api.client.put(
        keyword_url, json={"keyword": "nft", "whole_word": False}, headers=bob.headers
    )
    assert renamed.json() == {**added.json(), "keyword": "nft", "whole_word": False}
    assert api.client.delete(keyword_url, headers=bob.headers).json() == {}
    assert api.client.get(keyword_url, headers=bob.headers).status_code == 404

    post = api.status(alice, "buy my token")
    private = api.status(alice, "only followers", visibility="private")
    chosen = api.client.post(
        f"{base}/statuses", json={"status_id": post["id"]}, headers=bob.headers
    )
    assert chosen.status_code == 200 and chosen.json()["status_id"] == post["id"]
    again = api.client.post(f"{base}/statuses", json={"status_id": post["id"]}, headers=bob.headers)
    assert again.status_code == 422
    hidden = api.client.post(
        f"{base}/statuses", json={"status_id": private["id"]}, headers=bob.headers
    )
    assert hidden.status_code == 404  # a post bob cannot see is not his to filter
    assert api.client.get(f"{base}/statuses", headers=bob.headers).json() == [chosen.json()]
    status_url = f"/api/v2/filters/statuses/{chosen.json()['id']}"
    assert api.client.get(status_url, headers=bob.headers).json() == chosen.json()
    assert api.client.delete(status_url, headers=bob.headers).json() == {}
    assert api.client.get(f"{base}/statuses", headers=bob.headers).json() == []


def test_version_1_sees_each_keyword_as_a_filter(api):
    bob = api.user("bob")
    made = api.client.post(
        "/api/v1/filters",
        json={"phrase": "election", "context": ["home", "public"], "irreversible": True},
        headers=bob.headers,
    )
    assert made.status_code == 200, made.text
    v1 = made.json()
    assert v1["phrase"] == "election" and v1["irreversible"] is True and v1["whole_word"] is True
    assert v1["context"] == ["home", "public"] and v1["expires_at"] is None
    v2 = api.client.get("/api/v2/filters", headers=bob.headers).json()
    assert [(f["title"], f["filter_action"]) for f in v2] == [("election", "hide")]
    assert v2[0]["keywords"][0]["id"] == v1["id"]
    changed = api.client.put(
        f"/api/v1/filters/{v1['id']}",
        json={
            "phrase": "elections",
            "context": ["thread"],
            "irreversible": False,
            "expires_in": 60,
        },
        headers=bob.headers,
    ).json()
    assert changed["phrase"] == "elections" and changed["context"] == ["thread"]
    assert changed["irreversible"] is False and changed["expires_at"] is not None
    assert api.client.get("/api/v1/filters", headers=bob.headers).json() == [changed]
    assert api.client.delete(f"/api/v1/filters/{v1['id']}", headers=bob.headers).json() == {}
    assert api.client.get("/api/v2/filters", headers=bob.headers).json() == []  # emptied, gone


@pytest.mark.parametrize(
    "body",
    [
        {"context": ["home"]},
        {"title": "x", "context": []},
        {"title": "x", "context": ["everywhere"]},
        {"title": "x", "context": ["home"], "filter_action": "explode"},
        {"title": "x", "context": ["home"], "expires_in": "soon"},
        {"title": "x", "context": ["home"], "expires_in": -5},
        {"title": "x" * 201, "context": ["home"]},
        {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": " "}]},
        {"title": "x", "context": ["home"], "keywords_attributes": "finale"},
        {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ["a"]}]},
    ],
)
def test_wrong_filters_are_refused_with_a_message(sqlite_api, body):
    bob = sqlite_api.user("bob")
    refused = sqlite_api.client.post("/api/v2/filters", json=body, headers=bob.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]
    assert sqlite_api.client.get("/api/v2/filters", headers=bob.headers).json() == []


def test_a_ten_thousand_keyword_filter_is_refused_whole(sqlite_api):
    bob = sqlite_api.user("bob")
    flood = [{"keyword": f"word{n}"} for n in range(10_000)]
    for many, status in ((flood, 413), (flood[:101], 422)):  # over 64 KiB; over 100 keywords
        body = {"title": "x", "context": ["home"], "keywords_attributes": many}
        refused = sqlite_api.client.post("/api/v2/filters", json=body, headers=bob.headers)
        assert refused.status_code == status and refused.json()["error"], refused.text
    assert sqlite_api.client.get("/api/v2/filters", headers=bob.headers).json() == []
    made = _create(sqlite_api, bob, title="y", context=["home"], keywords_attributes=flood[:100])
    one_more = sqlite_api.client.post(
        f"/api/v2/filters/{made['id']}/keywords", json={"keyword": "more"}, headers=bob.headers
    )
    assert one_more.status_code == 422  # the hundred-and-first, one at a time


def test_nobody_reads_or_changes_someone_elses_filters(api):
    alice, bob = api.user("alice"), api.user("bob")
    made = _create(api, bob, title="Mine", context=["home"], keywords_attributes=[{"keyword": "a"}])
    keyword_id = made["keywords"][0]["id"]
    for method, path in [
        ("GET", f"/api/v2/filters/{made['id']}"),
        ("PUT", f"/api/v2/filters/{made['id']}"),
        ("DELETE", f"/api/v2/filters/{made['id']}"),
        ("GET", f"/api/v2/filters/{made['id']}/keywords"),
        ("POST", f"/api/v2/filters/{made['id']}/keywords"),
        ("GET", f"/api/v2/filters/keywords/{keyword_id}"),
        ("DELETE", f"/api/v2/filters/keywords/{keyword_id}"),
        ("GET", f"/api/v1/filters/{keyword_id}"),
        ("DELETE", f"/api/v1/filters/{keyword_id}"),
    ]:
        response = api.client.request(method, path, json={"keyword": "b"}, headers=alice.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert api.client.get("/api/v2/filters", headers=alice.headers).json() == []
    assert api.client.get("/api/v2/filters", headers=bob.headers).json() == [made]


def test_filters_need_the_filters_scopes(api):
    bob = api.user("bob")
    assert api.client.get("/api/v2/filters").status_code == 401
    assert api.client.get("/api/v1/filters").status_code == 401
    reader = bearer(api.token_for(bob, "read:filters"))
    assert api.client.get("/api/v2/filters", headers=reader).status_code == 200
    body = {"title": "x", "context": ["home"]}
    assert api.client.post("/api/v2/filters", json=body, headers=reader).status_code == 403
    other = bearer(api.token_for(bob, "read:statuses write:statuses"))
    assert api.client.get("/api/v1/filters", headers=other).status_code == 403
    writer = bearer(api.token_for(bob, "write:filters"))
    assert api.client.post("/api/v2/filters", json=body, headers=writer).status_code == 200


def _home(api, user) -> dict[str, dict]:
    api.drain()
    return {
        s["id"]: s for s in api.client.get("/api/v1/timelines/home", headers=user.headers).json()
    }


def test_a_warning_filter_marks_matching_posts_for_their_viewer_only(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    for reader in (bob, carol):
        api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=reader.headers)
    made = _create(
        api, bob, title="Spoilers", context=["home"], keywords_attributes=[{"keyword": "finale"}]
    )
    post = api.status(alice, "That FINALE though")
    plain = api.status(alice, "nothing to see")
    own = api.status(bob, "my own finale thoughts")
    seen = _home(api, bob)
    assert seen[plain["id"]]["filtered"] == [] and seen[own["id"]]["filtered"] == []
    assert seen[post["id"]]["filtered"] == [
        {
            "filter": {
                "id": made["id"],
                "title": "Spoilers",
                "context": ["home"],
                "expires_at": None,
                "filter_action": "warn",
            },
            "keyword_matches": ["finale"],
            "status_matches": None,
        }
    ]
    assert _home(api, carol)[post["id"]]["filtered"] == []  # the shelf's entity stays clean
    shown = api.client.get(f"/api/v1/statuses/{post['id']}", headers=bob.headers).json()
    assert shown["filtered"] == seen[post["id"]]["filtered"]  # the same on every read
    api.client.delete(f"/api/v2/filters/{made['id']}", headers=bob.headers)
    assert _home(api, bob)[post["id"]]["filtered"] == []  # gone at once


def test_a_hiding_filter_leaves_posts_out_only_where_it_applies(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    _create(
        api,
        bob,
        title="Crypto",
        context=["home", "thread"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "token"}],
    )
    post = api.status(alice, "buy my token")
    reply = api.status(carol, "a token reply", in_reply_to_id=post["id"])
    kept = api.status(alice, "a quiet day")
    repost = api.client.post(f"/api/v1/statuses/{post['id']}/reblog", headers=carol.headers).json()
    api.client.post(f"/api/v1/accounts/{carol.id}/follow", headers=bob.headers)
    home = _home(api, bob)
    assert kept["id"] in home and post["id"] not in home and repost["id"] not in home
    public = api.client.get("/api/v1/timelines/public", headers=bob.headers).json()
    found = {s["id"]: s for s in public}
    assert post["id"] in found  # not filtered in public: told, and the client judges
    assert found[post["id"]]["filtered"][0]["filter"]["filter_action"] == "hide"
    thread = api.client.get(f"/api/v1/statuses/{post['id']}/context", headers=bob.headers).json()
    assert thread["descendants"] == []
    others = api.client.get(f"/api/v1/statuses/{post['id']}/context", headers=carol.headers).json()
    assert [s["id"] for s in others["descendants"]] == [reply["id"]]


def test_a_chosen_post_and_its_reposts_carry_the_match(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    api.client.post(f"/api/v1/accounts/{carol.id}/follow", headers=bob.headers)
    post = api.status(alice, "an ordinary post")
    made = _create(api, bob, title="This one", context=["home"])
    api.client.post(
        f"/api/v2/filters/{made['id']}/statuses",
        json={"status_id": post["id"]},
        headers=bob.headers,
    )
    repost = api.client.post(f"/api/v1/statuses/{post['id']}/reblog", headers=carol.headers).json()
    seen = _home(api, bob)[repost["id"]]
    for entity in (seen, seen["reblog"]):
        assert entity["filtered"][0]["status_matches"] == [post["id"]]
        assert entity["filtered"][0]["keyword_matches"] is None


def test_filters_act_on_notifications_in_their_context(api):
    alice, bob = api.user("alice"), api.user("bob")
    _create(
        api,
        bob,
        title="No spam",
        context=["notifications"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "prize"}],
    )
    _create(api, bob, title="Careful", context=["home"], keywords_attributes=[{"keyword": "hello"}])
    api.status(alice, "@bob you won a prize")
    greeting = api.status(alice, "@bob hello there")
    api.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    seen = api.client.get("/api/v1/notifications", headers=bob.headers).json()
    assert [n["type"] for n in seen] == ["follow", "mention"]  # the prize mention is hidden
    mention = seen[1]["status"]
    assert mention["id"] == greeting["id"]
    assert [f["filter"]["title"] for f in mention["filtered"]] == ["Careful"]
