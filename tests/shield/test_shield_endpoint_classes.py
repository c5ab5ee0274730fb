"""Every API route has a shield class and cost (roost.shield.endpoints.classify), and the new
client endpoints (issue 14) land where their cost says: trends with search (browned out first),
streams with streams, instance facts exempt, writes as writes, reads as reads."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from roost.api.routes import routes
from roost.shield.endpoints import POLICIES, Endpoint, classify


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "123", path)


def test_every_api_route_has_a_class_with_a_cost() -> None:
    for route in routes:
        if not isinstance(route, Route):
            continue
        for method in route.methods - {"HEAD"}:
            found = classify(method, _sample(route.path))
            assert found in POLICIES and POLICIES[found].cost > 0, (method, route.path)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/trends/statuses", Endpoint.SEARCH),
        ("GET", "/api/v1/trends/links", Endpoint.SEARCH),
        ("GET", "/api/v1/streaming/list", Endpoint.STREAMING),
        ("GET", "/api/v1/streaming/direct", Endpoint.STREAMING),
        ("GET", "/api/v1/instance/peers", Endpoint.EXEMPT),
        ("GET", "/api/v1/instance/rules", Endpoint.EXEMPT),
        ("GET", "/api/v1/instance/activity", Endpoint.EXEMPT),
        ("GET", "/media/original/3f/3fa9c1.jpg", Endpoint.EXEMPT),  # like /static/ (issue: media)
        ("GET", "/api/v1/followed_tags", Endpoint.READ),
        ("GET", "/api/v1/tags/birds", Endpoint.READ),
        ("GET", "/api/v1/timelines/list/123", Endpoint.READ),
        ("GET", "/api/v1/conversations", Endpoint.READ),
        ("GET", "/api/v2/filters", Endpoint.READ),
        ("GET", "/api/v1/announcements", Endpoint.READ),
        ("POST", "/api/v1/tags/birds/follow", Endpoint.WRITE),
        ("POST", "/api/v1/lists", Endpoint.WRITE),
        ("POST", "/api/v1/lists/123/accounts", Endpoint.WRITE),
        ("POST", "/api/v2/filters", Endpoint.WRITE),
        ("PUT", "/api/v2/filters/123", Endpoint.WRITE),
        ("DELETE", "/api/v1/conversations/123", Endpoint.WRITE),
        ("POST", "/api/v1/statuses/123/pin", Endpoint.WRITE),
        ("POST", "/api/v1/announcements/123/dismiss", Endpoint.WRITE),
        ("POST", "/api/v1/statuses", Endpoint.POST),  # with a poll too: a post's cost and limit
        ("POST", "/api/v2/media", Endpoint.UPLOAD),
        ("POST", "/api/v1/media", Endpoint.UPLOAD),
        ("PATCH", "/api/v1/accounts/update_credentials", Endpoint.UPLOAD),
        ("POST", "/compose/media", Endpoint.UPLOAD),
        ("POST", "/settings/pictures", Endpoint.UPLOAD),
        ("GET", "/api/v1/media/123", Endpoint.READ),  # polling an upload is a cheap read
        ("PUT", "/api/v1/media/123", Endpoint.WRITE),  # alt text
    ],
)
def test_the_new_client_endpoints_are_classed_by_their_cost(method, path, expected) -> None:
    assert classify(method, path) is expected
    # only search and uploads brown out: both cost far more CPU than what they answer
    assert not POLICIES[expected].expensive or expected in (Endpoint.SEARCH, Endpoint.UPLOAD)


def test_uploads_cost_what_a_picture_costs_and_are_limited_per_account() -> None:
    upload = POLICIES[Endpoint.UPLOAD]
    assert upload.cost >= POLICIES[Endpoint.POST].cost
    assert upload.limit is not None and upload.limit.burst == 30  # Mastodon: 30 in 30 minutes
