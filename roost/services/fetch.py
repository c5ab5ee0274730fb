"""Fetching a web page for someone else (a preview card), safely.

A post names any URL it likes, and the server fetches it: without care that is a way to make
Roost reach its own network (the database, the cloud's metadata service at 169.254.169.254),
to hold its workers with endless or slow answers, or to join a stampede on someone's site when
a link goes viral. So, per fetch:

- only http and https, on ports 80 and 443 (any port for an allow-listed host), no credentials;
- the name is resolved first and *every* address it resolves to must be public
  (``roost.domain.addresses``), then the connection goes to that checked address itself, the
  name sent as ``Host`` and as TLS's SNI (certificates are still checked against the name):
  a name re-pointed between the check and the connection (DNS rebinding) gains nothing;
- redirects are followed by hand, at most ``MOST_REDIRECTS``, each target checked the same way;
- the whole fetch, redirects included, takes at most ``preview_timeout``; at most
  ``preview_max_bytes`` of the body are read (decompressed, if it came compressed) and the rest
  is never asked for; only HTML is returned; no cookie is kept from one request to the next;
- each host is asked at most ``preview_host_rate`` times a second by this process: fetches
  beyond it wait their turn, and past ``MOST_WAIT`` seconds of queue they are not made at all.

Hosts in ``preview_allow_hosts`` skip the address check (and the port rule), for a test's
server on 127.0.0.1 or an operator's own intranet.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from roost.config import Settings
from roost.domain import addresses, cards

MOST_REDIRECTS = 3
MOST_WAIT = 30.0  # s of queue for one host; later fetches to it are refused, not queued
MOST_HOSTS = 10_000  # hosts remembered by the rate; older turns are forgotten beyond it
_REDIRECTS = (301, 302, 303, 307, 308)
_PORTS = {"http": 80, "https": 443}

Resolve = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The page was not fetched, or not used: why, in a few words (logged, never shown)."""


@dataclass(frozen=True)
class Fetched:
    url: str  # where the page was found, after redirects
    content_type: str
    body: bytes


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the event loop's resolver, in a thread)."""
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class HostRate:
    """At most ``rate`` fetches a second per host (one token, refilled every 1/rate s): each
    fetch takes the host's next free turn and sleeps until it comes. A rate of 0 or less
    means no limit."""

    def __init__(self, rate: float, most_wait: float = MOST_WAIT) -> None:
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.most_wait = most_wait
        self.next: dict[str, float] = {}

    async def turn(self, host: str) -> None:
        clock = time.monotonic()
        slot = max(clock, self.next.get(host, clock))
        if slot - clock > self.most_wait:
            raise Refused(f"{host} is asked too often; not queued")
        if len(self.next) > MOST_HOSTS:
            self.next = {h: t for h, t in self.next.items() if t > clock}
        self.next[host] = slot + self.gap
        if slot > clock:
            await asyncio.sleep(slot - clock)


