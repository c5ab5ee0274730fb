"""Roost's one settings object, read from ``ROOST_*`` environment variables.

Every setting has a name, a default and a line of help (the Datasette way), so that
``roost settings`` and ``/-/settings`` can show them and a test can check they are documented.
Sections (shield, status, siege) read ``ROOST_<SECTION>_<NAME>``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


def setting(
    default: Any,
    help: str,
    *,
    low: float = 0,
    high: float | None = None,
    choices: tuple = (),
    file: bool = False,
) -> Any:
    """A settings field with its help text kept beside it, and what values it accepts: numbers
    within ``low`` (0 unless said: no count, rate, size or time is negative) and ``high``, text
    among ``choices`` when given, a readable file when ``file`` (and not empty). Checked when
    settings are made (``check``), so a typo in a ``ROOST_*`` variable stops the process with a
    message instead of misbehaving later."""
    rules = {"help": help, "low": low, "high": high, "choices": choices, "file": file}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=rules)
    return field(default=default, metadata=rules)


class BadSetting(ValueError):
    """A setting outside what it accepts; the message names it as its variable."""


def check(settings: Any, prefix: str = "ROOST_") -> None:
    """Every setting of ``settings`` (and of its sections) within its declared range."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        name = prefix + f.name.upper()
        if dataclasses.is_dataclass(value):
            check(value, name + "_")
            continue
        rules = f.metadata
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value < rules.get("low", 0):
                raise BadSetting(f"{name}: must be at least {rules.get('low', 0)}, not {value}")
            high = rules.get("high")
            if high is not None and value > high:
                raise BadSetting(f"{name}: must be at most {high}, not {value}")
        choices = rules.get("choices") or ()
        if choices and value not in choices:
            raise BadSetting(f"{name}: must be one of {', '.join(choices)}, not {value!r}")
        if rules.get("file") and value and not os.access(value, os.R_OK):
            raise BadSetting(f"{name}: no readable file at {value!r}")


@dataclass(frozen=True)
class ShieldSettings:
    """The defence in front of the site (issue: the shield)."""

    enabled: bool = setting(True, "Run the shield in front of the site.")
    trusted_proxies: list = setting([], "Peers whose X-Forwarded-For is believed.")
    ip_rate: float = setting(20.0, "Requests/s one address may make (GCRA, cost 1 = a cheap read).")
    ip_burst: float = setting(60.0, "Burst one address may make above its rate.")
    prefix_rate: float = setting(200.0, "Requests/s one IPv4 /24 or IPv6 /64 may make.")
    prefix_burst: float = setting(400.0, "Burst one prefix may make above its rate.")
    account_rate: float = setting(20.0, "Requests/s one signed-in account may make.")
    account_burst: float = setting(
        300.0, "Burst one account may make above its rate (Mastodon: 300 per 5 minutes)."
    )
    global_rate: float = setting(20000.0, "Requests/s the process admits (global budget).")
    global_burst: float = setting(4000.0, "Burst of the global budget.")
    attack_tighten: float = setting(0.25, "Factor on per-source limits while under attack.", high=1)
    table_slots: int = setting(
        1 << 20, "Slots per rate table (16 bytes each, bounded memory).", low=1
    )
    header_timeout: float = setting(10.0, "Seconds to receive a request's headers.")
    body_timeout: float = setting(10.0, "Seconds to receive a request's body.")
    keepalive_timeout: float = setting(5.0, "Seconds an idle keep-alive connection is kept.")
    max_header_bytes: int = setting(16384, "Largest request line plus headers (431 above).")
    max_body_bytes: int = setting(1_000_000, "Largest request body (413 above).")
    max_upload_bytes: int = setting(
        17_000_000, "Largest body of an upload (pictures: ROOST_MEDIA_MAX_IMAGE_BYTES and a form)."
    )
    max_connections_per_ip: int = setting(32, "Concurrent connections one address may hold.")
    concurrency_initial: int = setting(32, "Starting adaptive concurrency limit.")
    concurrency_min: int = setting(4, "Floor of the adaptive concurrency limit.", low=1)
    concurrency_max: int = setting(512, "Ceiling of the adaptive concurrency limit.")
    queue_max: int = setting(512, "Requests waiting for admission at most.")
    queue_target_ms: float = setting(5.0, "CoDel target wait while the queue is standing.")
    queue_interval_ms: float = setting(
        100.0, "CoDel interval: wait allowed after the queue empties."
    )
    mode: str = setting(
        "auto",
        "Under-attack mode: auto, on or off (`roost shield under-attack`).",
        choices=("auto", "on", "off"),
    )
    mode_file: str = setting("roost-shield-mode", "File holding the mode set by the CLI.")
    pow_bits: int = setting(
        14, "Proof-of-work difficulty (leading zero bits) for a clean client.", high=32
    )
    pow_bits_max: int = setting(
        20, "Proof-of-work difficulty for the most suspicious client.", high=32
    )
    pass_ttl: int = setting(3600, "Seconds a challenge pass cookie is valid.")
    pass_rate: float = setting(10.0, "Requests/s one pass may be used for.")
    attack_rps: float = setting(300.0, "Requests/s below which no attack is declared.")
    brownout_ttl: float = setting(2.0, "Seconds a brownout page is fresh.")
    brownout_stale: float = setting(30.0, "Seconds a brownout page may be served stale.")
    block_seconds: float = setting(60.0, "Seconds a bad source is closed at accept (0: never).")
    admin_networks: list = setting(
        ["127.0.0.1/32", "::1/128"],
        "Who may see /metrics and /-/shield (never blocked). Only the machine's own address by"
        " default: the rest of 127/8 is where the flood lab's bots come from.",
    )
    redis_prefix: str = setting("roost:shield:", "Key prefix for shared limits in Redis.")


