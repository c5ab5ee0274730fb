"""`roost status ...`: run the status server or the monitor, and manage incidents as an operator.

Incident commands talk to the running status server's admin API (so there is one writer and the
page re-renders at once); they need ROOST_STATUS_ADMIN_TOKEN like any other admin client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any

import click
import httpx

from roost.config import Settings, StatusSettings


def _settings() -> Settings:
    return with_page_url(Settings.from_env())


def with_page_url(settings: Settings) -> Settings:
    """Left at its default, the page URL follows the host and port the server listens on.

    (Otherwise ROOST_STATUS_PORT=9000 alone would give links, and the CLI, the wrong port.)
    """
    s = settings.status
    default = StatusSettings()
    if s.page_url != default.page_url or (s.host, s.port) == (default.host, default.port):
        return settings
    host = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
    url = f"http://{host}:{s.port}"
    return settings.replace(status=dataclasses.replace(s, page_url=url))


class SetupError(click.ClickException):
    """A setting to fix before the command can run: exit code 2, as for a usage error."""

    exit_code = 2


@click.group()
def status() -> None:
    """The status blog: a status page that stays up when Roost doesn't."""


@status.command()
@click.option("--host", help="Bind address (default ROOST_STATUS_HOST).")
@click.option("--port", type=int, help="Port (default ROOST_STATUS_PORT).")
@click.option("--monitor/--no-monitor", default=None, help="Probe the site from this process.")
def serve(host: str | None, port: int | None, monitor: bool | None) -> None:
    """Run the status server (own port, own database, pages served from memory)."""
    from roost.status.server import SettingsError, check
    from roost.status.server import serve as run

    settings = _settings()
    changes: dict[str, Any] = {}
    if host:
        changes["host"] = host
    if port:
        changes["port"] = port
    if monitor is not None:
        changes["monitor"] = monitor
    if changes:
        settings = settings.replace(status=dataclasses.replace(settings.status, **changes))
        settings = with_page_url(settings)
    try:
        check(settings.status)
    except SettingsError as error:
        raise SetupError(str(error)) from None
    click.echo(f"status server on http://{settings.status.host}:{settings.status.port}/")
    run(settings)


@status.command("monitor")
@click.option("--once", is_flag=True, help="Probe once, print the results, exit (1 if any failed).")
@click.option("--target", help="Site to probe (default ROOST_STATUS_TARGET_URL).")
def monitor_command(once: bool, target: str | None) -> None:
    """Probe the site as a user; without --once, push every round to the status server."""
    from roost.status import monitor
    from roost.status.probes import Prober, target_problem

    s = _settings().status
    problem = target_problem(target or s.target_url)
    if problem:
        raise SetupError(f"{'--target' if target else 'ROOST_STATUS_TARGET_URL'}: {problem}")
    if not once and not s.admin_token:
        raise SetupError(NO_TOKEN)
    prober = Prober(
        target or s.target_url,
        email=s.probe_email,
        password=s.probe_password,
        timeout=s.probe_timeout,
        signin_every=s.signin_interval,
        confirm=s.recover_after,
    )

    async def one() -> bool:
        try:
            results = await prober.round()
        finally:
            await prober.close()
        for r in results:
            mark = "ok  " if r.ok else "FAIL"
            click.echo(f"{mark} {r.check:16} {r.component:10} {r.latency_ms:8.1f} ms  {r.detail}")
        return all(r.ok for r in results)

    async def forever() -> None:
        sink = monitor.PushSink(s.page_url, s.admin_token)
        try:
            await monitor.run(prober, sink, s.probe_interval)
        finally:
            await sink.close()
            await prober.close()

    if once:
        sys.exit(0 if asyncio.run(one()) else 1)
    click.echo(f"probing {target or s.target_url} every {s.probe_interval:g} s -> {s.page_url}")
    asyncio.run(forever())


@status.command()
@click.option("--failed", is_flag=True, help="Only the failed probes.")
def probes(failed: bool) -> None:
    """The status server's last probes, newest first, with their reasons."""
    for r in _admin("GET", "/api/admin/probes")["results"]:
        if failed and r["ok"]:
            continue
        mark = "ok  " if r["ok"] else "FAIL"
        click.echo(f"{r['at']} {mark} {r['check']:16} {r['latency_ms']:8.1f} ms  {r['detail']}")


# -- operators -------------------------------------------------------------------------------------


NO_TOKEN = (
    "ROOST_STATUS_ADMIN_TOKEN is not set: set it to the status server's admin token"
    " (the admin API refuses calls without it)"
)


