"""Which addresses a fetch for someone else may reach (roost.domain.addresses): public ones
only, whatever the spelling."""

from __future__ import annotations

import pytest

from roost.domain.addresses import all_allowed, allowed, embedded_v4, parse

ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # mapped public IPv4
    "64:ff9b::808:808",  # NAT64 of a public IPv4
    "2002:808:808::1",  # 6to4 of a public IPv4
]
DENIED = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata (link-local)
    "169.254.0.1",
    "100.64.0.1",  # CGNAT shared space
    "100.127.255.254",
    "0.0.0.0",  # unspecified
    "0.1.2.3",  # "this network"
    "255.255.255.255",  # broadcast
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "192.0.2.1",  # documentation (TEST-NET-1..3)
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",  # benchmarking
    "192.0.0.8",  # IETF protocol assignments
    "::1",  # IPv6 loopback
    "::",  # unspecified
    "fc00::1",  # unique local
    "fd12:3456:789a::1",
    "fe80::1",  # link-local
    "fe80::1%eth0",
    "ff02::1",  # multicast
    "ff0e::1",
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # mapped loopback
    "::ffff:10.0.0.1",  # mapped private
    "::ffff:169.254.169.254",  # mapped metadata
    "::127.0.0.1",  # IPv4-compatible loopback
    "::10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 of loopback
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "64:ff9b:1::8.8.8.8",  # local-use NAT64 prefix
    "2002:7f00:1::1",  # 6to4 of loopback
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "100::1",  # discard-only
]


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_are_allowed(text):
    address = parse(text)
    assert address is not None and allowed(address)


@pytest.mark.parametrize("text", DENIED)
def test_everything_else_is_denied(text):
    address = parse(text)
    assert address is not None and not allowed(address)


def test_the_ipv4_an_ipv6_address_carries():
    def carried(text):
        return [str(a) for a in embedded_v4(parse(text))]

    assert carried("::ffff:1.2.3.4") == ["1.2.3.4"]
    assert carried("::1.2.3.4") == ["1.2.3.4"]
    assert carried("64:ff9b::102:304") == ["1.2.3.4"]
    assert carried("2002:102:304::1") == ["1.2.3.4"]
    assert carried("2001:0:4136:e378:8000:63bf:3fff:fdd2") == ["65.54.227.120", "192.0.2.45"]
    assert carried("2606:4700::1") == []


def test_every_resolved_address_must_pass():
    assert all_allowed(["8.8.8.8", "2606:4700:4700::1111"])
    assert not all_allowed(["8.8.8.8", "127.0.0.1"])
    assert not all_allowed([])  # a name that resolved to nothing
    assert not all_allowed(["not an address"])
