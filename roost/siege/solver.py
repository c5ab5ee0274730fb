"""Solving the shield's proof-of-work challenge, as a simulated browser's JavaScript would.

Contract (documented by the shield in ``roost/shield/challenge.py``, wire format ``c1``): a
challenged request gets 403 with ``X-Roost-Challenge: c1.<bits>.<expires>.<nonce>.<mac>`` and an
HTML form with hidden ``challenge`` and ``next``; the answer is a decimal counter such that
SHA-256(challenge + ":" + answer) starts with ``bits`` zero bits; ``POST /-/shield/verify`` with
``challenge``, ``answer``, ``next`` answers 303 to ``next`` and sets the ``roost_pass`` cookie,
bound to the client's prefix and user agent (so the same client must submit it).

Pluggable: anything with ``async pass_challenge(client, response)`` can replace
:class:`ShieldPow` (for another defence's challenge format).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import multiprocessing
import re
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

import httpx

CHALLENGE_HEADER = "x-roost-challenge"
VERIFY_PATH = "/-/shield/verify"
MAX_BITS = 28  # a browser gives up on absurd difficulty; so do we (about 2**28 hashes)


class Solver(Protocol):
    async def pass_challenge(
        self, client: httpx.AsyncClient, response: httpx.Response
    ) -> httpx.Response | None:
        """The response after solving, or None if ``response`` is not a challenge."""


class ShieldPow:
    """Roost shield's ``c1`` proof of work, solved in a helper process.

    At 20 bits a solve is about a second of hashing; done on the coordinator's event loop it
    would stall every simulated user's clock (a browser solves on its own CPU, not ours).
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _answer(self, challenge: str) -> str:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_ignore_sigint)
        return await asyncio.get_running_loop().run_in_executor(self._pool, solve, challenge)

    async def pass_challenge(
        self, client: httpx.AsyncClient, response: httpx.Response
    ) -> httpx.Response | None:
        challenge = response.headers.get(CHALLENGE_HEADER)
        if response.status_code != 403 or not challenge:
            return None
        next_path = _hidden_field(response.text, "next") or response.request.url.raw_path.decode()
        answer = await self._answer(challenge)
        form = {"challenge": challenge, "answer": answer, "next": next_path}
        return await client.post(VERIFY_PATH, data=form)


def _ignore_sigint() -> None:
    """Ctrl-C is the coordinator's to handle; the helper just stops when it is told to."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def solve(challenge: str) -> str:
    """The shield's own solver when it is importable, else the same algorithm here."""
    try:
        from roost.shield.challenge import solve as shield_solve
    except ImportError:
        return _solve(challenge)
    return shield_solve(challenge)


def _solve(challenge: str) -> str:
    bits = min(int(challenge.split(".")[1]), MAX_BITS)
    base = hashlib.sha256((challenge + ":").encode())
    counter = 0
    while True:
        digest = base.copy()
        digest.update(str(counter).encode())
        value = int.from_bytes(digest.digest(), "big")
        if value >> (256 - bits) == 0:
            return str(counter)
        counter += 1


def _hidden_field(page: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"\s+value="([^"]*)"', page)
    if match is None:
        return None
    return html.unescape(match.group(1))