@dataclass(frozen=True)
class EdgeSettings:
    """The edge: HAProxy in front of the site, enforcing what the shield decides (issue 11)."""

    enabled: bool = setting(True, "`roost up` puts the edge in front when haproxy is installed.")
    haproxy: str = setting("haproxy", "The HAProxy binary (Debian's haproxy 2.6).")
    run_dir: str = setting(
        "", "The edge's configuration, maps and runtime socket (empty: roost-edge/ by the db)."
    )
    runtime: str = setting(
        "", "The edge's runtime API socket, where the shield pushes blocks and the mode (or none)."
    )
    maxconn: int = setting(
        100_000, "Client connections the edge holds at once (capped by the open-file limit)."
    )
    server_maxconn: int = setting(
        12, "Requests one site process runs at once; the rest wait in the edge's priority queue."
    )
    queue_timeout: float = setting(10.0, "Seconds a request may wait in the edge's queue.")
    keepalive_timeout: float = setting(
        30.0, "Seconds the edge keeps an idle client connection (a person between two clicks)."
    )
    hold_seconds: float = setting(
        2.0, "Refusals to strangers under attack (or shed) are held about this long first."
    )
    attack_anonymous_maxconn: int = setting(
        2, "Requests from people not signed in one site process runs at once under attack."
    )
    queue_shed: int = setting(
        48, "Queued requests beyond which the edge refuses anonymous ones (suspicious: a quarter)."
    )
    cache_mb: int = setting(64, "Memory for the edge's cache of anonymous pages, in MB.")
    new_account_seconds: float = setting(
        86400.0, "Accounts younger than this rank below established ones in the edge's queue."
    )
    backend_port: int = setting(
        0, "Port of the site behind `roost up`'s edge (0: a free one).", high=65535
    )


