"""Setup against the real `roost serve`: users' follows and posts, sign-ups spread over addresses
that cope with the shield's refusals and with the deadline; and the pieces that pace them."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from roost.siege.accounts import Refused, client_for, create_app, register
from roost.siege.guard import check_target
from roost.siege.registrar import Gate, register_all
from roost.siege.retry import pause, retrying
from roost.siege.scenario import load_scenario
from roost.siege.setup import prepare
from roost.siege.sources import AddressPlan
from tests.support.waiting import wait_for

HISTORY = """
name = "history"
[legit]
users = 4
readers = 1
follows = 2
posts = 2
[[phases]]
name = "calm"
duration_s = 1
"""


@pytest.fixture
def roost_server(roost_serving, tmp_path: Path) -> Iterator[str]:
    with roost_serving(tmp_path) as url:
        yield url


def scenario(tmp_path: Path, text: str):
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return load_scenario(path)


@pytest.mark.slow
async def test_users_follow_others_and_post_at_setup_each_from_its_own_address(
    tmp_path: Path, roost_server: str
) -> None:
    target = check_target(roost_server)
    said: list[str] = []
    cast = await prepare(scenario(tmp_path, HISTORY), target, AddressPlan(3), said.append)
    assert len(cast.users) == 4 and not cast.warnings
    assert len({user.source for user in cast.users} | set(cast.reader_sources)) == 5
    assert len(cast.context.status_ids) == 8
    assert set(cast.context.usernames) == {user.username for user in cast.users}
    async with client_for(target, None) as client:
        for user in cast.users:
            me = (await client.get(f"/api/v1/accounts/{user.id}")).json()
            assert (me["following_count"], me["statuses_count"]) == (2, 2)
            assert len(await _home_authors(client, user.token, user.id, wanted=2)) == 2
    assert cast.report["history"] == {"follows": 8, "posts": 8, "failed": {}}
    assert any("follow 2 others" in line for line in said)


async def _home_authors(
    client: httpx.AsyncClient, token: str, own_id: str, wanted: int
) -> set[str]:
    """Others whose posts are in this home timeline, once ``wanted`` of them are (fan-out runs
    in the background, so the last posts arrive a moment after they are made), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        auth = {"Authorization": f"Bearer {token}"}
        home = (await client.get("/api/v1/timelines/home?limit=40", headers=auth)).json()
        authors = {status["account"]["id"] for status in home} - {own_id}
        if len(authors) >= wanted or time.monotonic() > deadline:
            return authors
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_refused_sign_ups_are_retried_from_another_address(roost_server: str) -> None:
    target = check_target(roost_server)
    async with client_for(target, None) as client:
        app = await create_app(client)
    burned = "127.77.0.1"
    for number in range(5):  # the shield allows an address 5 sign-ups, then one every 100 s
        await register(target, app, f"burn{number}x{time.monotonic_ns()}", burned, random.Random())
    with pytest.raises(Refused) as refused:
        await register(target, app, f"more{time.monotonic_ns()}", burned, random.Random())
    assert refused.value.status == 429 and refused.value.retry_after > 30
    sources = [burned, *AddressPlan(5).take(7, 7)]
    began = time.monotonic()
    bots, tally = await register_all(target, app, "bot", sources, seed=1, strict=False)
    assert time.monotonic() - began < 20  # the 100 s Retry-After was about the address it left
    assert tally.made == len(bots) == 8 and tally.attempts == 9 and not tally.failures
    assert bots[0].source != burned and bots[0].source in sources  # moved, to another /24
    assert len({bot.source for bot in bots}) == 7  # one address lent twice, no more


@pytest.mark.slow
async def test_bot_sign_ups_stop_at_their_deadline_and_setup_goes_on(
    tmp_path: Path, roost_server: str
) -> None:
    text = HISTORY.replace("follows = 2\nposts = 2\n", "").replace(
        'name = "history"', 'name = "many"\nbot_accounts = 400\nbot_prefixes = 16'
    )
    plan, target = AddressPlan(9), check_target(roost_server)
    began = time.monotonic()
    deadline = began + 1 + 5 + 3  # the phases (1 s) and starting them (5 s) leave 3 s
    cast = await prepare(scenario(tmp_path, text), target, plan, lambda _: None, "", deadline)
    assert time.monotonic() - began < 3 + 10  # users, the deadline, one sign-up's stragglers
    made = cast.report["bot_signups"]
    assert 0 < made["made"] == len(cast.bots) < 400
    assert made["made"] + made["out_of_time"] + sum(made["given_up"].values()) == 400
    (warning,) = cast.warnings
    assert f"only {made['made']} of 400 bot accounts were registered" in warning
    assert "not made in the time setup had" in warning
    assert len(cast.context.bot_tokens) == made["made"]


@pytest.mark.slow
async def test_setup_polls_for_the_status_page_and_says_when_it_is_gone(
    tmp_path: Path, roost_server: str
) -> None:
    text = HISTORY.replace("users = 4", "users = 0").replace("follows = 2\nposts = 2\n", "")
    cast = await prepare(
        scenario(tmp_path, text),
        check_target(roost_server),
        AddressPlan(4),
        lambda _: None,
        status_url=roost_server,  # any page that answers will do
    )
    assert cast.status is not None and not cast.warnings
    page, source = cast.status
    assert page.url == roost_server and source is not None and source != "127.0.0.1"


async def test_the_gate_halves_on_refusal_and_grows_after_successes() -> None:
    gate = Gate(size=4, most=6)
    for _ in range(4):
        await gate.acquire()
    waiting = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)  # Kept: one turn of the loop, to show the fifth does not get in
    assert not waiting.done()  # four busy: the fifth waits
    gate.release(refused=True)
    assert gate.size == 2 and not waiting.done()  # three busy, room for two: still waits
    gate.release(refused=False)
    gate.release(refused=False)
    await wait_for(waiting.done, "the fifth admitted")
    assert gate.busy == 2
    for _ in range(2):
        gate.release(refused=False)
    assert gate.size == 3  # two successes at size 2: one more
    for _ in range(20):
        await gate.acquire()
        gate.release(refused=False)
    assert gate.size == 6  # and no further than most


async def test_retries_give_up_at_the_deadline_with_the_last_refusal() -> None:
    calls: list[int] = []

    async def refused(attempt: int) -> None:
        calls.append(attempt)
        raise Refused("POST /x answered 503: busy", 503, retry_after=0.05)

    began = time.monotonic()
    with pytest.raises(Refused):
        await retrying(refused, random.Random(1), until=began + 0.3, attempts=50)
    assert 2 <= len(calls) <= 7 and time.monotonic() - began < 0.5

    async def cut(attempt: int) -> str:
        if attempt < 1:  # a connection refused once, then made
            raise httpx.ConnectError("refused")
        return "made"

    assert await retrying(cut, random.Random(1)) == "made"


def test_pauses_follow_retry_after_up_to_a_cap_and_double_otherwise() -> None:
    rng = random.Random(1)
    assert 2.0 <= pause(0, 2.0, rng) <= 2.5
    assert 5.0 <= pause(0, 98.0, rng) <= 6.25  # a long penalty cannot stall setup
    assert [int(pause(n, None, random.Random(0)) / 0.5) for n in range(3)] == [1, 2, 4]
