"""The automatic incident writer: a pure state machine fed with probes, attack events and a clock.

No I/O and no wall clock: every event carries its own time, every decision returns actions for the
service to store. That is what lets the tests replay an outage to the second.

Phases follow the incident's status: idle -> investigating -> identified -> monitoring -> idle
(resolved). Hysteresis: a component is *down* after ``fail_after`` consecutive failed probes and
*up* again after ``recover_after`` good ones, so one lost probe never flaps the page. The outage is
measured, not guessed: it starts at the first failed probe of the run that took a component down
and ends at the first good probe of the run that brought the last one back.

Operators win: an update an operator posts on the automatic incident sets its phase (the
automation never repeats a status the operator already gave, and never edits text); an operator
resolving it detaches the automation until every component has been up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from roost.status import words

DOWN = "major_outage"
SHAKY = "degraded_performance"
UP = "operational"


@dataclass(frozen=True)
class Thresholds:
    fail_after: int = 3
    recover_after: int = 3
    quiet_period: timedelta = timedelta(minutes=5)
    major_after: int = 2
    critical_after: int = 4


# -- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One round of probes: component id -> whether it served a user, all judged together.

    ``at`` is when the round was judged (its updates are dated then); ``times`` holds, per
    component, when its deciding probe began (the earliest failed one, else the earliest), so an
    outage starts and ends at a probe's own time, not the round's: probes of one round run up to
    a few timeouts apart. ``slow`` names the components that served, but slower than a user
    should wait.
    """

    at: datetime
    results: dict[str, bool]
    slow: frozenset[str] = frozenset()
    times: dict[str, datetime] = field(default_factory=dict)

    def time_of(self, cid: str) -> datetime:
        return self.times.get(cid, self.at)


@dataclass(frozen=True)
class Attack:
    """A shield event: type is attack_started, attack_mitigated or attack_ended."""

    type: str
    at: datetime
    started_at: datetime | None = None
    classification: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Tick:
    at: datetime


@dataclass(frozen=True)
class OperatorUpdate:
    """An operator posted ``status`` on the automatic incident."""

    at: datetime
    status: str


Event = Round | Attack | Tick | OperatorUpdate


# -- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    """Open the automatic incident."""

    at: datetime
    started_at: datetime
    name: str
    status: str
    impact: str
    body: str
    components: dict[str, str]


@dataclass(frozen=True)
class Post:
    """Add an update to the automatic incident (never edits an existing one)."""

    at: datetime
    status: str
    body: str
    components: dict[str, str]
    impact: str | None = None


@dataclass(frozen=True)
class SetComponents:
    """Change component statuses without a new update (a partial recovery)."""

    at: datetime
    components: dict[str, str]


Action = Open | Post | SetComponents


@dataclass
class _Health:
    fails: int = 0
    oks: int = 0
    down: bool = False
    first_fail_at: datetime | None = None
    first_ok_at: datetime | None = None
    slows: int = 0  # good but slow probes in a row
    fasts: int = 0  # good and fast probes in a row
    slow: bool = False


@dataclass
class _Attack:
    started_at: datetime
    classification: list[str] = field(default_factory=list)
    summary: str = ""