@dataclass(frozen=True)
class StatusSettings:
    """The separate status-page process (issue: the status blog)."""

    database_url: str = setting("sqlite:///roost-status.db", "Status server's own database.")
    host: str = setting("127.0.0.1", "Status server bind address.")
    port: int = setting(8090, "Status server port.", high=65535)
    page_url: str = setting("http://127.0.0.1:8090", "Public URL of the status page.")
    admin_token: str = setting("", "Bearer token for the status admin API and shield events.")
    database_schema: str = setting("", "PostgreSQL schema for the status tables (empty: default).")
    page_name: str = setting("Roost", "Name shown on the status page and in its JSON.")
    components: list = setting(
        ["Web", "API", "Sign-in", "Posting", "Timelines", "Search", "Streaming"],
        "Components shown on the page, in order; probes exist for the default seven.",
    )
    target_url: str = setting("http://127.0.0.1:8000", "Main site the monitor probes.")
    monitor: bool = setting(True, "Run the monitor inside `roost status serve`.")
    probe_interval: float = setting(5.0, "Seconds between probe rounds.")
    probe_timeout: float = setting(3.0, "Seconds one probe may take before it counts as failed.")
    probe_email: str = setting("", "Probe account e-mail (sign-in, posting); empty skips those.")
    probe_password: str = setting("", "Probe account password.")
    signin_interval: float = setting(60.0, "Seconds between probe sign-ins (logins are limited).")
    fail_after: int = setting(3, "Consecutive failed probes before a component counts as down.")
    recover_after: int = setting(3, "Consecutive good probes before a component counts as up.")
    slow_ms: float = setting(2000.0, "Good probes slower than this count as degraded performance.")
    quiet_period: float = setting(300.0, "Seconds healthy, attack over, before auto-resolving.")
    major_after: int = setting(2, "Components down for an automatic incident's impact: major.")
    critical_after: int = setting(4, "Components down for an automatic incident's impact: crit.")
    probe_retention_days: int = setting(7, "Days raw probe results are kept (daily totals: 90).")
    webhook_urls: list = setting([], "URLs sent a signed JSON POST on every incident update.")
    webhook_secret: str = setting("", "HMAC-SHA256 key for X-Roost-Signature on webhooks.")
    webhook_attempts: int = setting(6, "Delivery attempts per webhook before giving up.")
    announce_token: str = setting("", "Token of a Roost account (@status) that posts each update.")


@dataclass(frozen=True)
class MediaSettings:
    """Pictures: uploads, avatars and headers, where their files live, and link preview cards."""

    backend: str = setting(
        "local", "Where media files live: local (a directory) or s3.", choices=("local", "s3")
    )
    dir: str = setting("roost-media", "Directory of media files (backend local).")
    url: str = setting("", "Public base URL of media files; empty: the instance's /media.")
    s3_bucket: str = setting("", "Bucket of media files (backend s3).")
    s3_endpoint: str = setting("", "S3-compatible endpoint URL (empty: AWS's own).")
    s3_region: str = setting("us-east-1", "Region of the bucket (backend s3).")
    s3_access_key: str = setting("", "Access key id (backend s3; empty: the usual AWS chain).")
    s3_secret_key: str = setting("", "Secret access key (backend s3).")
    max_image_bytes: int = setting(16 * 1024 * 1024, "Largest image upload, in bytes (413 above).")
    max_pixels: int = setting(
        33_177_600, "Most pixels an uploaded image may decode to (8K); larger is refused as a bomb."
    )
    max_frames: int = setting(300, "Most frames an animated GIF may have.")
    unattached_ttl: float = setting(
        86400.0, "Seconds an upload not attached to a post is kept before it is removed."
    )
    daily_bytes: int = setting(
        1_000_000_000, "Bytes of uploads one account may send in 24 hours (0: no bound)."
    )
    max_unattached: int = setting(
        40, "Uploads one account may hold unattached at once (more are refused with 422)."
    )
    workers: int = setting(0, "Images processed at once per process (0: one per CPU core).")
    wait: float = setting(
        5.0, "Seconds an upload waits for its processing before answering 202 (still processing)."
    )
    preview_cards: bool = setting(True, "Fetch a preview card for the first link of each post.")
    preview_allow_hosts: list = setting(
        [], "Hosts a preview may be fetched from even at private or loopback addresses (tests)."
    )
    preview_timeout: float = setting(5.0, "Seconds a preview fetch may take in all.")
    preview_max_bytes: int = setting(1_000_000, "Most bytes of a page read for its preview.")
    preview_host_rate: float = setting(
        1.0, "Preview fetches per second to one host at most (no stampede on others' sites)."
    )


