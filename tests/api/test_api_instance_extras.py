"""What clients ask the instance at start-up besides /api/v2/instance: peers, rules, weekly
activity, the extended description, translation languages, the thumbnail, preferences, and the
unread notification count (Elk, Phanpy, Ice Cubes and Tusky break without them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from roost.config import Settings
from tests.api.conftest import bearer


def test_the_small_instance_endpoints_answer_as_mastodon_does(api):
    for path, expected in (
        ("/api/v1/instance/peers", []),
        ("/api/v1/instance/rules", []),
        ("/api/v1/instance/translation_languages", {}),
        ("/api/v1/instance/extended_description", {"updated_at": None, "content": ""}),
    ):
        response = api.client.get(path)
        assert response.status_code == 200, path
        assert response.json() == expected, path
    v2 = api.client.get("/api/v2/instance").json()
    assert v2["api_versions"] == {"mastodon": 1}
    assert v2["rules"] == [] and api.client.get("/api/v1/instance").json()["rules"] == []


def test_rules_and_description_come_from_the_operators_files(api_with, tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text("# our rules\nBe kind | No harassment, hate or threats.\n\nNo spam\n")
    about = tmp_path / "about.txt"
    about.write_text("We are <small>.\n\nWrite to us.")
    api = api_with(rules_file=str(rules), about_file=str(about))
    expected = [
        {"id": "1", "text": "Be kind", "hint": "No harassment, hate or threats."},
        {"id": "2", "text": "No spam", "hint": ""},
    ]
    assert api.client.get("/api/v1/instance/rules").json() == expected
    assert api.client.get("/api/v2/instance").json()["rules"] == expected
    assert api.client.get("/api/v1/instance").json()["rules"] == expected
    described = api.client.get("/api/v1/instance/extended_description").json()
    assert described["content"] == "<p>We are &lt;small&gt;.</p><p>Write to us.</p>"
    assert datetime.fromisoformat(described["updated_at"]).tzinfo is not None
    rules.write_text("Only one rule\n")  # edited while running: read again, no restart
    assert [r["text"] for r in api.client.get("/api/v1/instance/rules").json()] == ["Only one rule"]


def test_a_rules_file_that_is_not_there_stops_the_process_with_its_name(tmp_path):
    with pytest.raises(SystemExit, match="ROOST_RULES_FILE"):
        Settings.from_env({"ROOST_RULES_FILE": str(tmp_path / "missing.txt")})


def test_activity_counts_twelve_weeks_of_local_posts_logins_and_sign_ups(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.status(alice, "one")
    first = api.status(bob, "two")
    api.client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=alice.headers)
    weeks = api.client.get("/api/v1/instance/activity").json()
    assert len(weeks) == 12
    assert all(set(w) == {"week", "statuses", "logins", "registrations"} for w in weeks)
    assert all(isinstance(v, str) for w in weeks for v in w.values())
    monday = datetime.fromtimestamp(int(weeks[0]["week"]), UTC)
    assert monday.weekday() == 0 and monday.hour == 0 and monday <= datetime.now(UTC)
    assert [int(w["week"]) for w in weeks] == sorted((int(w["week"]) for w in weeks), reverse=True)
    this_week = weeks[0]
    assert this_week["statuses"] == "2"  # the repost is not a post
    assert this_week["registrations"] == "2"
    assert this_week["logins"] == "2"  # two accounts signed in (a token each), counted once
    assert all(w["statuses"] == "0" for w in weeks[1:])


def test_the_thumbnail_the_instance_names_is_a_real_png(api):
    url = api.client.get("/api/v2/instance").json()["thumbnail"]["url"]
    assert api.client.get("/api/v1/instance").json()["thumbnail"] == url
    image = api.client.get(url.removeprefix("http://roost.test"))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and len(image.content) < 2_000


def test_preferences_say_what_posting_does_without_choices(api):
    alice = api.user("alice")
    prefs = api.client.get("/api/v1/preferences", headers=alice.headers)
    assert prefs.status_code == 200
    assert prefs.json() == {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
    post = api.status(alice, "no choices made")
    assert post["visibility"] == "public" and post["sensitive"] is False
    assert api.client.get("/api/v1/preferences").status_code == 401
    wrong = bearer(api.token_for(alice, "read:statuses"))
    assert api.client.get("/api/v1/preferences", headers=wrong).status_code == 403


def test_each_person_sets_their_posting_defaults_and_new_posts_follow_them(api):
    alice, bob = api.user("alice"), api.user("bob")
    changed = api.client.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"privacy": "unlisted", "sensitive": True, "language": "FR"}},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    source = changed.json()["source"]
    assert (source["privacy"], source["sensitive"], source["language"]) == ("unlisted", True, "fr")
    form = api.client.patch(  # a form, as Mastodon.py and the web clients send it
        "/api/v1/accounts/update_credentials",
        data={"source[privacy]": "private"},
        headers=alice.headers,
    )
    assert form.json()["source"]["privacy"] == "private" and form.json()["source"]["sensitive"]
    prefs = api.client.get("/api/v1/preferences", headers=alice.headers).json()
    assert prefs["posting:default:visibility"] == "private"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "fr"
    me = api.client.get("/api/v1/accounts/verify_credentials", headers=alice.headers).json()
    assert me["source"]["privacy"] == "private"
    plain = api.status(alice, "no choices made")
    assert (plain["visibility"], plain["sensitive"], plain["language"]) == ("private", True, "fr")
    chosen = api.status(alice, "chosen", visibility="public", sensitive=False, language="en")
    assert (chosen["visibility"], chosen["sensitive"], chosen["language"]) == (
        "public",
        False,
        "en",
    )
    assert api.status(bob, "bob's own")["visibility"] == "public"  # one person's defaults only
    for wrong in ({"privacy": "direct"}, {"privacy": "everyone"}, {"language": "not a code!"}):
        refused = api.client.patch(
            "/api/v1/accounts/update_credentials", json={"source": wrong}, headers=alice.headers
        )
        assert refused.status_code == 422 and refused.json()["error"], wrong


# --- Notifications: the unread count and the type filters -------------------------------------


def _notified(api):
    """alice, bob, and alice's notifications (newest first): a follow, a mention, a favourite."""
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    api.status(bob, "@alice hello")
    mine = api.status(alice, "mine")
    api.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=bob.headers)
    api.drain()
    found = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    assert [n["type"] for n in found] == ["favourite", "mention", "follow"]
    return alice, bob, found


