"""The status server's state and its one writer: probes, shield events and operators go in here.

Every change is applied in memory, written to the status store in one transaction, and followed by
a re-render of every page (``pages``), which the ASGI app serves as bytes. Notifications are handed
to a ``Notifier`` that must not block (webhooks and the @status account run in the background).

Failure policy: if the store is unreachable, the change still applies in memory and the pages
still update (the page must keep telling the truth during an outage); the write is logged and
dropped. The store is the history, not the source of the live page.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import string
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roost.status import machine, startup, statuspage, store
from roost.status.model import (
    Component,
    Incident,
    ProbeResult,
    Update,
    slug,
    utcnow,
)
from roost.status.notify import EDITED, UPDATE
from roost.status.pages import Page, render_all
from roost.status.uptime import Tallies
from roost.status.view import View

log = logging.getLogger("roost.status")
_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """A Statuspage-like id: 12 lowercase letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


class Notifier(Protocol):
    """``event`` is ``UPDATE`` for a new update, ``EDITED`` when an operator rewrote one."""

    def publish(
        self, incident: dict[str, Any], update: dict[str, Any], event: str = UPDATE
    ) -> None: ...


class NullNotifier:
    def publish(
        self, incident: dict[str, Any], update: dict[str, Any], event: str = UPDATE
    ) -> None:
        return None


class StatusService:
    """Holds the live state, applies changes through one lock, and keeps ``pages`` rendered."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str,
        url: str,
        components: list[str],
        thresholds: machine.Thresholds,
        schema: str = "",
        notifier: Notifier | None = None,
        clock: Callable[[], datetime] = utcnow,
        retention_days: int = 7,
        slow_ms: float = 2000.0,
        start_grace: timedelta = startup.GRACE,
    ) -> None:
        self.engine, self.schema, self.name, self.url = engine, schema, name, url
        self.clock = clock
        self.notifier: Notifier = notifier or NullNotifier()
        self.retention = timedelta(days=retention_days)
        self.slow_ms = slow_ms
        self.component_names = list(components)
        self.components: dict[str, Component] = {}
        self.incidents: dict[str, Incident] = {}
        self.tallies = Tallies()
        self.recent: deque[ProbeResult] = deque(maxlen=500)  # for operators asking "why?"
        self.automaton = machine.Automaton({slug(n): n for n in components}, thresholds)
        self.auto_incident_id: str | None = None
        self.start_grace = start_grace
        self.gate = startup.StartGate(clock(), start_grace)
        self.pages: dict[str, Page] = {}
        self._lock = asyncio.Lock()
        self._incident_pages: dict[tuple[str, datetime, str], Page] = {}

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create tables, load history, attach to an open automatic incident, render."""
        await store.create_tables(self.engine, self.schema)
        now = self.clock()
        async with self.engine.begin() as conn:
            known = {c.id: c for c in await store.load_components(conn)}
            for position, name in enumerate(self.component_names):
                cid = slug(name)
                component = known.get(cid) or Component(cid, name, position, created_at=now)
                component.name, component.position = name, position
                self.components[cid] = component
                await store.save_component(conn, component)
            for incident in await store.load_incidents(conn):
                self.incidents[incident.id] = incident
            self.tallies.load_days(await store.load_daily(conn, now.date() - timedelta(days=90)))
            recent = await store.load_probes(conn, now - timedelta(hours=24))
            self.tallies.add(recent, days=False)
        self._resume(now)
        # With its automatic incident open the outage is known: no probe is held back then.
        self.gate = startup.StartGate(now, self.start_grace, closed=bool(self.auto_incident_id))
        self.render()

    def _resume(self, now: datetime) -> None:
        for incident in reversed(list(self.incidents.values())):
            if incident.automated and incident.unresolved:
                self.auto_incident_id = incident.id
                down = [c for c, comp in self.components.items() if comp.status == "major_outage"]
                self.automaton.resume(incident.status, incident.started_at, down, now)
                return

    async def close(self) -> None:
        await self.engine.dispose()

    # -- inputs -----------------------------------------------------------------------------------

    async def record_round(self, results: list[ProbeResult]) -> None:
        """One probe round: kept for "why?", and, once the start-up gate lets it through
        (``startup``), stored, counted for uptime and the chart and judged by the automaton."""
        if not results:
            return
        async with self._lock:
            self.recent.extend(results)
            at = max(r.at for r in results)
            await self._count(self.gate.admit(results, self.clock()), at)
            self.render()

    async def _count(self, batches: list[list[ProbeResult]], at: datetime) -> None:
        """Rounds that count, oldest first, all judged at ``at`` (held ones are judged late)."""
        for batch in batches:
            self.tallies.add(batch)
            actions = self.automaton.feed(self._judge(batch, at))
            await self._write(functools.partial(store.add_probes, results=batch))
            await self._apply(actions)

    def _judge(self, results: list[ProbeResult], at: datetime) -> machine.Round:
        """A round for the automaton: per component, its verdict and its deciding probe's time.

        The round is dated ``at``, when it was judged: its latest probe start (it had all
        happened by then), or later for rounds the start-up gate held; a component
        is dated by its earliest failed probe, or its earliest probe when all were good. The
        signed-in chain runs its probes one after another, several seconds apart against a site
        that hangs, so the outage's start and end are taken from the probes themselves.
        """
        outcome: dict[str, bool] = {}
        times: dict[str, datetime] = {}
        for r in sorted(results, key=lambda r: r.at):
            was_ok = outcome.get(r.component, True)
            outcome[r.component] = was_ok and r.ok
            if r.component not in times or (was_ok and not r.ok):
                times[r.component] = r.at
        slow = frozenset(
            r.component for r in results if r.ok and (r.degraded or r.latency_ms > self.slow_ms)
        )
        return machine.Round(at, outcome, slow, times)

    async def shield_event(self, payload: dict[str, Any], event: machine.Attack) -> None:
        async with self._lock:
            received = self.clock()
            await self._write(lambda conn: store.add_event(conn, received, payload))
            await self._apply(self.automaton.feed(event))
            self.render()

    async def tick(self) -> None:
        """The clock: quiet periods end, maintenance windows open and close."""
        async with self._lock:
            now = self.clock()
            waiting = self.gate.waiting
            await self._count(self.gate.expire(now), now)
            actions = self.automaton.feed(machine.Tick(now))
            changed = await self._apply(actions) or await self._advance_maintenance(now)
            if changed or waiting != self.gate.waiting:
                self.render()

    async def prune(self) -> None:
        before = self.clock() - self.retention
        await self._write(lambda conn: store.prune_probes(conn, before))

    # -- operators --------------------------------------------------------------------------------

    async def create_incident(
        self, incident: Incident, body: str, comps: dict[str, str]
    ) -> Incident:
        async with self._lock:
            incident.id = new_id()
            self.incidents[incident.id] = incident
            await self._post(
                incident, incident.status, body, comps, "operator", incident.created_at
            )
            self.render()
            return incident

    async def operator_update(
        self, incident: Incident, status: str, body: str, comps: dict[str, str], impact: str | None
    ) -> Update:
        async with self._lock:
            now = self.clock()
            if impact:
                incident.impact = impact
            if status in ("resolved", "completed") and not comps:
                comps = dict.fromkeys(incident.components, "operational")
            was_open = incident.unresolved
            update = await self._post(incident, status, body, comps, "operator", now)
            if incident.id == self.auto_incident_id and was_open:
                await self._apply(self.automaton.feed(machine.OperatorUpdate(now, status)))
            self.render()
            return update

    async def edit_update(self, incident: Incident, update: Update, body: str) -> Update:
        """An operator rewrites an update's text; it is theirs from then on."""
        async with self._lock:
            update.body, update.author, update.updated_at = body, "operator", self.clock()
            incident.updated_at = update.updated_at
            await self._write(lambda conn: self._save(conn, incident, update))
            self._notify(incident, update, EDITED)
            self.render()
            return update

    async def set_components(self, comps: dict[str, str]) -> None:
        async with self._lock:
            self._set_components(comps, self.clock())
            await self._write(self._save_components)
            self.render()

    # -- applying changes -------------------------------------------------------------------------

    async def _apply(self, actions: list[machine.Action]) -> bool:
        for action in actions:
            if isinstance(action, machine.Open):
                await self._open(action)
            elif isinstance(action, machine.Post):
                incident = self.incidents.get(self.auto_incident_id or "")
                if incident is None or not incident.unresolved:
                    continue
                if action.impact and _worse(action.impact, incident.impact):
                    incident.impact = action.impact
                await self._post(incident, action.status, action.body, action.components)
            else:
                self._set_components(action.components, action.at)
                await self._write(self._save_components)
        return bool(actions)

    async def _open(self, action: machine.Open) -> None:
        incident = Incident(
            id=new_id(),
            name=action.name,
            status=action.status,
            impact=action.impact,
            created_at=action.at,
            updated_at=action.at,
            started_at=action.started_at,
            automated=True,
        )
        self.incidents[incident.id] = incident
        self.auto_incident_id = incident.id
        await self._post(incident, action.status, action.body, action.components)

    async def _post(
        self,
        incident: Incident,
        status: str,
        body: str,
        comps: dict[str, str],
        author: str = "automation",
        at: datetime | None = None,
    ) -> Update:
        """Append an update: statuses and times on the incident, components, store, notify."""
        at = at or self.clock()
        affected = {
            cid: [self.components[cid].status, new]
            for cid, new in comps.items()
            if cid in self.components
        }
        update = Update(new_id(), incident.id, status, body, at, author, affected)
        incident.updates.append(update)
        incident.status, incident.updated_at = status, at
        if status == "monitoring" and incident.monitoring_at is None:
            incident.monitoring_at = at
        if status in ("resolved", "completed") and incident.resolved_at is None:
            incident.resolved_at = at
        for cid in affected:
            if cid not in incident.components:
                incident.components.append(cid)
        self._set_components(comps, at)
        await self._write(lambda conn: self._save(conn, incident, update))
        self._notify(incident, update)
        return update

    def _set_components(self, comps: dict[str, str], at: datetime) -> None:
        for cid, status in comps.items():
            component = self.components.get(cid)
            if component is not None and component.status != status:
                component.status, component.updated_at = status, at

    async def _advance_maintenance(self, now: datetime) -> bool:
        changed = False
        for m in list(self.incidents.values()):
            if not m.is_maintenance:
                continue
            if m.status == "scheduled" and m.scheduled_for and now >= m.scheduled_for:
                comps = dict.fromkeys(m.components, "under_maintenance")
                await self._post(m, "in_progress", "Scheduled maintenance is in progress.", comps)
                changed = True
            elif m.status == "in_progress" and m.scheduled_until and now >= m.scheduled_until:
                comps = dict.fromkeys(m.components, "operational")
                await self._post(m, "completed", "Scheduled maintenance is complete.", comps)
                changed = True
        return changed

    # -- storage and output -----------------------------------------------------------------------

    async def _save(self, conn: AsyncConnection, incident: Incident, update: Update) -> None:
        await store.save_incident(conn, incident)
        await store.save_update(conn, update)
        await self._save_components(conn)

    async def _save_components(self, conn: AsyncConnection) -> None:
        for component in self.components.values():
            await store.save_component(conn, component)

    async def _write(self, work: Callable[[AsyncConnection], Coroutine[Any, Any, None]]) -> None:
        try:
            async with self.engine.begin() as conn:
                await work(conn)
        except Exception:  # the live page must not depend on the history being writable
            log.exception("status store write failed; the change is live but not stored")

    def _notify(self, incident: Incident, update: Update, event: str = UPDATE) -> None:
        view = self.view()
        try:
            self.notifier.publish(
                statuspage.incident(view, incident), statuspage.update(view, update), event
            )
        except Exception:  # a notifier is never allowed to break an update
            log.exception("notifier failed")

    def view(self) -> View:
        now = self.clock()
        ordered = sorted(self.incidents.values(), key=lambda i: i.created_at, reverse=True)
        return View(
            name=self.name,
            url=self.url,
            now=now,
            components=list(self.components.values()),
            incidents=ordered,
            uptime=self.tallies.days,
            latency=self.tallies.latency(now),
            updated_at=now,
            waiting=self.gate.waiting,
        )

    def render(self) -> None:
        self.pages = render_all(self.view(), self._incident_pages)


_IMPACT_RANK = {"none": 0, "maintenance": 0, "minor": 1, "major": 2, "critical": 3}


def _worse(new: str, old: str) -> bool:
    return _IMPACT_RANK.get(new, 0) > _IMPACT_RANK.get(old, 0)
