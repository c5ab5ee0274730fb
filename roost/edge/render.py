"""HAProxy's configuration, maps and pages, rendered from the settings and the instance secret.

Everything the edge needs to judge a request without asking Python is written here once: the
keys that let it check tokens, sessions and passes and mint challenges (the configuration file is
therefore readable by its owner only), the limits from ``ROOST_SHIELD_*`` and ``ROOST_EDGE_*``, and
the refusal pages in the site's look. What changes while it runs (blocked sources, suspects,
accounts in bad standing, the attack mode) lives in maps the shield edits through the runtime API.
"""

from __future__ import annotations

import base64
import hashlib
import math
import resource
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from pathlib import Path

import jinja2
from sqlalchemy.engine import make_url

from roost.config import Settings
from roost.shield.brownout import EXPENSIVE_MESSAGE
from roost.shield.challenge import CHALLENGE_TTL, WAIT_SECONDS
from roost.shield.endpoints import UPLOAD_PATHS
from roost.shield.fetchers import FETCHER_AGENTS, PREVIEW_PAGES
from roost.shield.pages import CSP as CHALLENGE_CSP
from roost.shield.pages import challenge_page
from roost.shield.responses import MESSAGES, PAGE_CSP, RefusalPages
from roost.store.private import write_private

# Maps the shield edits live (docs/shield.md, "The edge"); each starts empty but for the mode.
MAPS = ("blocked", "suspects", "accounts", "mode")
# HAProxy's own errors (a malformed request, a queue timeout, no server): answered from files.
ERROR_STATUSES = (400, 403, 408, 413, 429, 500, 502, 503, 504)
SOCKET_NAME = "edge.sock"
# A UNIX socket path must fit in sun_path (108 bytes on Linux).
MAX_SOCKET_PATH = 100
# Requests an account must have made while the edge was calm to count as having a history here.
HISTORY_REQUESTS = 10
# Sign-ins and sign-ups waiting for a password check beyond which more are refused at once.
PASSWORD_QUEUE = 16
# Password checks per second per site process that strangers may start (each one argon2 hash,
# ~20-40 ms of a core): calm, and under attack.
PASSWORD_RATE, PASSWORD_RATE_ATTACK = 10, 1
# An account's fair share of the queue: 3 requests/s over 10 s (a person reading, with an app's
# launch burst of 20-30 requests); above it an account moves back in the queue, below it forward.
FAIR_SHARE_10S = 30
_EMPTY_UA_DIGEST = hashlib.sha256(b"").hexdigest()[:16]
_C, _N = "\x00challenge\x00", "\x00next\x00"  # placeholders, swapped for log-format fetches


@dataclass(frozen=True)
class Server:
    """One site process behind the edge."""

    name: str
    address: str  # host:port


