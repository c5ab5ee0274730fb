"""Parameters declared once (roost/api/params.py): they read the request, typed, and they are
what /openapi.json says; no handler reads the raw parameters behind their back (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from starlette.routing import Route

from roost.api.routes import routes

API = Path(__file__).resolve().parents[2] / "roost" / "api"
# What still reads raw parameters, and why: media and polls are refused whatever their shape;
# markers arrive as nested objects (home[last_read_id] or {"home": {...}}).
RAW_READERS = {("statuses.py", "_content"), ("timelines.py", "save_markers")}


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/api/v1/timelines/public?limit=many", "limit must be a number"),
        ("/api/v1/timelines/public?max_id=1x", "max_id is not a valid id"),
        ("/api/v1/timelines/public?only_media=maybe", "'maybe' is not a boolean"),
        ("/api/v2/search?q=a&type=people", "type must be accounts, hashtags or statuses"),
        ("/api/v2/search?q=a&offset=-", "offset must be a number"),
        ("/api/v1/accounts/relationships?id[]=1&id[]=x", "id is not a valid id"),
    ],
)
def test_a_declared_parameter_of_the_wrong_type_is_a_422_naming_it(api, path, said):
    alice = api.user("alice")
    answer = api.client.get(path, headers=alice.headers)
    assert answer.status_code == 422, answer.text
    assert said in answer.json()["error"]


def test_declared_parameters_are_typed_for_the_handler(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    rels = api.client.get(
        "/api/v1/accounts/relationships", params=[("id[]", bob.id)], headers=alice.headers
    )
    assert [r["following"] for r in rels.json()] == [True]
    reply = api.client.patch(
        "/api/v1/accounts/update_credentials", data={"locked": "on"}, headers=alice.headers
    )
    assert reply.json()["locked"] is True  # a form's "on" read as a boolean once, here
    kept = api.client.patch(
        "/api/v1/accounts/update_credentials", data={"note": "hi"}, headers=alice.headers
    )
    assert kept.json()["locked"] is True  # absent: left as it was (Flag(None))


def test_the_openapi_text_lists_what_each_endpoint_declares(sqlite_api):
    doc = sqlite_api.client.get("/openapi.json").json()
    checked = 0
    for route in routes:
        if not isinstance(route, Route) or route.path not in doc["paths"]:
            continue  # /openapi.json itself
        for method in route.methods - {"HEAD"}:
            declared_query = getattr(route.endpoint, "query", None) or {}
            declared_body = getattr(route.endpoint, "body", None) or {}
            op = doc["paths"][route.path][method.lower()]
            listed = {p["name"] for p in op["parameters"] if p["in"] == "query"}
            for name, param in declared_query.items():
                assert set(param.names(name)) <= listed, (route.path, name)
                checked += 1
            if declared_body:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                names = {n for name, p in declared_body.items() for n in p.names(name)}
                assert names <= set(schema["properties"]), route.path
                checked += 1
    assert checked >= 30


def _raw_readers() -> set[tuple[str, str]]:
    """(module, function) of every function in roost/api that reads ``call.params``."""
    found = set()
    for path in API.glob("*.py"):
        if path.name in ("endpoint.py", "params.py", "http.py"):
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                reads = isinstance(node, ast.Attribute) and node.attr == "params"
                if reads and isinstance(node.value, ast.Name) and node.value.id == "call":
                    found.add((path.name, function.name))
    return found


def test_handlers_read_only_what_they_declared():
    assert _raw_readers() == RAW_READERS