class Automaton:
    """Decides the automatic incident's updates; ``feed`` one event, get the actions back."""

    def __init__(self, names: dict[str, str], thresholds: Thresholds | None = None) -> None:
        self.names = names  # probed component id -> display name, in page order
        self.limits = thresholds or Thresholds()
        self.health = {cid: _Health() for cid in names}
        self.phase = "idle"
        self.detached = False
        self.attack: _Attack | None = None
        self.last_attack: _Attack | None = None
        self.attack_ended_at: datetime | None = None
        self.outage_started_at: datetime | None = None
        self.outage_ended_at: datetime | None = None
        self.all_up_since: datetime | None = None
        self.reported_down: set[str] = set()
        self.operator_at: datetime | None = None  # an operator's word restarts the quiet period

    # -- entry point -----------------------------------------------------------------------------

    def feed(self, event: Event) -> list[Action]:
        if isinstance(event, Round):
            actions = self._round(event)
        elif isinstance(event, Attack):
            actions = self._attack(event)
        elif isinstance(event, OperatorUpdate):
            actions = self._operator(event)
        else:
            actions = []
        return actions + self._maybe_resolve(event.at)

    def resume(self, status: str, started_at: datetime, down: list[str], now: datetime) -> None:
        """Attach to an automatic incident found open after a restart.

        Counters were lost with the process, so the components the incident lists as down are
        taken as down since it started (good probes will bring them back through hysteresis), and
        a monitoring incident counts as healthy from ``now``.
        """
        if status not in ("investigating", "identified", "monitoring"):
            return
        self.phase = status
        self.outage_started_at = started_at
        if status == "monitoring":
            self.all_up_since = self.outage_ended_at = now
            return
        for cid in down:
            if cid in self.health:
                self.health[cid] = _Health(down=True, first_fail_at=started_at)
        self.reported_down = set(self.down)

    @property
    def down(self) -> list[str]:
        return [cid for cid, h in self.health.items() if h.down]

    # -- probes ----------------------------------------------------------------------------------

    def _round(self, round_: Round) -> list[Action]:
        went_down: list[str] = []
        came_up: list[str] = []
        for cid, ok in round_.results.items():
            health = self.health.get(cid)
            if health is not None and self._count(health, round_.time_of(cid), ok):
                (went_down if health.down else came_up).append(cid)
        if went_down:
            actions = self._went_down(round_.at)
            if came_up and self.phase != "idle" and not self.detached:
                actions.append(SetComponents(round_.at, {cid: SHAKY for cid in came_up}))
            return actions
        actions = self._came_up(came_up, round_.at) if came_up else []
        return actions + self._pace(round_)

    def _pace(self, round_: Round) -> list[Action]:
        """Slow but working is degraded performance: shown outside incidents, no incident opened.

        The same hysteresis as up and down (``fail_after`` slow probes in a row, then
        ``recover_after`` fast ones); during an incident the incident's statuses stand.
        """
        changed: dict[str, str] = {}
        for cid, ok in round_.results.items():
            h = self.health.get(cid)
            if h is None or not ok:
                continue
            slow = cid in round_.slow
            h.slows, h.fasts = (h.slows + 1, 0) if slow else (0, h.fasts + 1)
            if not h.slow and h.slows >= self.limits.fail_after:
                h.slow, changed[cid] = True, SHAKY
            elif h.slow and h.fasts >= self.limits.recover_after:
                h.slow, changed[cid] = False, UP
        if not changed or self.phase != "idle" or self.down:
            return []
        return [SetComponents(round_.at, changed)]

    def _count(self, h: _Health, at: datetime, ok: bool) -> bool:
        """Update one component's run counters; True when it crossed a threshold."""
        if ok:
            h.fails = 0
            h.oks += 1
            if h.oks == 1:
                h.first_ok_at = at
            if h.down and h.oks >= self.limits.recover_after:
                h.down = False
                return True
            return False
        h.oks = 0
        h.fails += 1
        if h.fails == 1:
            h.first_fail_at = at
        if not h.down and h.fails >= self.limits.fail_after:
            h.down = True
            return True
        return False

    def _went_down(self, at: datetime) -> list[Action]:
        self.all_up_since = None
        self.outage_ended_at = None
        down = self.down
        if self.detached:
            return []
        statuses = {cid: DOWN for cid in down}
        cause = self._cause()
        status = "identified" if self.attack else "investigating"
        if self.phase == "idle":
            starts = [self.health[c].first_fail_at for c in down]
            self.outage_started_at = min(s for s in starts if s is not None)
            self.phase = status
            self.reported_down = set(down)
            name = "Roost down" if len(down) == len(self.names) else f"{self._list(down)} down"
            body = f"{self._list(down)} down; {cause}"
            impact = self._impact(len(down))
            return [Open(at, self.outage_started_at, name, status, impact, body, statuses)]
        again = self.phase == "monitoring"
        new = set(down) - self.reported_down
        self.reported_down |= set(down)
        if not again and not new:
            return [SetComponents(at, statuses)]
        if again:
            self.phase = status
        words = "down again" if again else "down"
        body = f"{self._list(down)} {words}; {cause}"
        return [Post(at, self.phase, body, statuses, self._impact(len(down)))]

    def _came_up(self, components: list[str], at: datetime) -> list[Action]:
        if self.down:
            if self.phase == "idle" or self.detached:
                return []
            return [SetComponents(at, {cid: SHAKY for cid in components})]
        # The outage ends when the last component that was down answered again (a component
        # that only blipped below the threshold does not count).
        were_down = [self.health[c] for c in self.reported_down] or list(self.health.values())
        self.outage_ended_at = max((h.first_ok_at for h in were_down if h.first_ok_at), default=at)
        self.all_up_since = at
        if self.detached:
            self.detached = False
            return []
        if self.phase not in ("investigating", "identified"):
            return []
        self.phase = "monitoring"
        if self.attack:
            body = (
                "Roost is back up; we are continuing to defend against and recover from this"
                " attack."
            )
        else:
            body = "Roost is back up; we are monitoring the recovery."
        return [Post(at, "monitoring", body, {cid: SHAKY for cid in self.names})]

    # -- the shield ------------------------------------------------------------------------------

    def _attack(self, event: Attack) -> list[Action]:
        if event.type == "attack_ended":
            if self.attack:
                self.last_attack = self.attack
            self.attack = None
            self.attack_ended_at = event.at
            return []
        if event.type not in ("attack_started", "attack_mitigated"):
            return []
        fresh = self.attack is None
        if fresh:
            self.attack = _Attack(event.started_at or event.at)
            self.attack_ended_at = None
        assert self.attack is not None
        for kind in event.classification:
            if kind not in self.attack.classification:
                self.attack.classification.append(kind)
        if event.summary and (event.type == "attack_started" or not self.attack.summary):
            self.attack.summary = event.summary  # the start's words describe the attack best
        if self.detached:
            return []
        if self.phase == "monitoring" and fresh:
            # Back up, and now under attack: say so; resolution waits for the attack to end.
            body = self._attack_words().replace("Roost is", "Roost is up and", 1)
            return [Post(event.at, "monitoring", body, {})]
        if self.phase != "investigating":
            return []
        self.phase = "identified"
        return [Post(event.at, "identified", self._attack_words(), {})]

    # -- operators and the clock -----------------------------------------------------------------

    def _operator(self, event: OperatorUpdate) -> list[Action]:
        if event.status in ("resolved", "postmortem"):
            self.phase = "idle"
            self.detached = bool(self.down)
            self.outage_started_at = None
            return []
        if self.phase != "idle" and event.status in ("investigating", "identified", "monitoring"):
            self.phase = event.status
            self.operator_at = event.at
        return []

    def _maybe_resolve(self, now: datetime) -> list[Action]:
        if self.phase != "monitoring" or self.attack or self.down or self.all_up_since is None:
            return []
        since = [self.all_up_since, self.attack_ended_at, self.operator_at]
        quiet_from = max(s for s in since if s is not None)
        if now - quiet_from < self.limits.quiet_period:
            return []
        body = self._resolution()
        self.phase = "idle"
        self.outage_started_at = self.operator_at = None
        self.reported_down = set()
        after = {cid: SHAKY if h.slow else UP for cid, h in self.health.items()}
        return [Post(now, "resolved", body, after)]

    # -- words -----------------------------------------------------------------------------------

    def _cause(self) -> str:
        if self.attack:
            return self._attack_words()
        return "we are determining the cause."

    def _attack_words(self) -> str:
        attack = self.attack or self.last_attack
        if attack is None:
            return words.attack(None, [], "")
        return words.attack(attack.started_at, attack.classification, attack.summary)

    def _resolution(self) -> str:
        ended = self.attack_ended_at if self.last_attack else None
        down = [cid for cid in self.names if cid in self.reported_down]
        what = "Roost" if len(down) in (0, len(self.names)) else self._list(down)
        return words.resolution(self.outage_started_at, self.outage_ended_at, ended, what)

    def _list(self, ids: list[str]) -> str:
        return words.join([self.names[c] for c in ids])

    def _impact(self, count: int) -> str:
        if count >= self.limits.critical_after:
            return "critical"
        return "major" if count >= self.limits.major_after else "minor"
