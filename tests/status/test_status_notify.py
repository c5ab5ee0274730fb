"""Webhooks and @status posts: signed, retried with backoff, bounded, never in the page's way."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from status_support import StatusServer, auth, status_settings

from roost.cli import main
from roost.status.journal import StoreJournal
from roost.status.notify import EDITED, Outbox, announcement, signature
from roost.status.notify import UPDATE as UPDATE_EVENT
from roost.status.server import SettingsError, build
from roost.status.service import StatusService
from roost.status.store import create_tables, make_engine
from tests.support.ports import free_port
from tests.support.waiting import wait_for

INCIDENT = {"id": "abc", "name": "Web down", "shortlink": "http://status/incidents/abc"}
UPDATE = {"id": "u1", "status": "investigating", "body": "Web down; we are determining the cause."}


class Receiver:
    """A real HTTP server recording requests; the first ``failures`` answers are 500."""

    def __init__(self, failures: int = 0) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.close()


@pytest.fixture
def hanging() -> Iterator[str]:
    """A port that accepts TCP connections (kernel backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


async def test_webhook_is_signed_and_retried_with_backoff(receiver: Receiver) -> None:
    outbox = Outbox(webhook_urls=[receiver.url + "/hook"], secret="s3cret", base_delay=0.05)
    try:
        outbox.publish(INCIDENT, UPDATE)
        await wait_for(lambda: outbox.delivered == 1)
    finally:
        await outbox.close()
    assert len(receiver.requests) == 3  # two 500s, then delivered
    path, headers, body = receiver.requests[-1]
    assert path == "/hook"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-roost-signature"] == expected
    assert headers["x-roost-event"] == "incident.update"
    payload = json.loads(body)
    assert payload["incident"] == INCIDENT and payload["incident_update"] == UPDATE


async def test_an_edit_is_sent_as_an_edit_and_not_announced(receiver: Receiver) -> None:
    site = Receiver()
    outbox = Outbox(
        webhook_urls=[receiver.url + "/hook"],
        secret="s3cret",
        announce_url=site.url,
        announce_token="status-token",
        base_delay=0.01,
    )
    edited = {**UPDATE, "body": "Web down; a bad deploy."}
    try:
        outbox.publish(INCIDENT, edited, EDITED)
        await wait_for(lambda: outbox.delivered == 1)
        # an announcement, had one been queued, would be posted or still pending by now
        await wait_for(lambda: not outbox.tasks, "every delivery finished")
    finally:
        await outbox.close()
        site.close()
    _, headers, body = receiver.requests[-1]
    assert headers["x-roost-event"] == "incident.update.edited"
    assert headers["x-roost-signature"] == signature("s3cret", body)
    payload = json.loads(body)
    assert payload["meta"]["event"] == "incident.update.edited"
    assert payload["incident_update"] == edited
    assert site.requests == []  # @status posted the news once; a rewording is not news


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[dict, dict, str]] = []

    def publish(self, incident: dict, update: dict, event: str = UPDATE_EVENT) -> None:
        self.sent.append((incident, update, event))


async def test_editing_an_update_notifies(
    service: StatusService, client: httpx.AsyncClient
) -> None:
    recorder = service.notifier = Recorder()
    made = await client.post(
        "/api/admin/incidents", headers=auth(), json={"name": "Slow", "body": "Search is slow"}
    )
    update_id = made.json()["incident_updates"][0]["id"]
    path = f"/api/admin/incidents/{made.json()['id']}/updates/{update_id}"
    edited = await client.patch(path, headers=auth(), json={"body": "Search is slow: an index."})
    assert edited.status_code == 200
    assert [event for _, _, event in recorder.sent] == ["incident.update", "incident.update.edited"]
    _, update, _ = recorder.sent[-1]
    assert update["id"] == update_id and update["body"] == "Search is slow: an index."


def test_webhooks_without_a_secret_are_refused(tmp_path: Path) -> None:
    settings = status_settings(tmp_path, webhook_urls=["http://hooks.example/status"])
    with pytest.raises(SettingsError, match="ROOST_STATUS_WEBHOOK_SECRET is empty"):
        build(settings)
    env = {"ROOST_STATUS_WEBHOOK_URLS": "http://hooks.example/status"}
    env |= {"ROOST_STATUS_WEBHOOK_SECRET": "", "ROOST_STATUS_DATABASE_URL": "sqlite://"}
    result = CliRunner().invoke(main, ["status", "serve"], env=env)
    assert result.exit_code == 2
    assert "ROOST_STATUS_WEBHOOK_SECRET" in result.output and "Traceback" not in result.output


def test_backoff_doubles_and_is_capped() -> None:
    outbox = Outbox(webhook_urls=[], base_delay=1.0, max_delay=10.0)
    assert [outbox.delay(n) for n in range(6)] == [1, 2, 4, 8, 10, 10]


async def test_refused_target_is_dropped_after_its_attempts() -> None:
    port = free_port()  # nobody listens there: every attempt is refused
    outbox = Outbox(webhook_urls=[f"http://127.0.0.1:{port}/"], attempts=3, base_delay=0.01)
    try:
        outbox.publish(INCIDENT, UPDATE)
        await wait_for(lambda: outbox.failed == 1)
    finally:
        await outbox.close()
    assert outbox.delivered == 0


