"""`roost status ...` commands against a real status server in a thread."""

from __future__ import annotations

import httpx
from click.testing import CliRunner
from status_support import TOKEN, StatusServer, auth

from roost.cli import main
from tests.support.ports import free_port


def run(live: StatusServer, *args: str, token: str = TOKEN) -> tuple[int, str]:
    env = {"ROOST_STATUS_PAGE_URL": live.url, "ROOST_STATUS_ADMIN_TOKEN": token}
    result = CliRunner().invoke(main, ["status", *args], env=env)
    return result.exit_code, result.output


def test_incident_lifecycle_from_the_command_line(live: StatusServer) -> None:
    code, out = run(
        live, "incident", "create", "Slow search", "--body", "Search is slow", "-c",
        "search=degraded_performance", "--impact", "minor",
    )  # fmt: skip
    assert code == 0, out
    incident_id = out.split()[0]
    assert "investigating" in out and "[operator]" in out
    code, out = run(
        live, "incident", "update", incident_id, "--status", "identified", "--body", "A bad index"
    )
    assert code == 0 and "identified" in out
    update_id = out.splitlines()[1].split("] ")[1].split(":")[0]
    code, out = run(live, "incident", "edit", incident_id, update_id, "--body", "A bad index.")
    assert code == 0 and "A bad index." in out
    code, out = run(live, "incident", "resolve", incident_id, "--body", "Rebuilt the index.")
    assert code == 0 and "resolved" in out
    code, out = run(live, "incident", "list")
    assert code == 0 and "Rebuilt the index." in out
    code, out = run(live, "incident", "list", "--json")
    assert code == 0 and '"incidents"' in out


def test_errors_are_clear_and_nonzero(live: StatusServer) -> None:
    code, out = run(live, "incident", "list", token="wrong")
    assert code == 1 and "401" in out and "Bearer" in out
    code, out = run(live, "incident", "update", "nosuchid", "--body", "x")
    assert code == 1 and "404" in out
    code, out = run(live, "incident", "create", "X", "--body", "y", "--status", "exploded")
    assert code == 1 and "422" in out
    code, out = run(live, "incident", "create", "X", "--body", "y", "-c", "web")
    assert code == 2 and "component=status" in out


def test_over_long_text_and_impossible_transitions_are_refused(live: StatusServer) -> None:
    code, out = run(live, "incident", "create", "x" * 201, "--body", "y")
    assert code == 1 and "422" in out and "'name' is 201 characters; at most 200" in out
    code, out = run(live, "incident", "create", "Slow", "--body", "y" * 5001)
    assert code == 1 and "422" in out and "at most 5000" in out
    code, out = run(live, "incident", "create", "Slow", "--body", "Search is slow")
    incident_id = out.split()[0]
    code, out = run(live, "incident", "resolve", incident_id)
    assert code == 0, out
    code, out = run(
        live, "incident", "update", incident_id, "--status", "monitoring", "--body", "?"
    )
    assert code == 1 and "422" in out and "resolved incident cannot move to monitoring" in out
    code, out = run(live, "incident", "create", "Old", "--body", "x", "--status", "postmortem")
    assert code == 1 and "cannot begin as postmortem" in out
    code, out = run(live, "incident", "create", "Odd", "--body", "x", "--impact", "maintenance")
    assert code == 1 and "for scheduled maintenance only" in out


def test_unreachable_status_server_is_a_clear_error() -> None:
    env = {"ROOST_STATUS_PAGE_URL": f"http://127.0.0.1:{free_port()}"}
    env["ROOST_STATUS_ADMIN_TOKEN"] = TOKEN
    result = CliRunner().invoke(main, ["status", "incident", "list"], env=env)
    assert result.exit_code == 1 and "unreachable" in result.output


