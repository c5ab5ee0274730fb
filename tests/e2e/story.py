"""The outage story's cast: processes, the status reader, clocks and the checks it makes.

Shared by tests/e2e/test_e2e_outage.py (see its docstring and docs/e2e.md).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# The status server's admin token, which the site's shield also sends its attack events with.
TOKEN = "e2e-" + secrets.token_hex(16)

# Component id -> name, in page order (ROOST_STATUS_COMPONENTS), and the check that probes it.
NAMES = {
    "web": "Web",
    "api": "API",
    "sign-in": "Sign-in",
    "posting": "Posting",
    "timelines": "Timelines",
    "search": "Search",
    "streaming": "Streaming",
}
CHECK_OF = {
    "web": "home",
    "api": "public_timeline",
    "sign-in": "sign_in",
    "posting": "post",
    "timelines": "home_timeline",
    "search": "search",
    "streaming": "streaming",
}
ROUND_CHECKS = {"home", "public_timeline", "search", "streaming", "post", "home_timeline"}


def now() -> datetime:
    return datetime.now(UTC)


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def ms(at: datetime) -> datetime:
    """Statuspage times carry milliseconds: compare at that precision."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def duration_words(span: timedelta) -> str:
    """The status blog's duration wording ("56 s", "1 min 3 s"), from docs/status.md."""
    seconds = max(0, round(span.total_seconds()))
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def clock_time(hms: str, day: datetime) -> datetime:
    """The time ``hms`` (as "12:06:53") on the day of ``day``, or the next day after midnight."""
    at = datetime.combine(day.date(), datetime.strptime(hms, "%H:%M:%S").time(), UTC)
    return at + timedelta(days=1) if at < day - timedelta(hours=12) else at


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


# -- processes ------------------------------------------------------------------------------------


class Process:
    """A subprocess with its output in a log file; ``stop`` is SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log = log
        with log.open("ab") as out:  # Popen dups the descriptor; ours must be closed
            self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=out)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def roost(*args: str) -> list[str]:
    return [sys.executable, "-m", "roost.cli", *args]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(extra)
    return env


def wait_http(url: str, process: Process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.popen.poll() is None, f"exited early:\n{process.tail()}"
        assert time.monotonic() < deadline, (
            f"{url} did not answer in {timeout} s:\n{process.tail()}"
        )
        time.sleep(0.1)


# -- watching the status server -------------------------------------------------------------------


class LatencyWatch(threading.Thread):
    """Asks /api/v2/status.json ten times a second, over its own connection, for the whole story."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.phase = "baseline"
        self.samples: list[tuple[str, float]] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while not self.done.wait(0.1):
                started = time.perf_counter()
                try:
                    answer = client.get("/api/v2/status.json")
                    answer.json()["status"]["indicator"]
                    if answer.status_code != 200:
                        self.failures.append(f"{self.phase}: {answer.status_code}")
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    self.failures.append(f"{self.phase}: {type(error).__name__}: {error}")
                self.samples.append((self.phase, time.perf_counter() - started))

    def latencies(self, *phases: str) -> list[float]:
        return [s for phase, s in self.samples if phase in phases]


