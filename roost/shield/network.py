"""Who is on the other end of the socket: the client address and its network prefix.

The address comes from the socket. ``X-Forwarded-For`` and ``Forwarded`` are believed only when the
peer is a configured trusted proxy (issue 7, item 10); then the rightmost address that is not itself
a trusted proxy is the client, because every hop appends and only our own proxies are honest.
Failure policy: a malformed forwarding header is ignored (the peer address is used) — never a 500.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

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

    def __call__(self, scope: dict) -> str:
        client = scope.get("client")
        peer = client[0] if client else "0.0.0.0"
        if not self.trusted or not in_networks(peer, self.trusted):
            return peer
        forwarded = _forwarded_chain(scope.get("headers") or ())
        for candidate in reversed(forwarded):
            if not _valid_ip(candidate):
                return peer
            if not in_networks(candidate, self.trusted):
                return candidate
        return peer


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    chain: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            chain.extend(p.strip() for p in value.decode("latin-1").split(","))
        elif name == b"forwarded":
            chain.extend(_forwarded_for(value.decode("latin-1")))
    return chain


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` parameters of an RFC 7239 ``Forwarded`` header, brackets and ports removed."""
    found = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, raw = pair.strip().partition("=")
            if key.lower() != "for":
                continue
            raw = raw.strip('"')
            if raw.startswith("["):
                raw = raw[1:].partition("]")[0]
            elif raw.count(":") == 1:
                raw = raw.partition(":")[0]
            found.append(raw)
    return found


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
