"""The API's answers, recorded: a refactoring changes nothing a client can see (issue 13).

One scenario (three people who follow, mention, reply, repost, favourite, bookmark, edit, block,
mute and post at every visibility) is played against a fresh site, and every answer (status,
Link header, body) is compared byte for byte with ``recorded_answers.json``. Ids and times
differ from run to run, so each snowflake id becomes ``<id N>`` in order of first appearance,
each timestamp ``<time>`` and each trend history day ``<day>``; nothing else is touched.

A deliberate change to what clients see is re-recorded with
``ROOST_RECORD=1 .venv/bin/python -m pytest tests/api/test_api_recording.py`` and the diff of
the JSON file is reviewed like code.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

RECORDING = Path(__file__).with_name("recorded_answers.json")
SNOWFLAKE = re.compile(r"(?<![0-9])[0-9]{16,20}(?![0-9])")
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?")
EPOCH = re.compile(r'"created_at":[0-9]{10}')
TREND_DAY = re.compile(r'"day":"[0-9]{10}"')


class Recorder:
    def __init__(self, api) -> None:
        self.api = api
        self.ids: dict[str, str] = {}
        self.answers: list[dict] = []

    def _plain(self, text: str) -> str:
        def name(match: re.Match) -> str:
            return self.ids.setdefault(match.group(0), f"<id {len(self.ids) + 1}>")

        text = SNOWFLAKE.sub(name, text)
        text = EPOCH.sub('"created_at":"<epoch>"', text)
        text = TREND_DAY.sub('"day":"<day>"', text)
        return TIMESTAMP.sub("<time>", text)

    def ask(self, who, method: str, path: str, **body) -> dict:
        headers = who.headers if who is not None else {}
        answer = self.api.client.request(method, path, headers=headers, json=body or None)
        self.api.drain()
        self.answers.append(
            {
                "request": self._plain(f"{method} {path} as {who.username if who else '-'}"),
                "status": answer.status_code,
                "link": self._plain(answer.headers.get("link", "")),
                "body": self._plain(answer.text),
            }
        )
        return (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )


def play(api) -> list[dict]:
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    r = Recorder(api)
    r.ask(
        alice,
        "PATCH",
        "/api/v1/accounts/update_credentials",
        display_name="Alice",
        note="hi #intro",
    )
    r.ask(bob, "POST", f"/api/v1/accounts/{alice.id}/follow")
    r.ask(carol, "POST", f"/api/v1/accounts/{alice.id}/follow")
    r.ask(alice, "POST", f"/api/v1/accounts/{bob.id}/follow")
    first = r.ask(
        alice,
        "POST",
        "/api/v1/statuses",
        status="Hello #roost world, @bob! https://example.org/a?b=1&c=<2>",
    )
    private = r.ask(
        alice, "POST", "/api/v1/statuses", status="followers only #roost", visibility="private"
    )
    direct = r.ask(alice, "POST", "/api/v1/statuses", status="@carol just you", visibility="direct")
    unlisted = r.ask(
        bob,
        "POST",
        "/api/v1/statuses",
        status="quiet one",
        visibility="unlisted",
        spoiler_text="cw",
        sensitive=True,
    )
    reply = r.ask(
        bob, "POST", "/api/v1/statuses", status="@alice hi back", in_reply_to_id=first["id"]
    )
    r.ask(
        carol,
        "POST",
        "/api/v1/statuses",
        status="@alice @bob <b>bold</b> & more",
        in_reply_to_id=reply["id"],
    )
    r.ask(carol, "POST", f"/api/v1/statuses/{first['id']}/favourite")
    r.ask(bob, "POST", f"/api/v1/statuses/{first['id']}/reblog")
    r.ask(carol, "POST", f"/api/v1/statuses/{first['id']}/bookmark")
    r.ask(alice, "PUT", f"/api/v1/statuses/{first['id']}", status="Hello #roost world, edited @bob")
    r.ask(carol, "POST", f"/api/v1/accounts/{bob.id}/mute")
    r.ask(alice, "POST", "/api/v1/markers", **{"home": {"last_read_id": first["id"]}})
    for who in (alice, bob, carol, None):
        r.ask(who, "GET", "/api/v1/timelines/home?limit=5")
        r.ask(who, "GET", "/api/v1/timelines/public")
        r.ask(who, "GET", "/api/v1/timelines/public?limit=2")
        r.ask(who, "GET", "/api/v1/timelines/tag/roost")
        r.ask(who, "GET", f"/api/v1/accounts/{alice.id}")
        r.ask(who, "GET", f"/api/v1/accounts/{alice.id}/statuses")
        r.ask(who, "GET", f"/api/v1/accounts/{alice.id}/statuses?exclude_replies=true&limit=2")
        r.ask(who, "GET", f"/api/v1/accounts/{bob.id}/statuses?exclude_reblogs=true")
        r.ask(who, "GET", f"/api/v1/accounts/{alice.id}/followers")
        r.ask(who, "GET", f"/api/v1/accounts/{alice.id}/following")
        for status in (first, private, direct, unlisted, reply):
            r.ask(who, "GET", f"/api/v1/statuses/{status['id']}")
        r.ask(who, "GET", f"/api/v1/statuses/{reply['id']}/context")
        r.ask(who, "GET", f"/api/v1/statuses/{first['id']}/history")
        r.ask(who, "GET", f"/api/v1/statuses/{first['id']}/favourited_by")
        r.ask(who, "GET", f"/api/v1/statuses/{first['id']}/reblogged_by")
        r.ask(who, "GET", "/api/v2/search?q=roost")
        r.ask(who, "GET", "/api/v1/accounts/lookup?acct=alice")
        r.ask(who, "GET", "/api/v1/trends/tags")
    for who in (alice, bob, carol):
        r.ask(who, "GET", "/api/v1/notifications")
        r.ask(who, "GET", "/api/v1/notifications?types[]=mention&limit=1")
        r.ask(who, "GET", "/api/v1/accounts/verify_credentials")
        r.ask(
            who,
            "GET",
            f"/api/v1/accounts/relationships?id[]={alice.id}&id[]={bob.id}&id[]={carol.id}",
        )
        r.ask(who, "GET", "/api/v1/accounts/search?q=a")
        r.ask(who, "GET", "/api/v1/favourites")
        r.ask(who, "GET", "/api/v1/bookmarks")
        r.ask(who, "GET", "/api/v1/mutes")
        r.ask(who, "GET", "/api/v1/blocks")
        r.ask(who, "GET", "/api/v1/follow_requests")
        r.ask(who, "GET", "/api/v1/markers?timeline[]=home")
        r.ask(who, "GET", f"/api/v1/statuses/{first['id']}/source")
    r.ask(alice, "POST", f"/api/v1/accounts/{carol.id}/block")
    r.ask(carol, "GET", f"/api/v1/statuses/{first['id']}")
    r.ask(alice, "GET", "/api/v1/timelines/home")
    r.ask(bob, "POST", f"/api/v1/statuses/{first['id']}/unreblog")
    r.ask(alice, "DELETE", f"/api/v1/statuses/{private['id']}")
    r.ask(bob, "GET", "/api/v1/timelines/home")
    r.ask(None, "GET", "/api/v1/instance")
    r.ask(None, "GET", "/api/v2/instance")
    r.ask(None, "GET", "/api/v1/custom_emojis")
    return r.answers


def test_the_api_answers_as_recorded(api_with) -> None:
    answers = play(api_with(trends_account_age=0))  # its people are seconds old: let them trend
    if os.environ.get("ROOST_RECORD") == "1":
        RECORDING.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(RECORDING.read_text())
    assert len(answers) == len(recorded)
    for now, then in zip(answers, recorded, strict=True):
        assert now == then, now["request"]
