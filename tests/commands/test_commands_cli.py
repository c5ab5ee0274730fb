"""The `roost` command line, run as a user would run it (subprocesses, a real SQLite file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from roost.cli import LAZY_COMMANDS
from tests.support.ports import free_port
from tests.support.waiting import wait_until


def roost(*args: str, db: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATABASE_URL"] = db
    env["ROOST_SECRET_KEY"] = "cli-test-secret-" + "z" * 32
    return subprocess.run(
        [sys.executable, "-m", "roost.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_every_command_has_help(name, sqlite_url):
    result = roost(name, "--help", db=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_top_level_help_lists_every_command(sqlite_url):
    result = roost("--help", db=sqlite_url)
    for name in LAZY_COMMANDS:
        assert name in result.stdout


def test_db_upgrade_then_users(sqlite_url):
    assert roost("db", "upgrade", db=sqlite_url).returncode == 0
    made = roost(
        "user",
        "create",
        "carol",
        "--email",
        "carol@roost.test",
        "--password",
        "long-enough-pw",
        db=sqlite_url,
    )
    assert made.returncode == 0, made.stderr
    again = roost("user", "create", "Carol", "--password", "long-enough-pw", db=sqlite_url)
    assert again.returncode != 0 and "already taken" in again.stderr
    bad = roost("user", "create", "no way", "--password", "long-enough-pw", db=sqlite_url)
    assert bad.returncode != 0 and "Username" in bad.stderr
    assert "@carol" in roost("user", "list", db=sqlite_url).stdout
    assert roost("user", "suspend", "carol", db=sqlite_url).returncode == 0
    assert "(suspended)" in roost("user", "list", db=sqlite_url).stdout
    missing = roost("user", "suspend", "nobody", db=sqlite_url)
    assert missing.returncode != 0 and "not found" in missing.stderr


def test_demo_builds_a_browsable_data_set(sqlite_url):
    result = roost("demo", "--users", "20", "--posts", "60", db=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert "20 users" in result.stdout and "60 posts" in result.stdout
    listing = roost("user", "list", db=sqlite_url).stdout.splitlines()
    assert len(listing) == 20


def test_settings_lists_every_setting_with_help(sqlite_url):
    from roost.config import Settings, describe

    shown = roost("settings", db=sqlite_url).stdout
    for name, _value, help_text in describe(Settings.from_env({})):
        assert name in shown
        assert help_text, f"{name} has no help text"
    assert "cli-test-secret" not in shown  # secrets are masked


def test_bad_setting_values_are_refused_clearly(sqlite_url):
    env_db = sqlite_url
    result = subprocess.run(
        [sys.executable, "-m", "roost.cli", "settings"],
        env={**os.environ, "ROOST_DATABASE_URL": env_db, "ROOST_PORT": "eighty"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "ROOST_PORT" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "domain,email",
    [
        ("localhost:8000", "status_probe@localhost.invalid"),
        ("roost.example", "status_probe@roost.example"),
        ("127.0.0.1:8000", "status_probe@127.0.0.1"),
        ("[::1]:8000", "status_probe@::1.invalid"),
    ],
)
def test_the_probe_account_has_a_valid_address_on_any_domain(domain: str, email: str) -> None:
    from roost.commands.up import probe_email
    from roost.config import Settings
    from roost.domain.accounts import check_email

    assert check_email(probe_email(Settings.from_env({"ROOST_DOMAIN": domain}))) == email


def test_up_runs_the_site_and_its_status_blog_together(tmp_path):
    import json
    import signal
    import time

    import httpx

    site, status = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=f"sqlite:///{tmp_path / 'roost.db'}",
        ROOST_STATUS_DATABASE_URL=f"sqlite:///{tmp_path / 'status.db'}",
        ROOST_PORT=str(site),  # ROOST_DOMAIN left at its default, localhost:8000, as in `make run`
        ROOST_STATUS_PORT=str(status),
        ROOST_STATUS_PROBE_INTERVAL="1",
    )
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "roost.cli", "up"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        token = None
        deadline = time.monotonic() + 60
        checks: dict[str, bool] = {}
        while time.monotonic() < deadline and not checks.get("post"):
            time.sleep(0.5)
            try:
                assert httpx.get(f"http://127.0.0.1:{site}/health").status_code == 200
                token = token or json.loads((tmp_path / ".roost-up.json").read_text())["token"]
                found = httpx.get(
                    f"http://127.0.0.1:{status}/api/admin/probes",
                    headers={"authorization": f"Bearer {token}"},
                ).json()["results"]
                checks = {r["check"]: r["ok"] for r in reversed(found)}
            except (httpx.HTTPError, AssertionError, OSError, KeyError, ValueError):
                continue
        # The monitor signed in with the probe account that `up` made, and posted.
        assert checks.get("sign_in") and checks.get("post"), checks
        # The public port is the edge's (when haproxy is installed), and the shield reaches it.
        if shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin"):
            # the shield finds the edge's socket on its next tick: wait for it, do not race it
            wait_until(
                lambda: httpx.get(f"http://127.0.0.1:{site}/-/shield").json()["edge"]["reachable"],
                "the shield to reach the edge",
                seconds=10,
                interval=0.25,
            )
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
        log.close()
        assert code in (0, 130, -signal.SIGINT), (tmp_path / "up.log").read_text()[-4000:]
    for port in (site, status):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)


def test_up_without_haproxy_says_so_and_serves_anyway(tmp_path):
    import signal
    import time

    import httpx

    site = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=f"sqlite:///{tmp_path / 'roost.db'}",
        ROOST_EDGE_HAPROXY="/nonexistent/haproxy",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "roost.cli", "up", "--no-status", "--port", str(site)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{site}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{site}/-/shield").json()["edge"] is None
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "haproxy is not installed" in err and "apt-get install haproxy" in err


def test_each_worker_process_claims_its_own_snowflake_worker_id(tmp_path):
    """`roost serve --workers N` processes share one environment, yet must not share an id."""
    code = (
        "from roost.config import Settings; from roost.server import claim_worker_id; "
        "import sys, time; s = Settings.from_env({}, database_url=sys.argv[1], worker_id=3); "
        "print(claim_worker_id(s), flush=True); time.sleep(5)"
    )
    db = f"sqlite:///{tmp_path / 'roost.db'}"
    children = [
        subprocess.Popen([sys.executable, "-c", code, db], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        claimed = sorted(int(child.stdout.readline()) for child in children)
    finally:
        for child in children:
            child.kill()
            child.wait()
            child.stdout.close()
    assert claimed == [3, 4, 5]


async def test_the_server_freezes_what_is_alive_at_startup() -> None:
    """`roost serve` keeps its start-up objects out of later garbage collections."""
    import gc

    from roost.server import FreezeAtStartup

    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def app(scope, receive, send) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})
        assert gc.get_freeze_count() > 0  # frozen as soon as start-up was reported
        await receive()

    async def receive():
        return next(messages)

    async def send(message) -> None:
        sent.append(message["type"])

    try:
        await FreezeAtStartup(app)({"type": "lifespan"}, receive, send)
    finally:
        gc.unfreeze()
    assert sent == ["lifespan.startup.complete"]


def test_announce_publishes_lists_and_removes(sqlite_url):
    made = roost("announce", "Maintenance at 22:00", "--ends", "2999-01-01T00:00", db=sqlite_url)
    assert made.returncode == 0, made.stderr
    announcement_id = made.stdout.split()[-1]
    listed = roost("announce", "--list", db=sqlite_url).stdout
    assert announcement_id in listed and "Maintenance at 22:00" in listed
    assert "2999-01-01T00:00:00+00:00" in listed
    bad = roost("announce", "Later", "--starts", "tomorrow", db=sqlite_url)
    assert bad.returncode != 0 and "ISO 8601" in bad.stderr
    neither = roost("announce", db=sqlite_url)
    assert neither.returncode != 0 and "--list" in neither.stderr
    assert roost("announce", "--remove", announcement_id, db=sqlite_url).returncode == 0
    assert announcement_id not in roost("announce", "--list", db=sqlite_url).stdout
    gone = roost("announce", "--remove", announcement_id, db=sqlite_url)
    assert gone.returncode != 0 and "not found" in gone.stderr.lower()
