"""One call of a replay, a replay, and what a client does with an answer beyond its shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- One call of a replay ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    source: str  # the client's file that makes the call (repository path)
    needs: Any = None  # the shape of the answer the client reads
    query: list[tuple[str, Any]] | str | None = None  # a str is sent as the client encodes it
    json: Any = None
    form: dict | None = None
    status: int = 200
    token: bool = True  # sent with the signed-in user's token
    # A WebSocket on /api/v1/streaming: the messages the client sends once it is open (all
    # three streaming apps send the token as Sec-WebSocket-Protocol).
    ws_messages: tuple[dict, ...] = ()
    # a further check: check(response, seeded, get), get(url) fetching as the signed-in user
    check: Callable | None = None
    gap: str | None = None  # why Roost does not answer as the client needs (strict xfail)

    @property
    def is_stream(self) -> bool:
        return bool(self.ws_messages)


@dataclass(frozen=True)
class Replay:
    client: str
    repository: str
    commit: str
    calls: list[Call] = field(default_factory=list)


# --- Further checks: what a client does with the answer beyond its shape ------------------------


def _streaming_url_is_a_websocket_base(response, seeded, get) -> None:
    # masto.js opens `${configuration.urls.streaming}/api/v1/streaming`: a ws(s) origin.
    url = response.json()["configuration"]["urls"]["streaming"]
    assert url.startswith(("ws://", "wss://")), url
    assert not url.rstrip("/").endswith("/api/v1/streaming"), url


def _seeded_marker(response, seeded, get) -> None:
    # Elk masto/notification.ts reads position.notifications.lastReadId without a guard.
    assert response.json()["notifications"]["last_read_id"] == seeded["marker_id"]


def _no_prev_link_on_an_empty_page(response, seeded, get) -> None:
    # Tusky NotificationFetcher.kt loops `while (minId != null)`, minId = the page's Link
    # rel="prev": a prev link on an empty page would make it ask forever.
    assert response.json() == []
    assert 'rel="prev"' not in response.headers.get("link", "")


def _home_shows_the_followed_and_the_filtered(response, seeded, get) -> None:
    statuses = response.json()
    ids = [s["id"] for s in statuses]
    assert seeded["heron_id"] in ids and seeded["wren_id"] in ids
    heron = statuses[ids.index(seeded["heron_id"])]
    assert [r["filter"]["title"] for r in heron["filtered"]] == ["Herons"]
    assert heron["filtered"][0]["keyword_matches"] == ["heron"]
    assert heron["favourited"] is True


def _the_list_is_there(response, seeded, get) -> None:
    assert [item["id"] for item in response.json()] == [seeded["list_id"]]


def _the_followed_tag_is_there(response, seeded, get) -> None:
    assert [tag["name"] for tag in response.json()] == ["birds"]


def _statuses_are_the_listed_authors(response, seeded, get) -> None:
    assert {s["account"]["id"] for s in response.json()} == {seeded["bob_id"]}


def _some_carry_a_status(response, seeded, get) -> None:
    # toot api.py _notification_timeline_generator keeps the notifications with a status. Its
    # exclude_types[] arrives as one unknown value (a Python list's repr), which Mastodon
    # ignores: every type comes back, as here.
    kinds = {n["type"] for n in response.json() if n.get("status")}
    assert "mention" in kinds, kinds


def _followings_end(response, seeded, get) -> None:
    # toot api.py _get_response_list follows rel="next" until there is none: that has to end.
    accounts, page = list(response.json()), response
    for _ in range(5):
        found = re.match(r'<([^>]+)>; rel="next"', page.headers.get("link", ""))
        if not found:
            break
        page = get(found.group(1))
        assert page.status_code == 200, page.text
        accounts += page.json()
    else:
        raise AssertionError("rel=next never ends: toot would keep asking")
    assert sorted(a["acct"] for a in accounts) == ["bob", "carol"]


def _personal_timeline_has_no_replies(response, seeded, get) -> None:
    # toot asks exclude_replies=True (Python's str(True)) for the personal timeline.
    statuses = response.json()
    assert statuses and all(s["in_reply_to_id"] is None for s in statuses)
