"""Start-up truth: probes before the site's first successful start are not an outage.

`roost up` starts the site and the status server at the same moment, so the first probes find
nothing listening; counted, they painted today's bar red and could open an incident for what was
only a start. The status server cannot tell a start from a crash that happened while it was
away, so it holds its judgement for a bounded time:

- from the status server's start, failed probes are *held*: not counted, not judged;
- the site's first good probe (any component's) drops every failure dated before it: the site
  had not started; a component's first good probe drops its own earlier failures (it was still
  starting, like a post "not signed in" because the sign-in before it found nothing listening);
- ``grace`` after the status server's start, whatever is still held counts, in its order, as if
  it had counted all along: an outage then starts at its first failed probe, to the probe.

Why since the status server started, not "ever": every ``make run`` starts both processes at
once, the tenth as the first, and a status server restarted while the site was away is in the
same position (it cannot know whether the site crashed or is being started); a flag kept in the
store would protect only the very first start. A real outage across a restart is not hidden:
it is told at most ``grace`` late, with its exact start. And when the status server restarts
with its automatic incident still open, the outage is known: nothing is held (``closed``; so
too for a target URL that cannot be probed, roost/status/server.py).

Pure: no I/O and no clock of its own; the service feeds it rounds and the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from roost.status.model import ProbeResult

# Long enough for `roost serve` to migrate and start listening on a loaded machine (5 to 7 s
# here, 2026-12-02), short enough that a site that is really down is told within two minutes.
GRACE = timedelta(seconds=90)

Batch = list[ProbeResult]  # one round's probes; the automaton judges rounds, in order


@dataclass(frozen=True)
class Waiting:
    """What the page can truthfully say while probes are held: not yet known, not down."""

    checked: bool  # any probe has come in since the status server started
    site_started: bool  # some component has served since then
    unanswered: frozenset[str]  # components whose failures are held (probed, never served)
    until: datetime  # the end of the grace: what is still held then counts


class StartGate:
    """Decides which probes count while the site may still be starting; ``admit`` each round."""

    def __init__(
        self, started_at: datetime, grace: timedelta = GRACE, *, closed: bool = False
    ) -> None:
        self.deadline = started_at + grace
        self.closed = closed or grace <= timedelta(0)  # no grace: every probe counts at once
        self.site_up_at: datetime | None = None  # the site's first good probe
        self.first_ok: dict[str, datetime] = {}  # component -> its first good probe
        self.checked = False
        self.held: list[Batch] = []

    def admit(self, results: Batch, now: datetime) -> list[Batch]:
        """The batches that count now, oldest first: held ones released, then this round's."""
        if self.closed:
            return [results]
        self.checked = True
        for r in results:
            if r.ok:
                self.site_up_at = min(self.site_up_at or r.at, r.at)
                self.first_ok[r.component] = min(self.first_ok.get(r.component, r.at), r.at)
        self.held.append(list(results))
        if now >= self.deadline:
            return self.expire(now)
        counted = []
        for batch in self.held:
            counted.append([r for r in batch if self._fate(r) == "count"])
            batch[:] = [r for r in batch if self._fate(r) == "hold"]
        self.held = [batch for batch in self.held if batch]
        return [batch for batch in counted if batch]

    def expire(self, now: datetime) -> list[Batch]:
        """From ``grace`` after the start every probe counts, held ones first, in their order
        (failures of a component or a site that served first are still dropped)."""
        if self.closed or now < self.deadline:
            return []
        self.closed = True
        released = [[r for r in batch if self._fate(r) != "drop"] for batch in self.held]
        self.held = []
        return [batch for batch in released if batch]

    def _fate(self, r: ProbeResult) -> str:
        """count, hold or drop: a failure before its component (or the site) first served."""
        if r.ok:
            return "count"
        served = self.first_ok.get(r.component)
        if served is not None:
            return "count" if r.at >= served else "drop"
        if self.site_up_at is not None and r.at < self.site_up_at:
            return "drop"
        return "hold"

    @property
    def waiting(self) -> Waiting | None:
        """None once the page has nothing to hold back (closed, or everything probed served)."""
        if self.closed:
            return None
        unanswered = frozenset(r.component for batch in self.held for r in batch)
        if self.site_up_at is not None and not unanswered:
            return None
        return Waiting(self.checked, self.site_up_at is not None, unanswered, self.deadline)
