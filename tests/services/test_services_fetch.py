"""The safe fetcher (roost.services.fetch) against a real page server on 127.0.0.1: what it
refuses before sending anything, where it connects, and the bounds it keeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from roost.config import MediaSettings
from roost.services.fetch import Fetcher, Refused
from tests.support.pages import PageServer
from tests.support.settings import make_settings


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer().start()
    yield server
    server.stop()


def fetcher(allow=("127.0.0.1",), resolver=None, **media) -> Fetcher:
    media.setdefault("preview_host_rate", 100.0)  # redirects hop on one host: no wait here
    settings = make_settings(
        "sqlite://", media=MediaSettings(preview_allow_hosts=list(allow), **media)
    )
    return Fetcher(settings) if resolver is None else Fetcher(settings, resolver)


async def test_a_page_is_fetched_with_roosts_name_and_no_cookies(pages):
    found = await fetcher().page(f"{pages.base}/hop/2")
    assert found.url == f"{pages.base}/page/hops" and b"og:title" in found.body
    assert pages.paths() == ["/hop/2", "/hop/1", "/hop/0", "/page/hops"]
    assert all(s.cookie == "" for s in pages.seen)  # each hop set one; none was sent back
    assert pages.seen[0].user_agent == "Roost/0.1 (+http://roost.test) link preview"


async def test_at_most_three_redirects(pages):
    await fetcher().page(f"{pages.base}/hop/2")
    with pytest.raises(Refused, match="redirects"):
        await fetcher().page(f"{pages.base}/hop/3")
    assert "/page/hops" not in pages.paths()[4:]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/page/x",  # a name resolving to loopback
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
    ],
)
async def test_addresses_not_allowed_are_refused_before_any_request(url):
    with pytest.raises(Refused, match="not allowed"):
        await fetcher(allow=()).page(url)


@pytest.mark.parametrize(
    "url, why",
    [
        ("ftp://127.0.0.1/", "not http"),
        ("file:///etc/passwd", "not http"),
        ("http://user:secret@127.0.0.1/", "credentials"),
        ("http://example.com:8080/", "port 8080"),
    ],
)
async def test_urls_of_the_wrong_form_are_refused(url, why):
    with pytest.raises(Refused, match=why):
        await fetcher(allow=()).page(url)


async def test_a_name_with_any_address_not_allowed_is_refused():
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # one public, one loopback

    with pytest.raises(Refused, match="not allowed"):
        await fetcher(allow=(), resolver=resolver).page("http://card.example/")


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(pages):
    """``card.example`` exists in no DNS: the page arrives only because the connection went
    to the address the resolver gave (and checked), never to a second lookup's."""
    asked = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    found = await fetcher(allow=("card.example",), resolver=resolver).page(
        f"http://card.example:{pages.port}/page/pinned"
    )
    assert b"Page pinned" in found.body and asked == ["card.example"]
    assert pages.seen[0].host == f"card.example:{pages.port}"


async def test_a_redirect_to_a_loopback_name_is_refused(pages):
    """127.0.0.1 is allowed here; ``localhost`` is not, and is loopback: the redirect stops."""
    with pytest.raises(Refused, match="not allowed"):
        await fetcher().page(f"{pages.base}/away?to=http://localhost/page/inside")
    with pytest.raises(Refused, match="port"):
        await fetcher().page(f"{pages.base}/away?to=http://localhost:{pages.port}/page/inside")
    assert len(pages.seen) == 2  # the two redirects, nothing after them
    assert all(s.path.startswith("/away?") for s in pages.seen)


async def test_an_endless_body_is_read_only_up_to_the_cap(pages):
    started = time.monotonic()
    found = await fetcher(preview_max_bytes=200_000).page(f"{pages.base}/endless")
    assert len(found.body) == 200_000 and b"Page endless" in found.body
    assert time.monotonic() - started < 5
    for _ in range(50):  # the server finds the connection closed under it
        if pages.hung_up:
            break
        await asyncio.sleep(0.1)
    assert pages.hung_up and not pages.endless_finished


async def test_a_compressed_body_is_inflated_only_up_to_the_cap(pages):
    found = await fetcher(preview_max_bytes=100_000).page(f"{pages.base}/bomb")
    assert len(found.body) == 100_000 and b"Page bomb" in found.body


async def test_a_slow_body_times_out(pages):
    started = time.monotonic()
    with pytest.raises(Refused, match="longer than"):
        await fetcher(preview_timeout=1.0).page(f"{pages.base}/slow")
    assert time.monotonic() - started < 3


async def test_only_html_is_taken(pages):
    with pytest.raises(Refused, match="not HTML"):
        await fetcher().page(f"{pages.base}/image")


async def test_each_host_is_asked_no_faster_than_its_rate(pages):
    """Six pages of one host at 5 a second: the first goes at once, the others a fifth of a
    second apart (1 s in all; asserted loosely, 0.6 s)."""
    fetch = fetcher(preview_host_rate=5.0)
    await asyncio.gather(*(fetch.page(f"{pages.base}/page/r{n}") for n in range(6)))
    times = sorted(s.at for s in pages.seen)
    assert len(times) == 6 and times[-1] - times[0] >= 0.6


async def test_a_host_asked_too_often_is_refused_not_queued(pages):
    fetch = fetcher(preview_host_rate=1.0)
    fetch.rate.most_wait = 1.5  # one turn ahead at most
    found = await asyncio.gather(
        *(fetch.page(f"{pages.base}/page/q{n}") for n in range(5)), return_exceptions=True
    )
    refused = [f for f in found if isinstance(f, Refused)]
    assert len(refused) == 3 and len(pages.seen) == 2