def test_missing_admin_token_says_what_to_set(live: StatusServer) -> None:
    for args in (["incident", "list"], ["probes"], ["component", "list"], ["monitor"]):
        code, out = run(live, *args, token="")
        assert code == 2, (args, out)
        assert "ROOST_STATUS_ADMIN_TOKEN is not set" in out and "Illegal header" not in out


def test_an_answer_that_is_not_the_admin_api_is_a_clear_error(live: StatusServer) -> None:
    """A wrong page URL (here a path the status server does not serve) answers plain text."""
    env = {"ROOST_STATUS_PAGE_URL": live.url + "/wrong", "ROOST_STATUS_ADMIN_TOKEN": TOKEN}
    result = CliRunner().invoke(main, ["status", "incident", "list"], env=env)
    assert result.exit_code == 1
    assert "404 from " in result.output and "ROOST_STATUS_PAGE_URL" in result.output
    assert "Not found. The status page is at /." in result.output
    assert not isinstance(result.exception, ValueError)  # no JSONDecodeError traceback


def test_setting_a_component_by_hand(live: StatusServer) -> None:
    code, out = run(live, "component", "set", "search", "degraded_performance")
    assert code == 0 and out.split()[:2] == ["search", "degraded_performance"]
    code, out = run(live, "component", "list")
    assert code == 0 and "search       degraded_performance" in out
    assert len(out.splitlines()) == 7
    code, out = run(live, "component", "set", "search", "on_fire")
    assert code == 1 and "422" in out and "component status must be one of" in out
    code, out = run(live, "component", "set", "mainframe", "operational")
    assert code == 1 and "404" in out


def test_invalid_target_url_is_a_clear_error() -> None:
    env = {"ROOST_STATUS_TARGET_URL": "http://[::1", "ROOST_STATUS_ADMIN_TOKEN": TOKEN}
    for args in (["monitor"], ["monitor", "--once"]):
        result = CliRunner().invoke(main, ["status", *args], env=env)
        assert result.exit_code == 2, result.output
        assert "ROOST_STATUS_TARGET_URL: invalid target URL: 'http://[::1'" in result.output
        assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["status", "monitor", "--target", "ftp://x"], env=env)
    assert result.exit_code == 2 and "--target: invalid target URL: 'ftp://x'" in result.output


def test_monitor_once_reports_failures() -> None:
    env = {"ROOST_STATUS_TARGET_URL": f"http://127.0.0.1:{free_port()}"}
    result = CliRunner().invoke(main, ["status", "monitor", "--once"], env=env)
    assert result.exit_code == 1
    assert "FAIL home" in result.output and "ConnectError" in result.output


def test_probes_shows_the_reasons(live: StatusServer) -> None:
    results = [
        {"at": "2026-11-28T11:00:01Z", "check": "home", "component": "web", "ok": True,
         "latency_ms": 12.5, "detail": "1692 bytes"},
        {"at": "2026-11-28T11:00:01Z", "check": "search", "component": "search", "ok": False,
         "latency_ms": 30.0, "detail": "GET /api/v2/search answered 503"},
    ]  # fmt: skip
    pushed = httpx.post(live.url + "/api/admin/probes", json={"results": results}, headers=auth())
    assert pushed.status_code == 202
    code, out = run(live, "probes", "--failed")
    assert code == 0
    assert "FAIL search" in out and "answered 503" in out and "home" not in out


def test_page_url_follows_the_port_unless_set() -> None:
    from roost.config import Settings
    from roost.status.cli import with_page_url

    moved = with_page_url(Settings.from_env({"ROOST_STATUS_PORT": "9000"}))
    assert moved.status.page_url == "http://127.0.0.1:9000"
    public = {"ROOST_STATUS_PORT": "9000", "ROOST_STATUS_PAGE_URL": "https://status.example"}
    assert with_page_url(Settings.from_env(public)).status.page_url == "https://status.example"
    anywhere = with_page_url(Settings.from_env({"ROOST_STATUS_HOST": "0.0.0.0"}))
    assert anywhere.status.page_url == "http://127.0.0.1:8090"
