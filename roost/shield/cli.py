"""`roost shield ...`: the operator's levers and views for the shield.

Commands that need a running server talk to its admin endpoints (``/-/shield...``, reachable only
from ``ROOST_SHIELD_ADMIN_NETWORKS``, loopback by default); ``under-attack`` writes the mode file
every process on this machine polls once a second.
"""

from __future__ import annotations

import json
import sys

import click
import httpx

from roost.config import Settings
from roost.shield.blocklist import to_nft, to_nginx
from roost.shield.mode import MODES, read_mode, write_mode


def _base_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    settings = Settings.from_env()
    return f"http://{settings.host}:{settings.port}"


def _get(url: str, path: str) -> httpx.Response:
    try:
        response = httpx.get(url + path, timeout=5)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None
    if response.status_code != 200:
        raise click.ClickException(f"{url}{path} answered {response.status_code}")
    return response


@click.group()
def shield() -> None:
    """The defence in front of the site: modes, views and block lists."""


@shield.command("under-attack")
@click.argument("mode", type=click.Choice(MODES), required=False)
def under_attack(mode: str | None) -> None:
    """Show or set the under-attack mode: on (challenge anonymous browsers), off, or auto."""
    settings = Settings.from_env()
    s = settings.shield
    if mode is None:
        click.echo(read_mode(s.mode_file, s.mode))
        return
    write_mode(s.mode_file, mode)
    reach = "servers on this machine"
    if settings.redis_url:
        reach = _publish_mode(settings.redis_url, s.redis_prefix, mode, reach)
    click.echo(f"under-attack mode: {mode} ({reach} pick it up within a second)")


def _publish_mode(url: str, prefix: str, mode: str, fallback: str) -> str:
    """Tell every process sharing this Redis; on failure, this machine's file still holds."""
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            client.set(f"{prefix}mode", mode)
    except redis.RedisError as exc:
        click.echo(f"warning: could not publish the mode to Redis ({exc})", err=True)
        return fallback
    return "all servers sharing this Redis"


@shield.command()
@click.option("--url", help="Server to ask (default: ROOST_HOST/ROOST_PORT).")
@click.option("-n", "count", default=20, show_default=True, help="How many prefixes.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole admin view as JSON.")
def top(url: str | None, count: int, as_json: bool) -> None:
    """The worst-behaved prefixes and addresses right now, and the attack state."""
    view = _get(_base_url(url), "/-/shield").json()
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(
        f"mode {view['mode']}, attack state {view['attack_state']}, "
        f"{view['figures']['requests_per_s']} req/s, reject ratio {view['figures']['reject_ratio']}"
    )
    click.echo(f"{'prefix':<44} suspicion")
    for key, score in view["top_prefixes"][:count]:
        click.echo(f"{key:<44} {score:.2f}")
    click.echo(f"blocked: {len(view['blocked'])}")


@shield.command("export-blocklist")
@click.option("--format", "fmt", type=click.Choice(["nft", "nginx", "json"]), default="nft")
@click.option("--url", help="Server to ask (default: ROOST_HOST/ROOST_PORT).")
@click.option("-o", "--output", type=click.File("w"), default="-", help="File (default stdout).")
def export_blocklist(fmt: str, url: str | None, output) -> None:
    """The current block list as an nftables script or an nginx geo map."""
    entries = _get(_base_url(url), "/-/shield/blocklist").json()
    if fmt == "json":
        output.write(json.dumps(entries, indent=2) + "\n")
    else:
        output.write(to_nft(entries) if fmt == "nft" else to_nginx(entries))


@shield.command()
@click.argument("key")
@click.option("--seconds", default=3600.0, show_default=True, help="0 unblocks.")
@click.option("--url", help="Server to ask (default: ROOST_HOST/ROOST_PORT).")
def block(key: str, seconds: float, url: str | None) -> None:
    """Close an address or prefix at accept (or unblock it with --seconds 0)."""
    try:
        response = httpx.post(
            _base_url(url) + "/-/shield/block", data={"key": key, "seconds": seconds}
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(str(exc)) from None
    if response.status_code != 200:
        raise click.ClickException(f"server answered {response.status_code}")
    click.echo("blocked" if seconds > 0 else "unblocked", file=sys.stdout)