class Fetcher:
    """Fetches pages under the rules above; one per process (the rate is per process)."""

    def __init__(self, settings: Settings, resolver: Resolve = resolve) -> None:
        media = settings.media
        self.allow = frozenset(h.lower() for h in media.preview_allow_hosts)
        self.timeout = media.preview_timeout
        self.most_bytes = media.preview_max_bytes
        self.rate = HostRate(media.preview_host_rate)
        self.resolve = resolver
        self.headers = {
            "User-Agent": f"Roost/0.1 (+{settings.base_url}) link preview",
            "Accept": "text/html,application/xhtml+xml;q=0.9",
            "Accept-Encoding": "gzip, deflate",
        }
        self.tls = ssl.create_default_context()
        self.requests = 0  # requests sent, since the start (metrics, tests)

    async def page(self, url: str) -> Fetched:
        """The HTML page at ``url``, or ``Refused``. Only network time counts against the
        timeout: a turn waited for under the host's rate does not."""
        budget = self.timeout
        for _ in range(MOST_REDIRECTS + 1):
            host = self._check_url(url)
            await self.rate.turn(host)
            started = time.monotonic()
            try:
                async with asyncio.timeout(budget):
                    found = await self._hop(url, host)
            except TimeoutError:
                raise Refused(f"{url} took longer than {self.timeout} s") from None
            budget -= time.monotonic() - started
            if isinstance(found, Fetched):
                return found
            url = found
        raise Refused(f"more than {MOST_REDIRECTS} redirects")

    def _check_url(self, url: str) -> str:
        """The host to fetch ``url`` from, if its form is allowed."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise Refused(f"not a URL: {url[:100]}") from None
        host = (parts.hostname or "").lower()
        if parts.scheme not in _PORTS or not host:
            raise Refused(f"not http(s): {url[:100]}")
        if parts.username is not None or parts.password is not None:
            raise Refused("credentials in the URL")
        if port is not None and port != _PORTS[parts.scheme] and host not in self.allow:
            raise Refused(f"port {port} is not 80 or 443")
        return host

    async def _hop(self, url: str, host: str) -> Fetched | str:
        """One request: the page, or the URL it redirects to."""
        parts = urlsplit(url)
        port = parts.port or _PORTS[parts.scheme]
        found = await self.resolve(host, port)
        if host not in self.allow and not addresses.all_allowed(found):
            raise Refused(f"{host} resolves to an address not allowed: {found}")
        last: Exception | None = None
        for address in found:  # each checked above; the first that answers is used
            try:
                return await self._ask(url, parts.netloc.rsplit("@", 1)[-1], host, address)
            except httpx.ConnectError as exc:
                last = exc
        raise Refused(f"cannot connect to {host}: {last}")

    async def _ask(self, url: str, netloc: str, host: str, address: str) -> Fetched | str:
        """``url`` asked of ``address`` (pinned), the name in Host and SNI; a new client per
        request, so no cookie or connection carries over to the next one."""
        parts = urlsplit(url)
        literal = f"[{address}]" if ":" in address else address
        port = f":{parts.port}" if parts.port else ""
        pinned = urlunsplit((parts.scheme, literal + port, parts.path or "/", parts.query, ""))
        transport = httpx.AsyncHTTPTransport(verify=self.tls, retries=0)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            request = client.build_request(
                "GET",
                pinned,
                headers={**self.headers, "Host": netloc},
                extensions={"sni_hostname": host},
            )
            self.requests += 1
            response = await client.send(request, stream=True)
            try:
                return await self._answer(url, response)
            finally:
                await response.aclose()

    async def _answer(self, url: str, response: httpx.Response) -> Fetched | str:
        if response.status_code in _REDIRECTS and "location" in response.headers:
            target = cards.normalize(urljoin(url, response.headers["location"]))
            if target is None:
                raise Refused("redirect to a URL not allowed")
            return target
        if response.status_code != 200:
            raise Refused(f"answered {response.status_code}")
        content_type = response.headers.get("content-type", "")
        if not cards.is_html(content_type):
            raise Refused(f"not HTML: {content_type[:80]}")
        body = await self._body(response)
        return Fetched(url, content_type, body)

    async def _body(self, response: httpx.Response) -> bytes:
        """At most ``most_bytes`` of the body, decompressed here with the same bound (httpx
        would inflate a whole network chunk at once: 64 KiB of zeros make 64 MiB)."""
        coding = response.headers.get("content-encoding", "identity").strip().lower()
        if coding not in ("identity", "gzip", "deflate", ""):
            raise Refused(f"content encoding {coding}")
        inflate = zlib.decompressobj(47) if coding in ("gzip", "deflate") else None
        chunks: list[bytes] = []
        size = 0
        async for raw in response.aiter_raw():
            try:
                data = raw if inflate is None else inflate.decompress(raw, self.most_bytes - size)
            except zlib.error:
                raise Refused("broken compressed body") from None
            chunks.append(data[: self.most_bytes - size])
            size += len(chunks[-1])
            if size >= self.most_bytes or (inflate is not None and inflate.unconsumed_tail):
                break  # the rest is never read: closing the response drops the connection
        return b"".join(chunks)