class StatusReader:
    """The test's own view of the status server: documents, the probe log, incident history."""

    def __init__(self, url: str, site_log: Path) -> None:
        self.client = httpx.Client(base_url=url, timeout=5)
        self.site_log = site_log
        self.slowest = 0.0
        self.probes: dict[tuple[str, str], dict] = {}  # (at, check) -> result, every one seen
        self.first_seen: dict[str, tuple[datetime, dict]] = {}  # incident status -> (when, doc)
        self.incident_id: str | None = None
        self._probes_read = 0.0

    def get(self, path: str, **kw: Any) -> httpx.Response:
        started = time.perf_counter()
        answer = self.client.get(path, **kw)
        self.slowest = max(self.slowest, time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return answer

    def json(self, path: str) -> dict:
        return self.get(path).json()

    def read_probes(self) -> list[dict]:
        """The server's last 100 probes (admin API), added to everything seen so far."""
        self._probes_read = time.monotonic()
        answer = self.get("/api/admin/probes", headers={"authorization": f"Bearer {TOKEN}"})
        results = answer.json()["results"]
        for r in results:
            self.probes[r["at"], r["check"]] = r
        return results

    def incident(self) -> dict | None:
        """Our automatic incident as incidents.json has it now; notes each status first seen."""
        if time.monotonic() - self._probes_read > 1.0:
            self.read_probes()  # the last 100 are ~15 rounds: reading every second misses none
        incidents = self.json("/api/v2/incidents.json")["incidents"]
        if self.incident_id is None:
            return None
        found = next((i for i in incidents if i["id"] == self.incident_id), None)
        if found is not None and found["status"] not in self.first_seen:
            self.first_seen[found["status"]] = (now(), found)
        return found

    def until(self, what: str, condition: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; incident: "
                    f"{json.dumps(self.incident(), indent=1)[:3000]}\nlast probes: "
                    f"{[(p['check'], p['ok'], p['detail']) for p in self.read_probes()[:16]]}\n"
                    f"shield events: {[e['type'] for e in self.shield_events()]}"
                )
            time.sleep(0.2)

    def shield_events(self) -> list[dict]:
        """What the shield emitted, from its log (logger roost.shield: "shield event {json}")."""
        events = []
        for line in self.site_log.read_text(errors="replace").splitlines():
            match = re.search(r"shield event (\{.*\})\s*$", line)
            if match:
                events.append(json.loads(match.group(1)))
        return events

    def shield_event(self, kind: str) -> dict | None:
        return next((e for e in self.shield_events() if e["type"] == kind), None)

    def probe_runs(self, check: str) -> list[dict]:
        return sorted((p for (_, c), p in self.probes.items() if c == check), key=lambda p: p["at"])


def expected_outage_end(reader: StatusReader, down: list[str], came_up: datetime) -> datetime:
    """Per docs/status.md: the first good probe of the run that brought the last component back.

    When the last component came back (the round stamped ``came_up``), each component that had
    been down was in a run of good probes; the outage ended where the latest of those runs began.
    """
    starts = []
    for component in down:
        run_start = None
        for p in reader.probe_runs(CHECK_OF[component]):
            at = parse_iso(p["at"])
            if at > came_up:
                break
            run_start = (run_start or at) if p["ok"] else None
        assert run_start is not None, f"{component} never came back in the probe log"
        starts.append(run_start)
    return max(starts)


def listed(ids: list[str]) -> str:
    """["web", "api", "search"] -> "Web, API and Search", as the status blog writes it."""
    names = [NAMES[c] for c in ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_statuspage_documents(reader: StatusReader) -> None:
    """The fields of the real Statuspage v2 format (/work/shared/reference/statuspage-format.md)."""
    page_fields = {"id", "name", "url", "time_zone", "updated_at"}
    incident_fields = {
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "started_at",
        "shortlink",
        "page_id",
        "incident_updates",
        "components",
    }
    update_fields = {
        "id",
        "incident_id",
        "status",
        "body",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
    }
    for path in (
        "/api/v2/status.json",
        "/api/v2/incidents.json",
        "/api/v2/summary.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/components.json",
    ):
        answer = reader.get(path)
        assert answer.headers["access-control-allow-origin"] == "*", path
        assert answer.headers["content-type"].startswith("application/json"), path
        assert page_fields <= set(answer.json()["page"]), path
    for incident in reader.json("/api/v2/incidents.json")["incidents"]:
        assert incident_fields <= set(incident), sorted(incident_fields - set(incident))
        assert incident["status"] in (
            "investigating",
            "identified",
            "monitoring",
            "resolved",
            "postmortem",
        )
        assert incident["impact"] in ("none", "minor", "major", "critical")
        for update in incident["incident_updates"]:
            assert update_fields <= set(update), sorted(update_fields - set(update))
            assert update["incident_id"] == incident["id"]


def newest_round(probes: list[dict]) -> list[dict]:
    """The probes of the newest round (newest first): those begun within a second of the newest."""
    last = parse_iso(probes[0]["at"])
    return [p for p in probes if parse_iso(p["at"]) > last - timedelta(seconds=1)]


def healthy_round(probes: list[dict]) -> bool:
    if not probes:
        return False
    latest = newest_round(probes)
    return {p["check"] for p in latest} >= ROUND_CHECKS and all(p["ok"] for p in latest)
