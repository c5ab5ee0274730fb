"""Who is on the other end of the socket: the client address and its network prefix.

One rule, used by the shield, the site and the logs (``RealClient`` writes it into the ASGI
scope): the address comes from the socket, and ``X-Forwarded-For`` (the header our edge and
nginx write, replacing whatever the client sent) is believed only when the peer is a configured
trusted proxy; then the rightmost address in it that is not itself a trusted proxy is the
client, because every hop appends and only our own proxies are honest. No other header is read:
``Forwarded`` and ``X-Real-IP`` pass through proxies that do not rewrite them, so a client could
name itself in them (issue 12: a remote client posing as 127.0.0.2 reached the admin routes).
Failure policy: a malformed forwarding header is ignored (the peer address is used), never a 500.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


@lru_cache(maxsize=65536)
def prefix_of(address: str) -> str:
    """The /24 of an IPv4 address or the /64 of an IPv6 one, as a short string key.

    /24 and /64 are the usual allocation units (one customer, one LAN), as in Cloudflare's and
    Mastodon's (rack-attack) practice of limiting IPv6 by /64.
    """
    if ":" not in address:
        return address.rpartition(".")[0] + ".0/24"
    try:
        net = ipaddress.IPv6Network(f"{address}/64", strict=False)
    except ValueError:
        return address
    return str(net)


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class ClientAddress:
    """Finds the client address of an ASGI scope under a trusted-proxy policy."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.trusted = parse_networks(trusted)

    def __call__(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "0.0.0.0"
        if not self.trusted or not in_networks(peer, self.trusted):
            return peer
        for candidate in reversed(_forwarded_chain(scope.get("headers") or ())):
            if not _valid_ip(candidate):
                return peer
            if not in_networks(candidate, self.trusted):
                return candidate
        return peer

    def settle(self, scope: Scope) -> str:
        """Find the client and write it into the scope, so that everything after (the site's
        pages, uvicorn's access log) sees the address the shield judged."""
        address = self(scope)
        client = scope.get("client")
        if client is None or client[0] != address:
            scope["client"] = (address, client[1] if client else 0)
        return address


class RealClient:
    """ASGI wrapper for a site running without the shield behind a trusted proxy."""

    def __init__(self, app, trusted: Iterable[str]) -> None:
        self.app = app
        self.address = ClientAddress(trusted)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.address.settle(scope)
        await self.app(scope, receive, send)


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Every X-Forwarded-For line, in order, split into addresses."""
    chain: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            chain.extend(p.strip() for p in value.decode("latin-1").split(","))
    return chain


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
