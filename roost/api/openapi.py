"""An OpenAPI 3.1 description of the Mastodon API as Roost serves it, built from the route table.

Good enough for schemathesis and API explorers: every route with its methods, OAuth scope,
parameters, request bodies (JSON and form) and the main response entities. The parameter and
body tables below name handlers by ``module.function``; a route missing here is still listed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from roost import __version__
from roost.api.auth import KNOWN_SCOPES
from roost.api.http import Json
from roost.api.params import Declared, schema_of
from roost.api.schemas import BODIES, COMPONENTS, RESPONSES

ERRORS = {
    "400": "Bad request (OAuth errors, unreadable bodies)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "The token's scopes do not allow this",
    "404": "Record not found",
    "413": "Request body too large",
    "422": "Validation failed",
    "429": "Rate limited",
}
NOT_JSON = {"oauth.authorize", "streaming.sse", "streaming.health"}


def _name(handler: Any) -> str:
    module = handler.__module__.rsplit(".", 1)[-1]
    return f"{module}.{handler.__name__}"


def _operation(route: Route, method: str, handler: Any) -> dict:
    name = _name(handler)
    scope = getattr(handler, "scope", None)
    op: dict[str, Any] = {
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.path),
        "summary": (handler.__doc__ or name).strip().splitlines()[0],
        "tags": [name.split(".")[0]],
        "parameters": _parameters(route, name, method, getattr(handler, "query", None)),
        "responses": _responses(name),
    }
    if scope:
        op["security"] = [{"OAuth2": [scope]}]
    else:
        op["security"] = [{}, {"OAuth2": []}]
    declared = getattr(handler, "body", None)
    body = schema_of(declared) if declared else BODIES.get(name)
    if body and method != "GET":
        op["requestBody"] = {
            "required": bool(body.get("required")),
            "content": {
                "application/json": {"schema": body},
                "application/x-www-form-urlencoded": {"schema": body},
            },
        }
    return op


def _parameters(route: Route, name: str, method: str, declared: Declared | None) -> list[dict]:
    out = [
        {"name": p, "in": "path", "required": True, "schema": _path_schema(p)}
        for p in route.param_convertors
    ]
    query = schema_of(declared)["properties"] if declared else {}
    for param, schema in query.items():
        if method == "GET":
            out.append({"name": param, "in": "query", "required": False, "schema": schema})
    return out


def _path_schema(name: str) -> dict:
    if name == "hashtag":
        return {"type": "string", "pattern": "^[A-Za-z0-9_]{1,100}$"}
    # Ids are strings, as Mastodon documents them; left open here so that fuzzers also try
    # what is not an id (other scripts' digits, signs, spaces): each must be a 404, never a 500.
    return {"type": "string", "minLength": 1, "maxLength": 40}


def _responses(name: str) -> dict:
    out: dict[str, Any] = {"200": {"description": "Success"}}
    if name not in NOT_JSON:
        schema = RESPONSES.get(name, {"type": ["object", "array"]})
        out["200"]["content"] = {"application/json": {"schema": schema}}
    for status, text in ERRORS.items():
        out[status] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return out


def describe(routes: list, base_url: str) -> dict:
    paths: dict[str, dict] = {}
    for route in routes:
        if not isinstance(route, Route) or route.path == "/openapi.json":
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operations = paths.setdefault(route.path, {})
            operations[method.lower()] = _operation(route, method, route.endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Roost: the Mastodon client API",
            "version": __version__,
            "description": "Roost speaks the Mastodon client API (4.2) and OAuth 2.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": COMPONENTS, "securitySchemes": _security(base_url)},
    }


def _security(base_url: str) -> dict:
    scopes = {s: s for s in sorted(KNOWN_SCOPES)}
    return {
        "OAuth2": {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{base_url}/oauth/authorize",
                    "tokenUrl": f"{base_url}/oauth/token",
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": f"{base_url}/oauth/token", "scopes": scopes},
                "password": {"tokenUrl": f"{base_url}/oauth/token", "scopes": scopes},
            },
        }
    }


@functools.cache
def _cached(base_url: str) -> dict:
    from roost.api.routes import routes

    return describe(routes, base_url)


async def openapi_json(request: Request) -> Json:
    """This document."""
    return Json(_cached(request.app.state.ctx.base_url), headers={"Cache-Control": "max-age=60"})


openapi_json.access = "public"  # type: ignore[attr-defined]  # (endpoint.PUBLIC)
