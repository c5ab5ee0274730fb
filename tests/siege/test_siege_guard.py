"""The loopback guard: judged directly, and through the CLI inside an empty network namespace."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.siege.guard import (
    GuardError,
    check_limits,
    check_source,
    check_target,
    parse_ip_literal,
)
from roost.siege.sources import bound_socket

REPO = Path(__file__).resolve().parents[2]

LOOPBACK_URLS = {
    "http://127.0.0.1:8000/": "127.0.0.1",
    "http://localhost:8000/": "127.0.0.1",
    "http://LOCALHOST./": "127.0.0.1",
    "http://api.localhost:9/": "127.0.0.1",
    "http://127.3.4.5/": "127.3.4.5",
    "http://[::1]:8000/": "::1",
    "http://[::ffff:127.0.0.1]:8000/": "127.0.0.1",
    "http://2130706433/": "127.0.0.1",  # decimal
    "http://0x7f000001/": "127.0.0.1",  # hex
    "http://0177.0.0.1/": "127.0.0.1",  # octal
    "http://0x7f.1/": "127.0.0.1",  # inet_aton short form, hex first part
    "http://127.1/": "127.0.0.1",
    "http://127.0.0.1./": "127.0.0.1",
}

REFUSED_URLS = [
    "http://10.0.0.1/",
    "http://192.168.1.1:8000/",
    "http://8.8.8.8/",
    "http://0.0.0.0/",  # "this host" on any interface, not loopback
    "http://167772161/",  # 10.0.0.1 in decimal
    "http://0x0a000001/",  # 10.0.0.1 in hex
    "http://012.0.0.1/",  # 10.0.0.1 with an octal first part
    "http://0x8.8.8.8/",
    "http://10.1/",  # 10.0.0.1, short form
    "http://[2001:db8::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::]/",
    "http://[fe80::1%25eth0]/",
    "http://example.com/",  # names are never sent to DNS
    "http://localhost.example.com/",
    "http://127.0.0.1.nip.io/",
    "https://127.0.0.1/",  # plain HTTP only
    "ftp://127.0.0.1/",
    "http://user:pw@127.0.0.1/",
    "http://127.0.0.256/",
    "http://4294967296/",
    "http:///path-only",
    "not a url",
    "http://1\u00b27.0.0.1/",  # a superscript two: str.isdigit() says yes, int() crashes
    "http://\u0661\u0662\u0667.0.0.1/",  # Arabic-Indic 127: int() reads it as 127
    "http://\uff11\uff12\uff17.0.0.1/",  # fullwidth 127
]


@pytest.mark.parametrize(("url", "address"), sorted(LOOPBACK_URLS.items()))
def test_loopback_targets_are_accepted_and_pinned(url: str, address: str) -> None:
    assert check_target(url).address == address


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(GuardError):
        check_target(url)


@pytest.mark.parametrize("host", ["1\u00b27.0.0.1", "\u0661\u0662\u0667.0.0.1", "127.0.0.\u0661"])
def test_digits_must_be_ascii(host: str) -> None:
    with pytest.raises(GuardError, match=r"must be ASCII \(digits 0-9 only\)"):
        check_target(f"http://{host}:8000/")
    with pytest.raises(GuardError, match="must be ASCII"):
        parse_ip_literal(host)


def test_check_target_reports_odd_digits_without_a_traceback() -> None:
    from click.testing import CliRunner

    from roost.siege.cli import siege

    result = CliRunner().invoke(siege, ["check-target", "http://1\u00b27.0.0.1/"])
    assert result.exit_code == 1 and "must be ASCII" in result.output
    assert isinstance(result.exception, SystemExit)  # a clear error, not a ValueError


def test_names_come_from_the_hosts_file_only(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost roost.test\n10.0.0.7 evil.test  # comment\n::1 v6.test\n")
    assert check_target("http://roost.test:8000/", hosts).address == "127.0.0.1"
    assert check_target("http://v6.test/", hosts).address == "::1"
    with pytest.raises(GuardError, match="not loopback"):
        check_target("http://evil.test/", hosts)
    with pytest.raises(GuardError, match="no DNS query"):
        check_target("http://unknown.test/", hosts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2130706433", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"), ("127.65535", "127.0.255.255")],
)
def test_inet_aton_spellings(text: str, expected: str) -> None:
    assert parse_ip_literal(text) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("source", ["127.0.0.1", "127.255.255.254", "127.42.7.9"])
def test_loopback_sources_are_accepted(source: str) -> None:
    check_source(source)


@pytest.mark.parametrize(
    "source", ["10.0.0.1", "0.0.0.0", "::1", "::ffff:127.0.0.1", "128.0.0.1", "2130706433", "x"]
)
def test_other_sources_are_refused(source: str) -> None:
    with pytest.raises(GuardError):
        check_source(source)


def test_the_socket_opener_checks_again() -> None:
    target = check_target("http://127.0.0.1:9/")
    with pytest.raises(GuardError):
        bound_socket("10.0.0.1", target)
    forged = type(target)(url="x", host="x", address="10.0.0.1", port=80, path="/")
    with pytest.raises(GuardError):
        bound_socket("127.0.0.2", forged)


def test_run_bounds_have_hard_caps() -> None:
    check_limits(900, 50_000_000)
    for duration, requests in ((901, 10), (0, 10), (-1, 10), (10, 0), (10, 50_000_001)):
        with pytest.raises(GuardError):
            check_limits(duration, requests)


def _in_empty_netns(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["unshare", "-n", sys.executable, "-m", "roost.cli", "siege", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


needs_netns = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0,
    reason="unshare -n needs root and util-linux",
)


@needs_netns
@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://167772161/", "http://[2001:db8::1]/", "http://example.com/"]
)
def test_cli_refuses_inside_an_empty_network_namespace(url: str) -> None:
    result = _in_empty_netns("check-target", url)
    assert result.returncode == 1, result
    assert "refusing" in result.stderr or "not" in result.stderr
    assert url.split("/")[2].strip("[]") in result.stderr or "example.com" in result.stderr


@needs_netns
def test_cli_accepts_loopback_inside_an_empty_network_namespace() -> None:
    result = _in_empty_netns("check-target", "http://2130706433:8000/")
    assert result.returncode == 0, result.stderr
    assert "127.0.0.1" in result.stdout


@needs_netns
def test_run_refuses_a_remote_target_inside_an_empty_network_namespace() -> None:
    scenario = str(REPO / "scenarios" / "get-flood.toml")
    result = _in_empty_netns("run", scenario, "--target", "http://10.0.0.1:80/", "--no-live")
    assert result.returncode == 1
    assert "10.0.0.1" in result.stderr and "not loopback" in result.stderr


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_spelling_is_judged_by_its_value(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    octets = str(address).split(".")
    spellings = [str(value), hex(value), ".".join(f"0{int(o):o}" for o in octets)]
    spellings.append(f"{octets[0]}.{value & 0xFFFFFF}")
    for spelling in spellings:
        url = f"http://{spelling}/"
        if address in ipaddress.IPv4Network("127.0.0.0/8"):
            assert check_target(url).address == str(address)
        else:
            with pytest.raises(GuardError):
                check_target(url)


async def test_users_follow_redirects_only_to_the_pinned_address() -> None:
    """Issue 12, finding 13: a redirect to a `*.localhost` name was followed, resolved by the
    system resolver rather than the address the guard had checked."""
    import httpx
    import pytest

    from roost.siege.accounts import OffTarget, _pinned_only
    from roost.siege.guard import check_target

    check = _pinned_only(check_target("http://127.0.0.1:8123/"))
    await check(httpx.Request("GET", "http://127.0.0.1:8123/home"))
    for elsewhere in (
        "http://evil.localhost:8123/",
        "http://127.0.0.2:8123/",
        "http://127.0.0.1:8124/",
        "https://127.0.0.1:8123/",
    ):
        with pytest.raises(OffTarget):
            await check(httpx.Request("GET", elsewhere))
    default_port = _pinned_only(check_target("http://127.0.0.1/"))
    await default_port(httpx.Request("GET", "http://127.0.0.1/x"))
