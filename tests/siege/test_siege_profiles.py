"""The outside reviewer's shapes: each profile sends what it claims, read back by a real HTTP
parser (h11, as a server would) and, for the scraper, by the shield's own fingerprinting."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import h11
import pytest

from roost.domain.ids import id_time
from roost.shield.fingerprint import fingerprint
from roost.siege.profiles import PROFILES, AttackContext, BotnetMix, Scraper, Sybil

CONTEXT = AttackContext(
    host="127.0.0.1:8000",
    client_id="the-app",
    client_secret="the-secret",
    bot_tokens=("t1", "t2", "t3"),
    usernames=("alice", "bob"),
    status_ids=("111", "222"),
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str:
        values = [v.decode() for k, v in self.headers if k == name.lower().encode()]
        assert len(values) == 1, (name, self.headers)
        return values[0]


def parse(raw: bytes) -> Request:
    """One request exactly: a server's parser must find it complete, with nothing left over."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(raw)
    head = server.next_event()
    assert isinstance(head, h11.Request) and head.http_version == b"1.1"
    body = b""
    while not isinstance(event := server.next_event(), h11.EndOfMessage):
        assert isinstance(event, h11.Data)
        body += event.data
    assert server.trailing_data == (b"", False)  # nothing left over: the next request starts clean
    parts = urlsplit(head.target.decode())
    # In order, names lower-cased: what an ASGI app (and so the shield) is given.
    headers = [(bytes(k).lower(), bytes(v)) for k, v in head.headers.raw_items()]
    return Request(head.method.decode(), parts.path, parse_qs(parts.query), headers, body)


def requests(cls: type, count: int, context: AttackContext = CONTEXT) -> list[Request]:
    profile = cls(context, random.Random(7))
    return [parse(profile.request()) for _ in range(count)]


def botnet_kind(r: Request) -> str:
    if r.method == "POST":
        return "login"
    if r.path == "/":
        return "busted" if r.query else "page"
    if r.path == "/api/v2/search":
        return "search"
    assert r.path == "/api/v1/timelines/public" and r.query["local"] == ["true"]
    return "local_old" if "max_id" in r.query else "local"


def test_botnet_mix_sends_the_reviewers_six_requests_in_equal_shares() -> None:
    sent = requests(BotnetMix, 1200)
    shares = Counter(botnet_kind(r) for r in sent)
    assert set(shares) == set(BotnetMix.SHARES)
    assert all(140 <= count <= 260 for count in shares.values()), shares  # 200 each, give or take
    busted = [r.query["q"][0] for r in sent if botnet_kind(r) == "busted"]
    searched = [r.query["q"][0] for r in sent if botnet_kind(r) == "search"]
    assert len(set(busted)) == len(busted) and len(set(searched)) == len(searched)


def test_botnet_mix_pages_into_the_last_month_with_random_max_ids() -> None:
    old = [r for r in requests(BotnetMix, 600) if botnet_kind(r) == "local_old"]
    ids = [int(r.query["max_id"][0]) for r in old]
    assert len(set(ids)) == len(ids)
    ages = [time.time() - id_time(i).timestamp() for i in ids]  # Roost's own id layout
    assert all(-5 <= age <= 31 * 86400 for age in ages)
    assert max(ages) - min(ages) > 10 * 86400  # spread over the month, not one moment


def test_botnet_mix_logins_are_password_grants_with_junk_credentials() -> None:
    logins = [r for r in requests(BotnetMix, 600) if r.method == "POST"]
    assert logins and all(r.path == "/oauth/token" for r in logins)
    forms = [parse_qs(r.body.decode()) for r in logins]
    assert all(f["grant_type"] == ["password"] and f["client_id"] == ["the-app"] for f in forms)
    assert len({f["username"][0] for f in forms}) == len(forms)  # nobody real, never twice
    assert all(f["username"][0].endswith("@mail.invalid") for f in forms)
    without_app = requests(BotnetMix, 300, AttackContext(host="h"))
    junk = [parse_qs(r.body.decode()) for r in without_app if r.method == "POST"]
    assert junk and all(f["client_id"][0] and f["client_secret"][0] for f in junk)


def test_scraper_busts_every_cache_and_looks_like_many_browsers() -> None:
    sent = requests(Scraper, 1000)
    assert all(r.method == "GET" for r in sent)
    busters = [(r.path, tuple(sorted(r.query))) for r in sent]
    assert all(query for _, query in busters)  # a query string on every request
    assert len({(r.path, str(r.query)) for r in sent}) == len(sent)  # no two alike
    agents = {r.header("User-Agent") for r in sent}
    assert len(agents) >= 150 and all(a.startswith("Mozilla/5.0 (") for a in agents)
    assert len({r.header("Accept-Language") for r in sent}) >= 8
    # The shield's header-order check sees a browser that is what it claims to be.
    assert all(fingerprint(r.headers) == ("browser", False) for r in sent)
    for r in sent:
        wants_json = r.path.startswith("/api/")
        assert ("application/json" in r.header("Accept")) == wants_json, r.path


def test_scraper_reads_public_pages_and_the_users_profiles() -> None:
    sent = requests(Scraper, 1400)
    seen = {"/" + r.path.split("/")[1] for r in sent}
    assert seen == {"/", "/public", "/tags", "/@alice", "/@bob", "/api"}
    lookups = [r for r in sent if r.path == "/api/v1/accounts/lookup"]
    assert {r.query["acct"][0] for r in lookups} == {"alice", "bob"}
    anonymous = requests(Scraper, 400, AttackContext(host="h"))  # no users: no profile pages
    assert not any("@" in r.path or "lookup" in r.path for r in anonymous)


def test_sybils_act_signed_in_with_their_own_tokens() -> None:
    sent = requests(Sybil, 1000)
    tokens = Counter(r.header("Authorization") for r in sent)
    assert set(tokens) == {"Bearer t1", "Bearer t2", "Bearer t3"}
    actions = Counter(
        "post" if r.path == "/api/v1/statuses" else r.path.rsplit("/", 1)[-1] for r in sent
    )
    assert set(actions) == {"home", "notifications", "favourite", "post"}
    assert actions["home"] > actions["notifications"] > actions["post"]  # 8 : 5 : 4 : 3
    favourited = {r.path.split("/")[4] for r in sent if r.path.endswith("/favourite")}
    assert favourited == {"111", "222"}  # what the users posted at setup
    posts = [parse_qs(r.body.decode()) for r in sent if r.path == "/api/v1/statuses"]
    assert all(p["status"][0].startswith("Follow me") for p in posts)
    assert all(r.body == b"" for r in sent if r.path.endswith("/favourite"))


def test_sybils_without_statuses_to_favourite_read_home_instead() -> None:
    context = AttackContext(host="h", bot_tokens=("t",))
    sent = requests(Sybil, 300, context)
    assert not any(r.path.endswith("/favourite") for r in sent)
    assert sum(r.path == "/api/v1/timelines/home" for r in sent) > 300 * 8 / 20 * 0.8


@pytest.mark.parametrize("name", ["botnet_mix", "scraper", "sybil"])
def test_the_new_request_profiles_are_registered(name: str) -> None:
    assert PROFILES[name].kind == "request"
    assert PROFILES["scraper"].default_rotate_after == 1
    assert not PROFILES["botnet_mix"].takes_paths and not PROFILES["sybil"].takes_paths
    assert PROFILES["sybil"].needs_bot_accounts
