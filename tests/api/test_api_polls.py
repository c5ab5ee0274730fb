"""Polls (Mastodon 4): made with a post (JSON and form), read, voted on once, their totals
hidden until they end if asked, ended and told to voters and author."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from roost.services import polls as poll_service
from roost.services.context import now
from roost.store.tables import polls
from tests.api.conftest import bearer

FIVE_MINUTES = 300


def _poll(api, user, options=("tea", "coffee"), **extra) -> dict:
    poll = {"options": list(options), "expires_in": FIVE_MINUTES, **extra}
    return api.status(user, "Which one?", poll=poll)


def _end(api, poll_id: str) -> int:
    """Move the poll's end into the past, then run the look for ended polls once."""
    ctx = api.client.app.state.ctx

    async def end() -> int:
        async with ctx.db.write() as tx:
            await tx.conn.execute(
                update(polls)
                .where(polls.c.status_id == int(poll_id))
                .values(expires_at=now() - timedelta(seconds=1))
            )
        return await poll_service.tell_ended(ctx)

    return api.client.portal.call(end)


def _vote(api, user, poll_id: str, *choices):
    return api.client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": list(choices)}, headers=user.headers
    )


def test_a_post_with_a_poll_made_with_json_carries_it(api):
    alice = api.user("alice")
    made = _poll(api, alice, ("tea", "coffee", "water"), multiple=True)
    poll = made["poll"]
    assert poll["id"] == made["id"]
    assert poll["multiple"] is True and poll["expired"] is False
    assert poll["votes_count"] == 0 and poll["voters_count"] == 0
    assert poll["options"] == [
        {"title": "tea", "votes_count": 0},
        {"title": "coffee", "votes_count": 0},
        {"title": "water", "votes_count": 0},
    ]
    assert poll["emojis"] == [] and poll["voted"] is False and poll["own_votes"] == []
    assert poll["expires_at"].endswith("Z")
    shown = api.client.get(f"/api/v1/polls/{poll['id']}", headers=alice.headers).json()
    assert shown == poll
    assert api.client.get(f"/api/v1/statuses/{made['id']}").json()["poll"]["id"] == poll["id"]


def test_a_poll_made_with_a_form(api):
    alice = api.user("alice")
    sent = api.client.post(
        "/api/v1/statuses",
        data={
            "status": "Form poll",
            "poll[options][]": ["yes", "no"],
            "poll[expires_in]": "600",
            "poll[hide_totals]": "true",
        },
        headers=alice.headers,
    )
    assert sent.status_code == 200, sent.text
    poll = sent.json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["yes", "no"]
    assert poll["multiple"] is False


@pytest.mark.parametrize(
    ("poll", "said"),
    [
        ({"options": ["only"], "expires_in": 300}, "at least 2 options"),
        ({"options": ["a", "b", "c", "d", "e"], "expires_in": 300}, "more than 4 options"),
        ({"options": ["a", "x" * 51], "expires_in": 300}, "longer than 50 characters"),
        ({"options": ["a", " "], "expires_in": 300}, "can't be blank"),
        ({"options": ["a", "a"], "expires_in": 300}, "duplicate"),
        ({"options": ["a", "b"]}, "expires_in can't be blank"),
        ({"options": ["a", "b"], "expires_in": 299}, "at least 300 seconds"),
        ({"options": ["a", "b"], "expires_in": 2_629_747}, "at most 2629746 seconds"),
        ({"options": ["a", "b"], "expires_in": "soon"}, "must be a whole number"),
        ({"options": ["a", "b"], "expires_in": 10**40}, "at most"),
        (["a", "b"], "poll must be an object"),
    ],
)
def test_a_poll_that_breaks_a_rule_is_refused(sqlite_api, poll, said):
    api = sqlite_api
    alice = api.user("alice")
    sent = api.client.post(
        "/api/v1/statuses", json={"status": "Q", "poll": poll}, headers=alice.headers
    )
    assert sent.status_code == 422, sent.text
    assert said in sent.json()["error"]


def test_the_instance_advertises_the_limits_it_keeps(sqlite_api):
    limits = sqlite_api.client.get("/api/v2/instance").json()["configuration"]["polls"]
    assert limits == {
        "max_options": 4,
        "max_characters_per_option": 50,
        "min_expiration": 300,
        "max_expiration": 2_629_746,
    }


def test_an_edit_cannot_add_a_poll(api):
    alice = api.user("alice")
    made = api.status(alice, "no poll")
    for body in ({"status": "now", "poll": {"options": ["a", "b"], "expires_in": 300}},):
        edited = api.client.put(f"/api/v1/statuses/{made['id']}", json=body, headers=alice.headers)
        assert edited.status_code == 422 and "edit" in edited.json()["error"]
    form = api.client.put(
        f"/api/v1/statuses/{made['id']}",
        data={"status": "now", "poll[options][]": ["a", "b"], "poll[expires_in]": "300"},
        headers=alice.headers,
    )
    assert form.status_code == 422


def test_voting_once_on_a_single_choice_poll(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    poll_id = _poll(api, alice)["poll"]["id"]
    voted = _vote(api, bob, poll_id, 1)
    assert voted.status_code == 200, voted.text
    poll = voted.json()
    assert poll["voted"] is True and poll["own_votes"] == [1]
    assert [o["votes_count"] for o in poll["options"]] == [0, 1]
    assert poll["votes_count"] == 1 and poll["voters_count"] == 1
    again = _vote(api, bob, poll_id, 0)
    assert again.status_code == 422 and "already voted" in again.json()["error"]
    two = _vote(api, carol, poll_id, 0, 1)
    assert two.status_code == 422
    for wrong, said in ((2, "does not exist"), (-1, "whole number"), ("x", "whole number")):
        refused = _vote(api, carol, poll_id, wrong)
        assert refused.status_code == 422 and said in refused.json()["error"]
    none = api.client.post(f"/api/v1/polls/{poll_id}/votes", json={}, headers=carol.headers)
    assert none.status_code == 422
    mine = _vote(api, alice, poll_id, 0)  # Mastodon lets the author vote too
    assert mine.status_code == 200 and mine.json()["votes_count"] == 2
    seen_by_carol = api.client.get(f"/api/v1/polls/{poll_id}", headers=carol.headers).json()
    assert seen_by_carol["voted"] is False and seen_by_carol["own_votes"] == []
    anonymous = api.client.get(f"/api/v1/polls/{poll_id}").json()
    assert "voted" not in anonymous and "own_votes" not in anonymous
    assert anonymous["votes_count"] == 2


def test_voting_on_a_multiple_choice_poll_with_a_form(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    poll_id = _poll(api, alice, ("a", "b", "c"), multiple=True)["poll"]["id"]
    voted = api.client.post(
        f"/api/v1/polls/{poll_id}/votes", data={"choices[]": ["0", "2"]}, headers=bob.headers
    )
    assert voted.status_code == 200, voted.text
    assert voted.json()["own_votes"] == [0, 2]
    _vote(api, carol, poll_id, 2)
    poll = api.client.get(f"/api/v1/polls/{poll_id}", headers=carol.headers).json()
    assert [o["votes_count"] for o in poll["options"]] == [1, 0, 2]
    assert poll["votes_count"] == 3 and poll["voters_count"] == 2
    assert _vote(api, bob, poll_id, 1).status_code == 422  # one vote, however many choices


def test_a_vote_shows_at_once_on_timelines_and_statuses(api):
    """The shelf keeps a page's posts between reads: a vote must not leave stale counts."""
    alice, bob = api.user("alice"), api.user("bob")
    made = _poll(api, alice)
    api.drain()
    first = api.client.get("/api/v1/timelines/public", headers=bob.headers).json()
    assert first[0]["poll"]["votes_count"] == 0 and first[0]["poll"]["voted"] is False
    _vote(api, bob, made["id"], 0)
    after = api.client.get("/api/v1/timelines/public", headers=bob.headers).json()
    assert after[0]["poll"]["votes_count"] == 1 and after[0]["poll"]["own_votes"] == [0]
    for_alice = api.client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice.headers)
    assert for_alice.json()[0]["poll"]["voted"] is False
    reposted = api.client.post(f"/api/v1/statuses/{made['id']}/reblog", headers=bob.headers)
    assert reposted.json()["reblog"]["poll"]["own_votes"] == [0]


def test_hidden_totals_show_to_the_author_and_to_all_once_ended(api):
    alice, bob = api.user("alice"), api.user("bob")
    poll_id = _poll(api, alice, hide_totals=True)["poll"]["id"]
    voted = _vote(api, bob, poll_id, 0).json()
    assert [o["votes_count"] for o in voted["options"]] == [None, None]
    assert voted["votes_count"] == 1
    for_author = api.client.get(f"/api/v1/polls/{poll_id}", headers=alice.headers).json()
    assert [o["votes_count"] for o in for_author["options"]] == [1, 0]
    _end(api, poll_id)
    ended = api.client.get(f"/api/v1/polls/{poll_id}", headers=bob.headers).json()
    assert ended["expired"] is True
    assert [o["votes_count"] for o in ended["options"]] == [1, 0]


def test_an_ended_poll_takes_no_vote_and_tells_voters_and_author(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    poll_id = _poll(api, alice)["poll"]["id"]
    _vote(api, bob, poll_id, 1)
    assert _end(api, poll_id) == 1
    assert _end(api, poll_id) == 0  # told once
    late = _vote(api, carol, poll_id, 0)
    assert late.status_code == 422 and "ended" in late.json()["error"]
    shown = api.client.get(f"/api/v1/statuses/{poll_id}", headers=carol.headers).json()
    assert shown["poll"]["expired"] is True
    for user, told in ((alice, True), (bob, True), (carol, False)):
        found = api.client.get(
            "/api/v1/notifications", params={"types[]": "poll"}, headers=user.headers
        ).json()
        assert [(n["type"], n["status"]["id"], n["account"]["id"]) for n in found] == (
            [("poll", poll_id, alice.id)] if told else []
        )


def test_a_poll_whose_post_one_may_not_see_is_not_found(api):
    alice, bob = api.user("alice"), api.user("bob")
    private = api.status(
        alice,
        "followers only",
        visibility="private",
        poll={"options": ["a", "b"], "expires_in": 300},
    )
    poll_id = private["poll"]["id"]
    assert api.client.get(f"/api/v1/polls/{poll_id}", headers=bob.headers).status_code == 404
    assert api.client.get(f"/api/v1/polls/{poll_id}").status_code == 404
    assert _vote(api, bob, poll_id, 0).status_code == 404
    plain = api.status(alice, "no poll here")
    assert api.client.get(f"/api/v1/polls/{plain['id']}").status_code == 404
    assert api.client.get("/api/v1/polls/99999").status_code == 404
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert _vote(api, bob, poll_id, 0).status_code == 200
    direct = api.status(
        alice,
        "@bob a secret vote",
        visibility="direct",
        poll={"options": ["a", "b"], "expires_in": 300},
    )
    assert _vote(api, bob, direct["id"], 1).status_code == 200


def test_scopes(api):
    alice, bob = api.user("alice"), api.user("bob")
    poll_id = _poll(api, alice)["poll"]["id"]
    reader = bearer(api.token_for(bob, "read"))
    pusher = bearer(api.token_for(bob, "push"))
    voted = api.client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=reader)
    assert voted.status_code == 403
    assert api.client.get(f"/api/v1/polls/{poll_id}", headers=pusher).status_code == 403
    assert api.client.get(f"/api/v1/polls/{poll_id}", headers=reader).status_code == 200
    nobody = api.client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    assert nobody.status_code == 401
    bad = bearer("r1.nonsense")
    assert api.client.get(f"/api/v1/polls/{poll_id}", headers=bad).status_code == 401
