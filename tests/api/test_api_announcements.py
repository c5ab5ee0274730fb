"""Announcements: written by the operator (the service `roost announce` calls), shown while
active with ``read`` per person, dismissed per person; reactions are refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roost.domain.errors import Invalid
from roost.services import announcements
from tests.api.conftest import bearer


def announce(api, text: str, **when):
    """Publish as `roost announce` does, through the running site's own database."""
    ctx = api.client.app.state.ctx

    async def work():
        async with ctx.db.write() as tx:
            return await announcements.create(ctx, tx, text, **when)

    return api.client.portal.call(work)


def _shown(api, user) -> list[dict]:
    response = api.client.get("/api/v1/announcements", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_active_announcements_are_shown_newest_first_with_their_shape(api):
    alice = api.user("alice")
    now = datetime.now(UTC)
    first = announce(api, "Maintenance tonight, see https://status.example")
    second = announce(api, "Meet-up #roost", starts_at=now - timedelta(hours=1), all_day=True)
    announce(api, "Not yet", starts_at=now + timedelta(days=1))
    announce(api, "Over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    shown = _shown(api, alice)
    assert [a["id"] for a in shown] == [str(second["id"]), str(first["id"])]
    entity = shown[1]
    assert set(entity) == {
        "id", "content", "starts_at", "ends_at", "all_day", "published_at", "updated_at",
        "read", "mentions", "statuses", "tags", "emojis", "reactions",
    }  # fmt: skip
    assert entity["content"].startswith("<p>Maintenance tonight, see <a href=")
    assert entity["starts_at"] is None and entity["ends_at"] is None
    assert entity["all_day"] is False and entity["read"] is False
    assert entity["published_at"].endswith("Z") and entity["updated_at"].endswith("Z")
    assert all(entity[k] == [] for k in ("mentions", "statuses", "tags", "emojis", "reactions"))
    assert shown[0]["all_day"] is True and shown[0]["starts_at"].endswith("Z")


def test_dismissing_marks_read_for_that_person_only(api):
    alice, bob = api.user("alice"), api.user("bob")
    made = announce(api, "Hello everyone")
    path = f"/api/v1/announcements/{made['id']}/dismiss"
    for _ in range(2):  # dismissing twice is dismissing once
        response = api.client.post(path, headers=alice.headers)
        assert response.status_code == 200 and response.json() == {}
    assert _shown(api, alice)[0]["read"] is True
    assert _shown(api, bob)[0]["read"] is False


def test_announcements_check_tokens_scopes_and_ids(api):
    alice = api.user("alice")
    made = announce(api, "Hello")
    assert api.client.get("/api/v1/announcements").status_code == 401
    writer = bearer(api.token_for(alice, "write"))
    assert api.client.get("/api/v1/announcements", headers=writer).status_code == 403
    reader = bearer(api.token_for(alice, "read"))
    dismiss = f"/api/v1/announcements/{made['id']}/dismiss"
    assert api.client.post(dismiss).status_code == 401
    assert api.client.post(dismiss, headers=reader).status_code == 403
    accounts_only = bearer(api.token_for(alice, "write:accounts"))
    assert api.client.post(dismiss, headers=accounts_only).status_code == 200
    for missing in ("/api/v1/announcements/999/dismiss", "/api/v1/announcements/x1/dismiss"):
        response = api.client.post(missing, headers=alice.headers)
        assert response.status_code == 404 and "error" in response.json()


def test_reactions_are_refused_as_not_supported(api):
    alice = api.user("alice")
    made = announce(api, "React to me")
    path = f"/api/v1/announcements/{made['id']}/reactions/%F0%9F%91%8D"
    for method in ("PUT", "DELETE"):
        response = api.client.request(method, path, headers=alice.headers)
        assert response.status_code == 422
        assert "not supported" in response.json()["error"]
    unknown = api.client.put("/api/v1/announcements/999/reactions/x", headers=alice.headers)
    assert unknown.status_code == 404
    assert api.client.put(path).status_code == 401


def test_an_announcement_needs_text_and_ends_after_it_starts(api):
    now = datetime.now(UTC)
    with pytest.raises(Invalid):
        announce(api, "   ")
    with pytest.raises(Invalid):
        announce(api, "Backwards", starts_at=now, ends_at=now - timedelta(hours=1))