async def test_publish_never_waits_and_pending_is_bounded(hanging: str) -> None:
    outbox = Outbox(webhook_urls=[hanging], timeout=0.3, base_delay=0.05, max_pending=3)
    try:
        started = time.perf_counter()
        for _ in range(5):
            outbox.publish(INCIDENT, UPDATE)
        assert time.perf_counter() - started < 0.05
        assert len(outbox.tasks) == 3 and outbox.dropped == 2
    finally:
        await outbox.close()


class SiteUp:
    """The outbox's view of whether the site is up, counting how often it asked."""

    def __init__(self) -> None:
        self.up = False
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.up


def announcing(site: Receiver, site_up: SiteUp, base_delay: float) -> Outbox:
    """An outbox with no webhooks that posts as @status to ``site`` while ``site_up()``."""
    return Outbox(
        webhook_urls=[],
        announce_url=site.url,
        announce_token="status-token",
        site_up=site_up,
        base_delay=base_delay,
    )


async def test_status_account_posts_only_while_the_site_is_up() -> None:
    site, site_up = Receiver(), SiteUp()
    outbox = announcing(site, site_up, base_delay=0.02)
    try:
        outbox.publish(INCIDENT, UPDATE)
        await wait_for(lambda: site_up.asked >= 5, "five looks at a site that is down")
        assert site.requests == []
        site_up.up = True
        await wait_for(lambda: outbox.delivered == 1)
    finally:
        await outbox.close()
        site.close()
    path, headers, body = site.requests[0]
    assert path == "/api/v1/statuses"
    assert headers["authorization"] == "Bearer status-token"
    text = httpx.QueryParams(body.decode())["status"]
    assert text.startswith("Web down: Investigating. Web down; we are determining")
    assert text.endswith("http://status/incidents/abc")


async def test_status_account_posts_held_updates_before_later_ones() -> None:
    """Updates held while the site was down go out first, in order, then the "back up"."""
    site, site_up = Receiver(), SiteUp()
    outbox = announcing(site, site_up, base_delay=0.3)
    steps = ["investigating", "identified", "monitoring", "resolved"]
    try:
        outbox.publish(INCIDENT, {**UPDATE, "status": steps[0]})
        outbox.publish(INCIDENT, {**UPDATE, "status": steps[1]})
        await wait_for(lambda: site_up.asked >= 1, "the first update held: the site is down")
        site_up.up = True
        outbox.publish(INCIDENT, {**UPDATE, "status": steps[2]})
        outbox.publish(INCIDENT, {**UPDATE, "status": steps[3]})
        await wait_for(lambda: outbox.delivered == 4)
    finally:
        await outbox.close()
        site.close()
    posted = [httpx.QueryParams(body.decode())["status"] for _, _, body in site.requests]
    assert [text.split(": ")[1].split(".")[0] for text in posted] == [
        step.capitalize() for step in steps
    ]


def test_announcement_fits_in_a_post() -> None:
    long = {**UPDATE, "body": "word " * 400}
    text = announcement(INCIDENT, long)
    assert len(text) <= 500 and text.endswith(INCIDENT["shortlink"])


@pytest.mark.slow
def test_hanging_webhook_does_not_slow_the_status_server(tmp_path: Path, hanging: str) -> None:
    """Real server, real hanging target: incidents keep flowing and the page stays fast."""
    settings = status_settings(tmp_path)
    settings = settings.replace(
        status=dataclasses.replace(
            settings.status, webhook_urls=[hanging, hanging + "2"], webhook_secret="s3cret"
        )
    )
    with StatusServer(settings) as live, httpx.Client(base_url=live.url, timeout=5) as c:
        slowest_admin = slowest_page = 0.0
        for n in range(15):
            started = time.perf_counter()
            made = c.post(
                "/api/admin/incidents", headers=auth(), json={"name": f"Test {n}", "body": "x"}
            )
            slowest_admin = max(slowest_admin, time.perf_counter() - started)
            assert made.status_code == 201
            for _ in range(5):
                started = time.perf_counter()
                assert c.get("/").status_code == 200
                slowest_page = max(slowest_page, time.perf_counter() - started)
        assert len(live.runtime.outbox.tasks) == 30  # all still waiting on the hanging target
    assert slowest_page < 0.25, slowest_page
    assert slowest_admin < 0.5, slowest_admin


async def attempts_written(journal: StoreJournal, attempts: list[int]) -> bool:
    """Whether the journal's pending deliveries have made these attempts so far."""
    return [pending.attempts for pending in await journal.pending()] == attempts


async def test_pending_webhooks_survive_a_restart(tmp_path: Path) -> None:
    """A delivery cut short by a shutdown is resumed, attempts counted, by the next process."""
    engine = make_engine(f"sqlite:///{tmp_path / 'status.db'}")
    await create_tables(engine)
    journal = StoreJournal(engine)
    receiver = Receiver(failures=1)
    try:
        first = Outbox(webhook_urls=[receiver.url + "/hook"], base_delay=60, journal=journal)
        first.publish(INCIDENT, UPDATE)
        await wait_for(lambda: len(receiver.requests) == 1)
        await wait_for(lambda: attempts_written(journal, [1]), "the failed attempt written down")
        await first.close()  # shut down while waiting 60 s to retry
        (pending,) = await journal.pending()
        assert pending.attempts == 1 and pending.url == receiver.url + "/hook"

        second = Outbox(webhook_urls=[], journal=journal)
        await second.resume()
        await wait_for(lambda: second.delivered == 1)
        await wait_for(lambda: attempts_written(journal, []), "the delivery struck off")
        await second.close()
        assert receiver.requests[1][2] == receiver.requests[0][2]  # the same body, again
    finally:
        receiver.close()
        await engine.dispose()
