"""Fixtures for the Mastodon API contract tests: an in-process site and users with tokens."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from roost.app import create_site
from tests.support.settings import make_settings

with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork, which is not installed; the plain httpx works the same.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"


@dataclass
class User:
    username: str
    id: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)


class Api:
    """A TestClient over the unshielded site, with helpers to make apps and users."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._app: dict | None = None

    def __getattr__(self, name: str):
        return getattr(self.client, name)

    def app(self, scopes: str = "read write follow push") -> dict:
        response = self.client.post(
            "/api/v1/apps",
            json={
                "client_name": "tests",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": scopes,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()

    @property
    def default_app(self) -> dict:
        if self._app is None:
            self._app = self.app()
        return self._app

    def app_token(self, scopes: str = "read write follow push") -> str:
        app = self.default_app
        response = self.client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": scopes,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def user(self, username: str, scopes: str = "read write follow push") -> User:
        response = self.client.post(
            "/api/v1/accounts",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "agreement": True,
            },
            headers=bearer(self.app_token(scopes)),
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = self.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert me.status_code == 200, me.text
        return User(username, me.json()["id"], token, bearer(token))

    def token_for(self, user: User, scopes: str) -> str:
        app = self.default_app
        response = self.client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": user.username,
                "password": PASSWORD,
                "scope": scopes,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def status(self, user: User, text: str, **extra) -> dict:
        response = self.client.post(
            "/api/v1/statuses", json={"status": text, **extra}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    def drain(self) -> None:
        """Wait until the fan-out has delivered every post to home feeds."""
        ctx = self.client.app.state.ctx
        self.client.portal.call(ctx.fanout.drain)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_api(database_url: str, **settings) -> Iterator[Api]:
    site = create_site(make_settings(database_url, **settings))
    with TestClient(site, base_url="http://roost.test") as client:
        yield Api(client)


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The site on SQLite and on PostgreSQL."""
    yield from make_api(database_url)


@pytest.fixture
def api_with(sqlite_url: str) -> Iterator:
    """``api_with(**settings)``: the site on SQLite with some settings changed."""
    opened: list[Iterator[Api]] = []

    def start(**settings) -> Api:
        gen = make_api(sqlite_url, **settings)
        opened.append(gen)
        return next(gen)

    yield start
    for gen in opened:
        for _ in gen:
            pass


@pytest.fixture
def live_api(live_server_factory) -> Iterator[Api]:
    """A real `roost serve` (shield off) on SQLite, driven over HTTP."""
    server = live_server_factory(ROOST_SHIELD_ENABLED="0")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        api = Api(client)
        api.server = server
        yield api


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    """The site on SQLite only (for checks that do not depend on the database)."""
    yield from make_api(sqlite_url)


# --- The authorization-code flow, driven through the real consent page over HTTP ---------------


class _Forms(HTMLParser):
    """Every <form> on a page: its action, its inputs (name -> value) and its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": {}})
        elif self.forms and tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "submit" if tag == "button" else "text")
            if kind == "submit":
                self.forms[-1]["buttons"][a.get("value", "")] = a["name"]
            else:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if "/oauth/authorize" in f["action"]]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_code(
    client: httpx.Client,
    app: dict,
    login: str,
    password: str,
    scope: str = "read write follow push",
    redirect_uri: str = "urn:ietf:wg:oauth:2.0:oob",
    challenge: str | None = None,
    path: str = "/oauth/authorize/",
) -> str:
    """Log in and approve on the consent page as a person would; the code it hands back."""
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "xyz",
    }
    if challenge:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    return approve(client, f"{path}?{urlencode(query)}", login, password)


def approve(client: httpx.Client, url: str, login: str, password: str) -> str:
    """Open an authorize URL (as a client built it), log in, approve: the code handed back."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    state = parse_qs(urlsplit(url).query).get("state")
    for _ in range(3):
        form = forms_of(page.text)[0]
        fields = dict(form["fields"])
        if "password" in fields or "username" in fields:
            fields.update(username=login, password=password)
        else:
            fields[form["buttons"].get("approve", "action")] = "approve"
        page = client.post(form["action"], data=fields, follow_redirects=False)
        if page.status_code in (302, 303):
            values = parse_qs(urlsplit(page.headers["location"]).query)
            assert values.get("state") == state, page.headers["location"]
            return values["code"][0]
        assert page.status_code == 200, page.text
        found = re.search(r"<code[^>]*>([^<]+)</code>", page.text)
        if found:
            return found.group(1).strip()
    raise AssertionError(f"the consent page never gave a code: {page.text[:500]}")


class Helpers:
    """The module's helpers for test files (conftest modules are not imported by name)."""

    bearer = staticmethod(bearer)
    forms_of = staticmethod(forms_of)
    pkce_pair = staticmethod(pkce_pair)
    authorize_code = staticmethod(authorize_code)
    approve = staticmethod(approve)
    password = PASSWORD


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers
