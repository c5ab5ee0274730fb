"""The records the layer hands between its steps: a refusal decided, a request on its way in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from starlette.types import Receive, Scope, Send

from roost.shield.endpoints import Endpoint
from roost.shield.limiter import Subject, Verdict
from roost.shield.priority import Klass
from roost.shield.responses import RateHeaders


@dataclass(frozen=True, slots=True)
class Refusal:
    """What to refuse and why: the answer's status and words, and the metrics' labels."""

    status: int
    reason: str  # the ``reason`` label of roost_shield_requests_total
    klass: Klass
    retry_after: float | None
    message: str | None = None  # instead of the status's usual words
    headers: RateHeaders = ()  # added to the answer's own


class RequestContext(NamedTuple):
    """A request judged fit to go in: what admission, the cache and the reckoning after need.

    A tuple, not a dataclass: one is built per admitted request, and a tuple costs a third."""

    scope: Scope
    receive: Receive
    send: Send
    subject: Subject
    rank: float  # orders a class's queue (older accounts first)
    endpoint: Endpoint
    verdict: Verdict
    now: float
