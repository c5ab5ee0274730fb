"""Real clients against a real `roost serve`: the Mastodon.py library and the toot CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from mastodon import Mastodon, StreamListener

from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
SCOPES = ["read", "write", "follow", "push"]


def _client(api, **login) -> Mastodon:
    base = api.server.url
    client_id, client_secret = Mastodon.create_app(
        "roost-tests", scopes=SCOPES, api_base_url=base, redirect_uris="urn:ietf:wg:oauth:2.0:oob"
    )
    mastodon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    if "code_for" in login:
        url = mastodon.auth_request_url(scopes=SCOPES, state="s1", allow_http=True)
        with httpx.Client(base_url=base, timeout=10) as browser:
            path = url.removeprefix(base)
            code = login["helpers"].approve(browser, path, login["code_for"], login["password"])
        mastodon.log_in(code=code, scopes=SCOPES, allow_http=True)
    else:
        mastodon.log_in(login["username"], login["password"], scopes=SCOPES, allow_http=True)
    return mastodon


class _Updates(StreamListener):
    def __init__(self) -> None:
        self.updates: list[tuple[float, str]] = []
        self.arrived = threading.Event()
        self.opened = threading.Event()

    def handle_heartbeat(self) -> None:
        """The server's opening comment: it has subscribed this stream to the bus."""
        self.opened.set()

    def on_update(self, status) -> None:
        self.updates.append((time.monotonic(), str(status["id"])))
        self.arrived.set()


def test_mastodon_py(live_api, helpers):
    live_api.user("alice")
    live_api.user("bob")
    alice = _client(live_api, username="alice@example.com", password=helpers.password)
    bob = _client(live_api, code_for="bob", password=helpers.password, helpers=helpers)
    assert alice.account_verify_credentials()["username"] == "alice"
    assert bob.me()["username"] == "bob"
    alice_id = alice.me()["id"]
    relationship = bob.account_follow(alice_id)
    assert relationship["following"] is True

    listener = _Updates()
    stream = bob.stream_user(listener, run_async=True)
    try:
        assert listener.opened.wait(5), "the stream never opened"
        posted_at = time.monotonic()
        first = alice.status_post("hello from Mastodon.py #pytest")
        assert listener.arrived.wait(5), "no update on the stream"
        arrived, streamed_id = listener.updates[0]
        assert streamed_id == str(first["id"])
        assert arrived - posted_at < 1.0
    finally:
        stream.close()

    reply = bob.status_post("welcome!", in_reply_to_id=first["id"])
    assert str(reply["in_reply_to_id"]) == str(first["id"])
    for n in range(5):
        last = alice.status_post(f"post number {n}")
    wait_until(  # the fan-out is async
        lambda: bob.timeline_home(limit=1)[0]["id"] == last["id"],
        "the last post in bob's home",
        seconds=10,
        interval=0.05,
    )
    page = bob.timeline_home(limit=3)
    assert len(page) == 3
    seen = [s["id"] for s in page]
    more = bob.fetch_next(page)
    assert more and not {s["id"] for s in more} & set(seen)
    while more:
        seen += [s["id"] for s in more]
        more = bob.fetch_next(more)
    assert len(seen) == len(set(seen)) == 7  # 6 of alice's and bob's reply
    assert bob.status_favourite(first["id"])["favourited"] is True
    assert bob.status_reblog(first["id"])["reblog"]["id"] == first["id"]
    kinds = {n["type"] for n in alice.notifications()}
    assert {"follow", "mention", "favourite", "reblog"} <= kinds
    found = bob.search("pytest", result_type="hashtags")
    assert [t["name"] for t in found["hashtags"]] == ["pytest"]
    people = bob.search("alice", result_type="accounts")
    assert people["accounts"][0]["acct"] == "alice"
    statuses = alice.search("Mastodon.py", result_type="statuses")
    assert statuses["statuses"][0]["id"] == first["id"]


def _toot(home: Path, *args: str, stdin: str = "", timeout: float = 60) -> str:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "BROWSER": "true",
        "TERM": "dumb",
        "COLUMNS": "120",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "toot", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_toot_cli(live_api, helpers, tmp_path):
    base = live_api.server.url
    carol = live_api.user("carol")
    dave = live_api.user("dave")
    live_api.status(dave, "dave was here #tooting")
    cli_home, web_home = tmp_path / "cli", tmp_path / "web"
    out = _toot(
        cli_home,
        "login_cli",
        "--instance",
        base,
        "--email",
        "carol@example.com",
        "--password",
        helpers.password,
    )
    assert "Successfully logged in" in out
    assert "carol" in _toot(cli_home, "whoami")

    # the browser flow: toot prints a URL, the person approves it, then types the code
    env = {
        **os.environ,
        "HOME": str(web_home),
        "XDG_CONFIG_HOME": str(web_home / ".config"),
        "BROWSER": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "toot", "login", "--instance", base],
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = None
    for line in process.stdout:
        found = re.search(r"(http\S+/oauth/authorize\S*)", line)
        if found:
            url = found.group(1)
            break
    assert url, "toot printed no login URL"
    assert "/oauth/authorize/?" in url  # toot adds the trailing slash
    with httpx.Client(base_url=base, timeout=10) as browser:
        code = helpers.approve(browser, url.removeprefix(base), "dave", helpers.password)
    output, _ = process.communicate(f"n\n{code}\n", timeout=60)
    assert process.returncode == 0, output
    assert "Successfully logged in" in output
    assert "dave" in _toot(web_home, "whoami")

    assert "Toot posted" in _toot(cli_home, "post", "carol says hi #tooting")
    assert "now following dave" in _toot(cli_home, "follow", "dave")
    wait_until(  # her post and dave's back-filled one: the fan-out is async
        lambda: (
            len(live_api.client.get("/api/v1/timelines/home", headers=carol.headers).json()) == 2
        ),
        "two posts in carol's home",
        seconds=10,
        interval=0.05,
    )
    timeline = _toot(cli_home, "timeline", "--once", "--count", "5")
    assert "carol says hi" in timeline and "dave was here" in timeline
    assert "carol" in _toot(web_home, "notifications")
    found = _toot(cli_home, "search", "tooting")
    assert "#tooting" in found
    assert "dave" in _toot(cli_home, "search", "dave")
