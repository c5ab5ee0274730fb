"""Hostile bodies on every route that takes one: no 5xx, whatever the shape (issue 12).

schemathesis (tests/api/test_api_openapi.py) draws bodies from the OpenAPI description, so it
mostly sends what the description allows. This draws what it does not: known fields holding
nested arrays and objects, numbers past 64 bits, floats, booleans and strings where ids go,
unknown fields, nesting past the parser's bound, and ids in other scripts' digits in the path;
as JSON and as forms. Every answer must be an answer: a status under 500 and, for errors, the
Mastodon ``{"error": ...}`` shape.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["1\u00b27", "\u0661\u0662", "-1", "0", "9" * 30, "", " ", "\x00"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
PATH_IDS = st.sampled_from(
    ["{real}", "1\u00b27", "\u0661\u0662", "99999999999999999999999", "-5", "x"]
)


def _operations(doc: dict) -> list[tuple[str, str, list[str]]]:
    """(method, path, known body fields) for every operation that may carry a body."""
    found = []
    for path, methods in doc["paths"].items():
        if path.startswith("/api/v1/streaming") or path.startswith("/oauth/authorize"):
            continue
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            if method != "get":
                found.append((method.upper(), path, sorted(schema.get("properties", {}))))
    return found


def _near_valid(app: dict, status_id: str) -> dict[tuple[str, str], dict]:
    """Bodies that pass every check but one: each run spoils one field of one of these (found
    this way by schemathesis: a client secret in other scripts' letters, a list of lists as
    redirect URIs; random bodies rarely get that far)."""
    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    return {
        ("POST", "/api/v1/apps"): {
            "client_name": "x",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read",
            "website": "https://example.org",
        },
        ("POST", "/oauth/token"): {"grant_type": "client_credentials", "scope": "read", **client},
        ("POST", "/oauth/revoke"): {"token": "t", **client},
        ("POST", "/api/v1/statuses"): {"status": "hi", "visibility": "public"},
        ("PUT", "/api/v1/statuses/{id}"): {"status": "edited"},
        ("POST", "/api/v1/accounts/{id}/follow"): {"reblogs": True, "notify": False},
        ("PATCH", "/api/v1/accounts/update_credentials"): {"display_name": "A", "note": "n"},
        ("POST", "/api/v1/statuses#reply"): {"status": "re", "in_reply_to_id": status_id},
    }


@pytest.fixture
def battlefield(sqlite_api):
    alice, bob = sqlite_api.user("alice"), sqlite_api.user("bob")
    post = sqlite_api.status(bob, "hostile bodies welcome")
    doc = sqlite_api.client.get("/openapi.json").json()
    return sqlite_api, alice, {"id": post["id"], "account": bob.id}, _operations(doc)


def _fill(path: str, real: dict, choice: str) -> str:
    def one(match: re.Match) -> str:
        if choice != "{real}":
            return choice
        return real["account"] if "accounts" in path else real["id"]

    return re.sub(r"\{[^}]+\}", one, path)


def test_every_body_route_answers_hostile_json_and_forms_without_a_server_error(battlefield):
    api, alice, real, operations = battlefield
    assert len(operations) >= 25  # every write route

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        op=st.sampled_from(operations),
        path_id=PATH_IDS,
        known=st.data(),
        extra=st.dictionaries(st.text(min_size=1, max_size=8), VALUES, max_size=3),
        depth=st.sampled_from([0, 0, 0, 20, 40, 200]),
        as_form=st.booleans(),
    )
    def hostile(op, path_id, known, extra, depth, as_form):
        method, template, fields = op
        body = {name: known.draw(VALUES, label=name) for name in fields} | extra
        if depth:
            body["deep"] = json.loads("[" * min(depth, 30) + "]" * min(depth, 30))
        path = _fill(template, real, path_id)
        if as_form:
            form = {str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
            answer = api.client.request(method, path, data=form, headers=alice.headers)
        else:
            raw = json.dumps(body)
            if depth > 30:  # past the parser's bound, written by hand as json.dumps would recurse
                raw = raw[:-1] + ', "deeper": ' + "[" * depth + "]" * depth + "}"
            headers = {**alice.headers, "Content-Type": "application/json"}
            answer = api.client.request(method, path, content=raw, headers=headers)
        assert answer.status_code < 500, (method, path, body, answer.text[:300])
        if answer.status_code >= 400 and path.startswith("/api/"):
            assert "error" in answer.json(), (method, path, answer.text[:300])

    hostile()


def test_near_valid_bodies_with_one_field_spoiled_never_get_a_server_error(battlefield):
    api, alice, real, _ = battlefield
    bases = _near_valid(api.default_app, real["id"])
    fields = sorted((key, name) for key, body in bases.items() for name in body)

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        spoiled=st.sampled_from(fields),
        value=VALUES | SCALARS,
        as_form=st.booleans(),
        with_token=st.booleans(),
    )
    def spoil(spoiled, value, as_form, with_token):
        (method, template), name = spoiled
        body = {**bases[(method, template)], name: value}
        path = _fill(template.split("#")[0], real, "{real}")
        headers = alice.headers if with_token else {}
        if as_form:
            if isinstance(value, list):  # a form's repeated field, as clients send arrays
                form = {f"{name}[]": [json.dumps(v) for v in value]}
                form |= {k: str(v) for k, v in body.items() if k != name}
            else:
                form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            answer = api.client.request(method, path, data=form, headers=headers)
        else:
            answer = api.client.request(method, path, json=body, headers=headers)
        assert answer.status_code < 500, (method, path, body, answer.text[:300])

    spoil()