def _unread(api, user, query: str = "") -> int:
    response = api.client.get(f"/api/v1/notifications/unread_count{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["count"]


def test_unread_count_counts_above_the_notifications_marker(api):
    alice, bob, found = _notified(api)
    assert _unread(api, alice) == 3
    assert _unread(api, alice, "?limit=2") == 2
    assert _unread(api, alice, "?types[]=mention&types[]=follow") == 2
    assert _unread(api, alice, "?exclude_types[]=mention") == 2
    assert _unread(api, alice, f"?account_id={bob.id}") == 3
    assert _unread(api, alice, f"?account_id={alice.id}") == 0
    marker = {"notifications": {"last_read_id": found[1]["id"]}}
    assert api.client.post("/api/v1/markers", json=marker, headers=alice.headers).status_code == 200
    assert _unread(api, alice) == 1
    assert _unread(api, bob) == 0


def test_unread_count_checks_its_token_and_its_limit(api):
    alice, _, _ = _notified(api)
    path = "/api/v1/notifications/unread_count"
    assert api.client.get(path).status_code == 401
    wrong = bearer(api.token_for(alice, "read:statuses"))
    assert api.client.get(path, headers=wrong).status_code == 403
    narrow = bearer(api.token_for(alice, "read:notifications"))
    assert api.client.get(path, headers=narrow).json() == {"count": 3}
    bad = api.client.get(f"{path}?limit=lots", headers=alice.headers)
    assert bad.status_code == 422 and "limit" in bad.json()["error"]
    assert _unread(api, alice, "?limit=5000") == 3  # capped at 1000, as Mastodon caps it


def test_notifications_filter_by_types_and_exclude_types(api):
    alice, _, _ = _notified(api)

    def kinds(query: str) -> list[str]:
        response = api.client.get(f"/api/v1/notifications{query}", headers=alice.headers)
        assert response.status_code == 200, response.text
        return [n["type"] for n in response.json()]

    assert kinds("?types[]=mention") == ["mention"]
    assert kinds("?types[]=follow&types[]=favourite") == ["favourite", "follow"]
    assert kinds("?exclude_types[]=favourite&exclude_types[]=follow") == ["mention"]
    assert kinds("?types[]=mention&exclude_types[]=mention") == []