@dataclass(frozen=True)
class Settings:
    """Everything Roost can be told; defaults run with no services at all."""

    database_url: str = setting(
        "sqlite:///roost.db", "SQLAlchemy URL: sqlite:///file or postgresql://..."
    )
    redis_url: str = setting("", "Redis URL; empty means in-process feeds, queue and limits.")
    host: str = setting("127.0.0.1", "Bind address of `roost serve`.")
    port: int = setting(8000, "Port of `roost serve`.", high=65535)
    workers: int = setting(1, "Worker processes for `roost serve`.")
    instance_name: str = setting("Roost", "Name shown to users and clients.")
    domain: str = setting("localhost:8000", "Public host[:port] of this instance.")
    https: bool = setting(False, "Public URLs use https (and cookies are Secure).")
    secret_key: str = setting(
        "", "Secret for sessions and signatures; generated per data dir if empty."
    )
    max_post_chars: int = setting(500, "Longest post, counted as Mastodon counts.")
    fanout_threshold: int = setting(
        10_000, "Authors with more followers are merged in at read time."
    )
    feed_length: int = setting(800, "Entries kept in each home feed.")
    worker_id: int = setting(0, "Snowflake worker id (0-1023), distinct per process.", high=1023)
    registrations_open: bool = setting(True, "Anyone may sign up.")
    password_grant: bool = setting(
        True, "Allow the OAuth password grant (scripts and tests use it)."
    )
    token_lifetime: int = setting(
        0, "Seconds an OAuth access token is valid (0: until revoked, as on Mastodon)."
    )
    auto_migrate: bool = setting(True, "Apply migrations when `roost serve` starts.")
    rules_file: str = setting(
        "", "The instance's rules, one a line (`text | hint`); empty: no rules.", file=True
    )
    about_file: str = setting(
        "",
        "The instance's extended description (plain text, paragraphs apart); empty: none.",
        file=True,
    )
    trends_refresh: float = setting(
        60.0, "Seconds trending posts are kept in process before they are computed again."
    )
    trends_account_age: float = setting(
        86400.0, "Seconds an account must exist before its posts, favourites and reposts trend."
    )
    shield: ShieldSettings = field(default_factory=ShieldSettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    edge: EdgeSettings = field(default_factory=EdgeSettings)
    media: MediaSettings = field(default_factory=MediaSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ROOST_*`` variables, then apply keyword overrides."""
        env = os.environ if env is None else env
        values = _read_section(cls, env, "ROOST_")
        values.update(overrides)
        made = cls(**values)
        try:
            check(made)
        except BadSetting as exc:
            raise SystemExit(str(exc)) from None
        return made

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.domain}"


def _read_section(cls: type, env: Mapping[str, str], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in _SECTIONS:
            section = _SECTIONS[f.name]
            values[f.name] = section(**_read_section(section, env, f"{prefix}{f.name.upper()}_"))
            continue
        raw = env.get(prefix + f.name.upper())
        if raw is not None:
            sample = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
            values[f.name] = _parse(raw, sample, prefix + f.name.upper())
    return values


def _parse(raw: str, default: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise SystemExit(f"{name}: cannot read {raw!r} as {type(default).__name__}") from None
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def describe(settings: Any, prefix: str = "ROOST_") -> list[tuple[str, Any, str]]:
    """(env name, current value, help) for every setting, secrets masked."""
    rows: list[tuple[str, Any, str]] = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe(value, f"{prefix}{f.name.upper()}_"))
            continue
        hidden = any(word in f.name for word in ("secret", "token", "password"))
        shown = "********" if hidden and value else value
        rows.append((prefix + f.name.upper(), shown, f.metadata.get("help", "")))
    return rows


_SECTIONS: dict[str, type] = {
    "shield": ShieldSettings,
    "status": StatusSettings,
    "edge": EdgeSettings,
    "media": MediaSettings,
}
