"""Source addresses for bots and users, and sockets bound to them.

Linux routes all of 127.0.0.0/8 to ``lo``, so a socket bound to 127.a.b.c before connecting
reaches a server on 127.0.0.1 and the server sees 127.a.b.c as the client. With
``IP_BIND_ADDRESS_NO_PORT`` the kernel picks the port at connect time, so each address gets its
own port space and thousands of bots can each hold many connections.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
from collections.abc import Callable

from roost.siege.guard import GuardError, Target, check_source, is_loopback

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux value
HOSTS_PER_PREFIX = 254  # .1 to .254 of each /24
# 127.0.x.x is left alone: targets live there (127.0.0.1) and so might other test servers.
FIRST_SECOND_OCTET = 1
PREFIX_SPACE = (255 - FIRST_SECOND_OCTET) * 256  # /24s from 127.1.0.0 to 127.254.255.0


class AddressPlan:
    """Hands out disjoint /24 prefixes in 127.0.0.0/8, repeatably for a seed."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._used: set[int] = set()

    def take(self, count: int, prefixes: int) -> list[str]:
        """``count`` addresses spread evenly over ``prefixes`` fresh /24s."""
        check_spread(count, prefixes)
        chosen = self._prefixes(prefixes)
        per_prefix, extra = divmod(count, prefixes)
        addresses: list[str] = []
        for index, prefix in enumerate(chosen):
            hosts = per_prefix + (1 if index < extra else 0)
            second, third = divmod(prefix, 256)
            addresses.extend(f"127.{second}.{third}.{host}" for host in range(1, hosts + 1))
        return addresses

    def _prefixes(self, wanted: int) -> list[int]:
        space = range(FIRST_SECOND_OCTET * 256, FIRST_SECOND_OCTET * 256 + PREFIX_SPACE)
        if len(self._used) + wanted > len(space):
            raise GuardError(f"no room for {wanted} more /24 prefixes in 127.0.0.0/8")
        chosen: list[int] = []
        while len(chosen) < wanted:
            prefix = self._random.choice(space)
            if prefix not in self._used:
                self._used.add(prefix)
                chosen.append(prefix)
        return chosen


def check_spread(count: int, prefixes: int) -> None:
    """Refuse impossible spreads (each /24 holds at most 254 bots)."""
    if count < 1 or prefixes < 1:
        raise ValueError("bots and prefixes must be at least 1")
    if prefixes > count:
        raise ValueError(f"{prefixes} prefixes cannot be filled by {count} bots")
    if count > prefixes * HOSTS_PER_PREFIX:
        raise ValueError(
            f"{count} bots do not fit in {prefixes} /24 prefixes "
            f"(at most {HOSTS_PER_PREFIX} each); raise prefixes to {-(-count // HOSTS_PER_PREFIX)}"
        )


def bound_socket(source: str | None, target: Target) -> socket.socket:
    """A non-blocking TCP socket bound to ``source`` (checked again here), ready to connect."""
    if not is_loopback(ipaddress.ip_address(target.address)):
        raise GuardError(f"refusing to connect to {target.address}: not loopback")
    if target.family_v6:
        # 127/8 sources cannot be bound on an IPv6 socket: every bot shares ::1.
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    else:
        if source is not None:
            check_source(source)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if source is not None and not target.family_v6:
            sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source, 0))
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


async def connect(
    source: str | None,
    target: Target,
    protocol_factory: Callable[[], asyncio.Protocol],
    connect_timeout: float = 5.0,
) -> tuple[asyncio.Transport, asyncio.Protocol]:
    """Open one connection from ``source`` to the pinned target address."""
    loop = asyncio.get_running_loop()
    sock = bound_socket(source, target)
    try:
        async with asyncio.timeout(connect_timeout):
            await loop.sock_connect(sock, (target.address, target.port))
            return await loop.create_connection(protocol_factory, sock=sock)
    except BaseException:
        sock.close()
        raise
