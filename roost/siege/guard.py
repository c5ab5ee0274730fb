"""The loopback guard: siege sends packets only between addresses of this machine.

Every target URL and every source address goes through here before any socket exists, and the
socket opener checks again (defence in depth). There is deliberately no override: a flood lab that
can be pointed at someone else's server is a weapon, not a lab.

Host names are resolved from ``/etc/hosts`` only (plus ``localhost`` and ``*.localhost``, which
RFC 6761 reserves for loopback): a DNS query would itself be a packet leaving the machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
LOOPBACK_V6 = ipaddress.IPv6Address("::1")

# Bounds of every run (issue 4: "default 2 minutes, hard cap 15 minutes").
DEFAULT_MAX_DURATION_S = 120.0
HARD_MAX_DURATION_S = 900.0
DEFAULT_MAX_REQUESTS = 3_000_000
HARD_MAX_REQUESTS = 50_000_000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class GuardError(ValueError):
    """A target or source that is not on this machine's loopback; nothing was sent."""


@dataclass(frozen=True)
class Target:
    """A checked target: the address to connect to is pinned here, never re-resolved."""

    url: str
    host: str  # as written in the URL (used for the Host header)
    address: str  # the loopback address all connections go to
    port: int
    path: str

    @property
    def family_v6(self) -> bool:
        return ":" in self.address

    @property
    def host_header(self) -> str:
        default = self.port == 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if default else f"{host}:{self.port}"

    @property
    def base(self) -> str:
        """Scheme, pinned address and port, for clients that take a URL."""
        host = f"[{self.address}]" if self.family_v6 else self.address
        return f"http://{host}:{self.port}"


def check_target(url: str, hosts_file: Path = Path("/etc/hosts")) -> Target:
    """Parse and judge a target URL; raise GuardError unless it is loopback-only."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 80
    except ValueError as error:
        raise GuardError(f"{url!r} is not a URL: {error}") from None
    if parts.scheme != "http":
        raise GuardError(f"{url!r}: only http:// targets are supported (plain HTTP on loopback)")
    if not parts.hostname:
        raise GuardError(f"{url!r}: no host in the URL")
    if parts.username or parts.password:
        raise GuardError(f"{url!r}: credentials in the URL are not supported")
    host = parts.hostname
    addresses = resolve_host(host, hosts_file)
    address = _pick(addresses)
    return Target(url=url, host=host, address=address, port=port, path=parts.path or "/")


def resolve_host(host: str, hosts_file: Path = Path("/etc/hosts")) -> list[IPAddress]:
    """All addresses a host name or literal stands for, every one of them loopback."""
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        addresses = _lookup_name(host.lower().rstrip("."), hosts_file)
    for address in addresses:
        if not is_loopback(address):
            raise GuardError(
                f"refusing {host!r}: it means {address}, which is not loopback "
                "(siege only targets 127.0.0.0/8 or ::1, and there is no override)"
            )
    return addresses


def parse_ip_literal(text: str) -> IPAddress | None:
    """An IP address in any spelling a resolver accepts, or None for a host name.

    Covers IPv6 (with or without brackets, IPv4-mapped), dotted quads, and the inet_aton forms
    that browsers and libc still honour: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``.
    """
    text = text.strip().strip("[]")
    if not text.isascii():
        # str.isdigit() and int() accept other scripts' digits ("١٢٧" is 127, "1²7" crashes
        # int()); a resolver never would, so such a host is neither a literal nor a known name.
        raise GuardError(
            f"refusing {text!r}: host names and addresses must be ASCII (digits 0-9 only)"
        )
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise GuardError(f"{text!r} is not a valid IPv6 address") from None
    parts = text.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # a trailing dot, as in "127.0.0.1."
    if not all(_is_number(part) for part in parts) or not 1 <= len(parts) <= 4:
        return None
    return _inet_aton([_number(part) for part in parts], text)


def check_source(address: str) -> ipaddress.IPv4Address:
    """A source address to bind: must be one address inside 127.0.0.0/8."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise GuardError(f"source {address!r} is not an IP address") from None
    if not isinstance(parsed, ipaddress.IPv4Address) or parsed not in LOOPBACK_V4:
        raise GuardError(f"refusing source address {address}: sources must be in 127.0.0.0/8")
    return parsed


def is_loopback(address: IPAddress) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        return address == LOOPBACK_V6 or (mapped is not None and mapped in LOOPBACK_V4)
    return address in LOOPBACK_V4


def check_limits(duration_s: float, max_requests: int) -> None:
    """Refuse run bounds beyond the hard caps (there is no way around them)."""
    if not 0 < duration_s <= HARD_MAX_DURATION_S:
        raise GuardError(
            f"duration {duration_s:g} s is outside (0, {HARD_MAX_DURATION_S:g}] (hard cap 15 min)"
        )
    if not 0 < max_requests <= HARD_MAX_REQUESTS:
        raise GuardError(f"max requests {max_requests} is outside (0, {HARD_MAX_REQUESTS}]")


def _pick(addresses: list[IPAddress]) -> str:
    address = addresses[0]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # connect over IPv4; same host, no dual-stack surprises
    return str(address)


def _lookup_name(name: str, hosts_file: Path) -> list[IPAddress]:
    if name == "localhost" or name.endswith(".localhost"):
        return [ipaddress.IPv4Address("127.0.0.1")]
    found = [address for address, names in _read_hosts(hosts_file) if name in names]
    if not found:
        raise GuardError(
            f"refusing {name!r}: siege resolves names only from {hosts_file} and *.localhost "
            "(no DNS query may leave the machine); use a loopback address such as 127.0.0.1"
        )
    return found


def _read_hosts(path: Path) -> list[tuple[IPAddress, set[str]]]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = ipaddress.ip_address(fields[0].split("%", 1)[0])
        except ValueError:
            continue
        entries.append((address, {name.lower().rstrip(".") for name in fields[1:]}))
    return entries


def _is_number(part: str) -> bool:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lowered[2:])
    return part != "" and all(c in "0123456789" for c in part)


def _number(part: str) -> int:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not all(c in "01234567" for c in part):
            raise GuardError(f"{part!r} is not a valid octal number in an address")
        return int(part, 8)
    return int(part)


def _inet_aton(numbers: list[int], text: str) -> ipaddress.IPv4Address:
    # inet_aton: a.b.c.d, a.b.c (c is 16 bits), a.b (b is 24 bits), a (32 bits).
    *leading, last = numbers
    last_bits = 8 * (4 - len(leading))
    if any(n > 255 for n in leading) or last >= 1 << last_bits:
        raise GuardError(f"{text!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(leading):
        value |= number << (24 - 8 * index)
    return ipaddress.IPv4Address(value)
