"""Which network addresses Roost may connect to when it fetches a page for someone (a preview
card): public ones only, so a post cannot make the server reach into its own network (SSRF).

The rule is allow-by-exception: an address passes only when ``ipaddress`` calls it global and
it is no multicast. Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the
cloud metadata address 169.254.169.254, fe80::/10), shared CGNAT space (100.64/10), reserved,
unspecified, broadcast and documentation ranges all fail that test. IPv6 forms that carry an
IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) reach that IPv4 host, so they are
judged by the address they carry: ``::ffff:127.0.0.1`` is loopback whatever its spelling.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address

_COMPATIBLE = IPv6Network("::/96")  # deprecated IPv4-compatible form, ::a.b.c.d
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, never public
# IANA special-purpose space that Python before 3.12.4 still calls global (gh-113171)
_SPECIAL_V4 = IPv4Network("192.0.0.0/24")


def parse(text: str) -> Address | None:
    """The address ``text`` spells (a scope suffix such as ``%eth0`` dropped), or None."""
    try:
        return ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def embedded_v4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches through (mapped, compatible, NAT64, 6to4,
    Teredo's server and client); empty for a plain IPv6 address."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _COMPATIBLE or address in _NAT64:
        return [IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def allowed(address: Address) -> bool:
    """Whether a fetch for someone else may connect to ``address``."""
    if isinstance(address, IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        carried = embedded_v4(address)
        if carried:
            # the carried host decides; 6to4 must also be a routable 6to4 address itself
            if address.sixtofour is not None and not _public(address):
                return False
            return all(_public(v4) for v4 in carried)
    return _public(address)


def _public(address: Address) -> bool:
    if isinstance(address, IPv4Address) and address in _SPECIAL_V4:
        return False
    return address.is_global and not address.is_multicast


def all_allowed(addresses: list[str]) -> bool:
    """Whether every address a name resolved to is allowed (and there is at least one): a name
    with one public and one private address could be made to connect to either."""
    parsed = [parse(a) for a in addresses]
    return bool(parsed) and all(a is not None and allowed(a) for a in parsed)