def _admin(method: str, path: str, body: dict | None = None) -> Any:
    s = _settings().status
    if not s.admin_token:
        raise SetupError(NO_TOKEN)
    headers = {"authorization": f"Bearer {s.admin_token}"}
    url = f"{s.page_url.rstrip('/')}{path}"
    try:
        response = httpx.request(method, url, json=body, headers=headers, timeout=10)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise click.ClickException(f"status server at {s.page_url} unreachable: {error}") from None
    try:
        data = response.json() if response.content else {}
    except ValueError:  # not the admin API: a wrong PAGE_URL, a proxy's error page
        snippet = " ".join(response.text[:120].split())
        raise click.ClickException(
            f"{response.status_code} from {url}, not the status server's JSON"
            f" (is ROOST_STATUS_PAGE_URL right?): {snippet!r}"
        ) from None
    if response.status_code >= 400:
        message = data.get("error") if isinstance(data, dict) else response.text
        raise click.ClickException(f"{response.status_code}: {message}")
    return data


def _components(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        cid, sep, state = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: use component=status, e.g. web=major_outage")
        out[cid] = state
    return out


def _show(incident: dict) -> None:
    click.echo(
        f"{incident['id']}  {incident['status']:13} {incident['impact']:8} {incident['name']}"
    )
    for u in incident["incident_updates"]:
        who = u.get("author", "")
        click.echo(f"    {u['created_at']}  {u['status']:13} [{who}] {u['id']}: {u['body']}")


@status.group()
def incident() -> None:
    """Create, update, resolve and list incidents (via the admin API)."""


COMPONENT_HELP = "component=status, repeatable (e.g. web=major_outage)."


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the admin API's JSON.")
def list_incidents(as_json: bool) -> None:
    """Incidents and maintenances, newest first, with their updates."""
    data = _admin("GET", "/api/admin/incidents")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for item in data["incidents"]:
        _show(item)


@incident.command("create")
@click.argument("name")
@click.option("--body", required=True, help="The first update's text.")
@click.option("--status", "state", help="investigating (default), identified, monitoring...")
@click.option(
    "--impact", help="none, minor (default), major, critical; maintenance when scheduled."
)
@click.option("--component", "-c", multiple=True, help=COMPONENT_HELP)
@click.option("--scheduled-for", help="ISO time: makes this a scheduled maintenance.")
@click.option("--scheduled-until", help="ISO time the maintenance window ends.")
def create(name: str, body: str, state: str | None, impact: str | None, **more: Any) -> None:
    """Open an incident (or schedule maintenance) in an operator's words."""
    payload: dict[str, Any] = {"name": name, "body": body, **_optional(state, impact)}
    payload["components"] = _components(more["component"])
    for key in ("scheduled_for", "scheduled_until"):
        if more[key]:
            payload[key] = more[key]
    _show(_admin("POST", "/api/admin/incidents", payload))


@incident.command("update")
@click.argument("incident_id")
@click.option("--body", required=True, help="The update's text.")
@click.option("--status", "state", help="New status (default: unchanged).")
@click.option("--impact", help="New impact (default: unchanged).")
@click.option("--component", "-c", multiple=True, help=COMPONENT_HELP)
def update(incident_id: str, body: str, state: str | None, impact: str | None, **more: Any) -> None:
    """Add an update to an incident."""
    payload = {
        "body": body,
        **_optional(state, impact),
        "components": _components(more["component"]),
    }
    _show(_admin("POST", f"/api/admin/incidents/{incident_id}/updates", payload))


@incident.command("resolve")
@click.argument("incident_id")
@click.option("--body", default="This incident has been resolved.", help="The closing words.")
def resolve(incident_id: str, body: str) -> None:
    """Resolve an incident; its components return to operational."""
    payload = {"status": "resolved", "body": body}
    _show(_admin("POST", f"/api/admin/incidents/{incident_id}/updates", payload))


@incident.command("edit")
@click.argument("incident_id")
@click.argument("update_id")
@click.option("--body", required=True, help="The corrected text.")
def edit(incident_id: str, update_id: str, body: str) -> None:
    """Rewrite an update's text (it becomes the operator's)."""
    path = f"/api/admin/incidents/{incident_id}/updates/{update_id}"
    _show(_admin("PATCH", path, {"body": body}))


def _optional(state: str | None, impact: str | None) -> dict[str, str]:
    out = {}
    if state:
        out["status"] = state
    if impact:
        out["impact"] = impact
    return out


@status.group()
def component() -> None:
    """List components or set one's status by hand (via the admin API)."""


@component.command("list")
def list_components() -> None:
    """Components in page order, with their status."""
    for c in _admin("GET", "/api/admin/components")["components"]:
        click.echo(f"{c['id']:12} {c['status']:22} {c['name']}")


@component.command("set")
@click.argument("component_id")
@click.argument("state", metavar="STATUS")
def set_component(component_id: str, state: str) -> None:
    """Set a component's status: operational, degraded_performance, partial_outage, ..."""
    c = _admin("PATCH", f"/api/admin/components/{component_id}", {"status": state})
    click.echo(f"{c['id']:12} {c['status']:22} {c['name']}")
