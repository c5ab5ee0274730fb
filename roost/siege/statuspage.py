"""The status page, polled during a run: does it keep answering while the site is flooded?

The status blog runs as its own process so that it survives the site's overload (README); the
lab holds it to that by loading its page all through the run, at ``[legit] status_rate``
requests a second (Poisson, open loop, latency from the intended start, like the users), from
an address of its own. Each load succeeds with a 2xx within the objective; the report shows the
class ``status_page`` per phase and ``status_success`` per second. The URL passes the loopback
guard like every target.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from roost.siege.accounts import client_for
from roost.siege.agents import ACCEPT_PAGE
from roost.siege.guard import Target
from roost.siege.legit import Visitor

STATUS_PAGE = "status_page"
READY_WAIT_S = 10.0  # `roost up` starts the status blog beside the site: give it a moment


class StatusPoller(Visitor):
    """Loads the status page (the URL's path) on an open-loop schedule."""

    name = STATUS_PAGE
    series = "status"
    accept = ACCEPT_PAGE  # a person's browser

    async def act(self, client: httpx.AsyncClient) -> int:
        return (await client.get(self.target.path)).status_code


async def await_status_page(
    target: Target, source: str | None, wait_s: float = READY_WAIT_S
) -> str | None:
    """None once the status page answers at all; else, after ``wait_s``, why it did not."""
    deadline = time.monotonic() + wait_s
    problem = "no answer"
    async with client_for(target, source, timeout=2.0) as client:
        while True:
            try:
                await client.get(target.path)
                return None
            except httpx.HTTPError as error:
                problem = str(error) or type(error).__name__
            if time.monotonic() >= deadline:
                return problem
            await asyncio.sleep(0.25)