@dataclass(frozen=True)
class EdgePlan:
    """Where the edge listens, whom it fronts and where it keeps its files."""

    run_dir: Path
    binds: tuple[str, ...]
    servers: tuple[Server, ...]

    @property
    def config_path(self) -> Path:
        return self.run_dir / "haproxy.cfg"

    @property
    def socket(self) -> Path:
        path = self.run_dir / SOCKET_NAME
        if len(str(path)) <= MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(self.run_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"roost-edge-{digest}.sock"

    def map_path(self, name: str) -> Path:
        return self.run_dir / f"{name}.map"


def bind_address(host: str, port: int) -> str:
    """HAProxy's spelling of a listening address (IPv6 hosts get the ``ipv6@`` prefix)."""
    host = host.strip("[]")
    return f"ipv6@{host}:{port}" if ":" in host else f"{host}:{port}"


def servers_from(addresses: list[str] | tuple[str, ...]) -> tuple[Server, ...]:
    return tuple(Server(f"site{i + 1}", address) for i, address in enumerate(addresses))


def default_run_dir(settings: Settings) -> Path:
    """``ROOST_EDGE_RUN_DIR``, else ``roost-edge/`` beside the SQLite database (or here)."""
    if settings.edge.run_dir:
        return Path(settings.edge.run_dir).resolve()
    url = make_url(settings.database_url)
    sqlite = url.drivername.startswith("sqlite") and url.database
    folder = Path(url.database or ".").resolve().parent if sqlite else Path.cwd()
    return folder / "roost-edge"


def session_key(secret: bytes) -> bytes:
    """The key itsdangerous derives for Starlette's session signer (``django-concat``, SHA-1)."""
    return hashlib.sha1(b"itsdangerous.Signer" + b"signer" + secret).digest()


def affordable_maxconn(wanted: int) -> int:
    """What the open-file limit allows: HAProxy needs two descriptors per connection."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return wanted
    return max(100, min(wanted, (hard - 200) // 2))


def render(settings: Settings, plan: EdgePlan, secret: bytes) -> str:
    """The HAProxy configuration text."""
    s, e = settings.shield, settings.edge
    template = jinja2.Template(
        resources.files("roost.edge").joinpath("haproxy.cfg.j2").read_text(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    shed = max(4, e.queue_shed)
    maxconn = affordable_maxconn(e.maxconn)
    return template.render(
        maxconn=maxconn,
        crowded=int(maxconn * 0.8),
        socket=plan.socket,
        threads=None,
        header_timeout=_seconds(s.header_timeout),
        body_timeout=_seconds(s.body_timeout),
        keepalive_timeout=_seconds(e.keepalive_timeout),
        queue_timeout=_seconds(e.queue_timeout),
        error_statuses=ERROR_STATUSES,
        run_dir=plan.run_dir,
        cache_mb=max(1, e.cache_mb),
        binds=plan.binds,
        servers=plan.servers,
        server_maxconn=max(1, e.server_maxconn),
        anonymous_maxconn=max(1, e.server_maxconn // 2),
        anonymous_attack_maxconn=max(1, e.attack_anonymous_maxconn),
        connections_per_ip=s.max_connections_per_ip,
        empty_ua_digest=_EMPTY_UA_DIGEST,
        token_key=base64.b64encode(secret).decode(),
        session_key=base64.b64encode(session_key(secret)).decode(),
        new_account_seconds=int(e.new_account_seconds),
        new_account_offset_ms=max(1000, round(e.queue_timeout * 1000)),
        # Requests in a 10 s window: the rate for 10 s plus the burst, as the GCRA allows.
        ip_10s=_window(s.ip_rate, s.ip_burst),
        ip_10s_attack=_window(s.ip_rate, s.ip_burst, s.attack_tighten),
        prefix_10s=_window(s.prefix_rate, s.prefix_burst),
        prefix_10s_attack=_window(s.prefix_rate, s.prefix_burst, s.attack_tighten),
        account_10s=_window(s.account_rate, s.account_burst),
        fair_10s=FAIR_SHARE_10S,
        history=HISTORY_REQUESTS,
        people_queue_strain=4 * max(1, e.server_maxconn) * len(plan.servers),
        # roost.shield.endpoints: logins 0.1/s with a burst of 10, sign-ups 0.01/s with 5.
        login_per_5min=40,
        signup_per_5min=8,
        max_body_bytes=s.max_body_bytes,
        max_upload_bytes=s.max_upload_bytes,
        upload_paths=" ".join(sorted(UPLOAD_PATHS)),
        preview_pages=PREVIEW_PAGES,
        fetcher_agents=FETCHER_AGENTS,
        pow_bits=s.pow_bits,
        challenge_ttl=CHALLENGE_TTL,
        wait_seconds=WAIT_SECONDS,
        pass_ttl=s.pass_ttl,
        page_csp=PAGE_CSP,
        challenge_csp=CHALLENGE_CSP,
        password_queue=PASSWORD_QUEUE,
        strained_rps=max(1, round(s.attack_rps * len(plan.servers))),
        password_rate=PASSWORD_RATE * len(plan.servers),
        password_rate_attack=PASSWORD_RATE_ATTACK * len(plan.servers),
        queue_shed_3=shed // 2,
        queue_shed_4=shed // 4,
        table_size=max(1000, min(s.table_slots, 200_000)),
        small_table_size=50_000,
    )


def write(settings: Settings, plan: EdgePlan, secret: bytes) -> Path:
    """Write the configuration, fresh maps and the pages into ``plan.run_dir``; return the config.

    The maps start empty (a new edge knows no blocks until the shield tells it), the mode map
    says calm."""
    run = plan.run_dir
    (run / "pages").mkdir(parents=True, exist_ok=True)
    (run / "errors").mkdir(exist_ok=True)
    run.chmod(0o700)
    for name in MAPS:
        plan.map_path(name).write_text("attack 0\n" if name == "mode" else "")
    _write_pages(settings, run)
    (run / "hold.lua").write_text(_hold_script(settings.edge.hold_seconds))
    config = plan.config_path
    write_private(config, render(settings, plan, secret))  # the keys that check tokens
    return config


def _write_pages(settings: Settings, run: Path) -> None:
    pages = RefusalPages(settings.instance_name, settings.status.page_url)
    files = {
        "429.html": pages.page(429, retry_after=10),
        "429.json": _json_error(MESSAGES[429]),
        "503.html": pages.page(503, retry_after=5),
        "503.json": _json_error(MESSAGES[503]),
        "brownout.html": pages.page(503, EXPENSIVE_MESSAGE, retry_after=30),
        "brownout.json": _json_error(EXPENSIVE_MESSAGE),
        "challenge.html": _challenge_template(),
    }
    for name, body in files.items():
        (run / "pages" / name).write_bytes(body)
    for status in ERROR_STATUSES:
        (run / "errors" / f"{status}.http").write_bytes(_error_file(pages, status))


def _hold_script(seconds: float) -> str:
    """``roost_hold``: a random 0.5-1.5x ``seconds`` pause (bots held in step come back in step)."""
    low, high = max(0, round(seconds * 500)), max(0, round(seconds * 1500))
    return (
        "-- Written by roost edge config: holds a refused request before it is answered.\n"
        'core.register_action("roost_hold", { "http-req" }, function(txn)\n'
        f"    core.msleep(math.random({low}, {high}))\n"
        "end)\n"
    )


def _challenge_template() -> bytes:
    """The challenge page as a log-format file: HAProxy fills in the challenge and the path."""
    page = challenge_page(_C, _N).decode().replace("%", "%%")
    page = page.replace(_C, "%[var(txn.challenge)]").replace(_N, "%[var(txn.next)]")
    return page.encode()


def _error_file(pages: RefusalPages, status: int) -> bytes:
    """A whole HTTP response for HAProxy's ``errorfile``: a page for people where one helps."""
    retry = {429: 10, 502: 5, 503: 5, 504: 5}.get(status)
    if status >= 429:
        body, ctype = pages.page(status, retry_after=retry), "text/html; charset=utf-8"
    else:
        body, ctype = (MESSAGES.get(status, "") + "\n").encode(), "text/plain; charset=utf-8"
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"Content-Type: {ctype}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
    ]
    if retry:
        head.append(f"Retry-After: {retry}")
    if status in (400, 408, 413):
        head.append("Connection: close")  # the request could not be read: nothing follows it
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json_error(message: str) -> bytes:
    quoted = message.replace('"', "'")
    return ('{"error":"' + quoted + '","error_description":"' + quoted + '"}').encode()


def _window(rate: float, burst: float, factor: float = 1.0) -> int:
    return max(1, math.ceil((rate * 10 + burst) * factor))


def _seconds(value: float) -> str:
    """HAProxy's time format: whole units only (2.5 s is ``2500ms``)."""
    ms = max(1, round(value * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"
