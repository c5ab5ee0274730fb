"""Scenario files: TOML describing phases, attacks, legitimate users and targets.

Every mistake is reported before any traffic, naming the file and the field (and the line when
it can be found), because a lab run that dies halfway wastes more time than a strict parser.
The format is documented in docs/siege.md; ``scenarios/`` holds working examples.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roost.siege import descriptors
from roost.siege.guard import HARD_MAX_DURATION_S, HARD_MAX_REQUESTS, GuardError, check_target
from roost.siege.profiles import PROFILES
from roost.siege.schedule import Constant, Pulses, Ramp, Schedule
from roost.siege.sources import HOSTS_PER_PREFIX, PREFIX_SPACE, check_spread
from roost.siege.toml_fields import FieldReader


class ScenarioError(ValueError):
    """A scenario that cannot run; the message names the file and the field."""


@dataclass(frozen=True)
class AttackSpec:
    profile: str
    name: str
    bots: int
    prefixes: int
    connections: int
    schedule: Schedule
    paths: tuple[str, ...] = ()
    interval_s: float = 1.0  # hold profiles: seconds between dribbled bytes
    # Request profiles: requests per connection before it moves to the next bot's address
    # (0 in the file: chosen so that every bot is seen during the phase, see _rotation).
    rotate_after: int = 100
    # Request profiles: requests in flight per connection (HTTP/1.1 pipelining); 1 = one at a time.
    pipeline: int = 1

    @property
    def kind(self) -> str:
        return PROFILES[self.profile].kind


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    duration_s: float
    attacks: tuple[AttackSpec, ...] = ()


@dataclass(frozen=True)
class LegitSpec:
    users: int = 0  # accounts created through the Mastodon API
    readers: int = 0  # anonymous browsers loading public pages
    actions_per_min: float = 30.0  # per user or reader, Poisson
    prefixes: int = 1  # /24s the legitimate population comes from
    reader_paths: tuple[str, ...] = ("/", "/public")
    timeout_s: float = 10.0
    follows: int = 0  # other users each user follows at setup (their home timelines fill up)
    posts: int = 0  # statuses each user posts at setup (a history, and something to favourite)
    user_actions: tuple[tuple[str, float], ...] = ()  # (action, weight); empty: User.ACTIONS
    status_url: str = ""  # a status page polled during the run (compare: the target's)
    status_rate: float = 2.0  # status page requests per second


@dataclass(frozen=True)
class TargetSpec:
    """A target for `siege compare`; with ``command`` siege starts (and stops) it itself."""

    name: str
    url: str
    commands: tuple[tuple[str, ...], ...] = ()  # each started in order, stopped in reverse
    env: tuple[tuple[str, str], ...] = ()
    ready_url: str = ""
    start_timeout_s: float = 60.0
    cpus: tuple[int, ...] = ()
    status_url: str = ""  # this target's status page, polled instead of [legit] status_url


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    phases: tuple[PhaseSpec, ...]
    legit: LegitSpec = field(default_factory=LegitSpec)
    targets: tuple[TargetSpec, ...] = ()
    description: str = ""
    seed: int = 1
    objective_s: float = 1.0
    max_duration_s: float | None = None
    max_requests: int | None = None
    workers: int = 1
    bot_accounts: int = 0
    bot_prefixes: int = 0  # /24s the bot accounts sign up from
    detect_shed_ratio: float = 0.5
    recovered_ratio: float = 0.95
    recovered_hold_s: float = 3.0

    @property
    def duration_s(self) -> float:
        return sum(phase.duration_s for phase in self.phases)

    @property
    def profiles(self) -> set[str]:
        return {attack.profile for phase in self.phases for attack in phase.attacks}


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raise ScenarioError naming what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:  # TOML is UTF-8; a binary or Latin-1 file is a mistake
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); a scenario is a TOML file"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    reader = _Reader(path, text, ScenarioError)
    return reader.scenario(data)


class _Reader(FieldReader):
    """Walks a parsed scenario, section by section."""

    def scenario(self, data: dict[str, Any]) -> Scenario:
        known = {
            "name", "description", "seed", "objective_ms", "max_duration_s", "max_requests",
            "workers", "bot_accounts", "bot_prefixes", "legit", "phases", "targets", "detect",
        }  # fmt: skip
        self.no_unknown(data, known, "")
        phases = self.phases(data.get("phases"))
        bot_accounts = self.integer(data, "bot_accounts", "", 0, low=0, high=10_000)
        scenario = Scenario(
            name=self.string(data, "name", "", self.path.stem),
            description=self.string(data, "description", "", ""),
            path=str(self.path),
            phases=phases,
            legit=self.legit(data.get("legit", {})),
            targets=self.targets(data.get("targets", [])),
            seed=self.integer(data, "seed", "", 1, low=0),
            objective_s=self.number(data, "objective_ms", "", 1000.0, low=1.0) / 1000,
            max_duration_s=self.optional_number(data, "max_duration_s", HARD_MAX_DURATION_S),
            max_requests=self.optional_int(data, "max_requests", HARD_MAX_REQUESTS),
            workers=self.integer(data, "workers", "", 1, low=1, high=16),
            bot_accounts=bot_accounts,
            bot_prefixes=self.bot_prefixes(data, bot_accounts),
            **self.detect(data.get("detect", {})),
        )
        if scenario.duration_s > HARD_MAX_DURATION_S:
            raise self.fail("phases", f"total {scenario.duration_s:g} s exceeds the 15 min cap")
        needy = [
            (f"phases[{i}].attacks[{j}].profile", attack.profile)
            for i, phase in enumerate(scenario.phases)
            for j, attack in enumerate(phase.attacks)
            if PROFILES[attack.profile].needs_bot_accounts
        ]
        if needy and scenario.bot_accounts < 1:
            # The line that asks for them, since bot_accounts itself is absent or 0.
            where, profile = needy[0]
            message = f"{profile} needs bot_accounts >= 1 (a top-level field)"
            raise self.fail("bot_accounts" if "bot_accounts" in data else where, message)
        self.check_descriptors(scenario)
        self.check_prefixes(scenario)
        return scenario

    def bot_prefixes(self, data: dict[str, Any], bots: int) -> int:
        """Sign-ups are limited per address and per /24: spread them (at most 254 per /24)."""
        default = math.ceil(bots / HOSTS_PER_PREFIX)
        prefixes = self.integer(data, "bot_prefixes", "", default, low=0)
        if bots:
            try:
                check_spread(bots, prefixes)
            except ValueError as error:
                message = str(error).replace("bots", "bot accounts")
                message = message.replace("raise prefixes", "raise bot_prefixes")
                raise self.fail("bot_prefixes", message) from None
        return prefixes if bots else 0

    def phases(self, raw: Any) -> tuple[PhaseSpec, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("phases", "at least one [[phases]] table is required")
        phases = tuple(self.phase(item, f"phases[{i}]") for i, item in enumerate(raw))
        names = [phase.name for phase in phases]
        if len(set(names)) != len(names):
            raise self.fail("phases", f"phase names must be distinct, got {names}")
        return phases

    def phase(self, raw: Any, where: str) -> PhaseSpec:
        raw = self.table(raw, where)
        self.no_unknown(raw, {"name", "duration_s", "attacks"}, where)
        attacks_raw = raw.get("attacks", [])
        if not isinstance(attacks_raw, list):
            raise self.fail(f"{where}.attacks", "must be an array of tables ([[phases.attacks]])")
        attacks = [self.attack(a, f"{where}.attacks[{i}]") for i, a in enumerate(attacks_raw)]
        names = [attack.name for attack in attacks]
        if len(set(names)) != len(names):
            raise self.fail(
                f"{where}.attacks", f"give same-profile attacks a distinct name: {names}"
            )
        duration_s = self.number(raw, "duration_s", where, None, low=0.1)
        return PhaseSpec(
            name=self.string(raw, "name", where, None),
            duration_s=duration_s,
            attacks=tuple(_rotation(attack, duration_s) for attack in attacks),
        )

    def attack(self, raw: Any, where: str) -> AttackSpec:
        raw = self.table(raw, where)
        known = {
            "profile", "name", "bots", "prefixes", "connections", "rate", "schedule", "rate_from",
            "ramp_s", "on_s", "off_s", "low_rate", "paths", "interval_s", "rotate_after",
            "pipeline",
        }  # fmt: skip
        self.no_unknown(raw, known, where)
        profile = self.string(raw, "profile", where, None)
        if profile not in PROFILES:
            choices = ", ".join(sorted(PROFILES))
            raise self.fail(f"{where}.profile", f"unknown profile {profile!r}; known: {choices}")
        kind = PROFILES[profile]
        if "paths" in raw and not kind.takes_paths:
            raise self.fail(f"{where}.paths", f"{profile} sends a fixed mix; paths cannot be set")
        bots = self.integer(raw, "bots", where, 100, low=1, high=5_000_000)
        prefixes = self.integer(raw, "prefixes", where, max(1, math.ceil(bots / 254)), low=1)
        try:
            check_spread(bots, prefixes)
        except ValueError as error:
            raise self.fail(f"{where}.prefixes", str(error)) from None
        connections = self.integer(raw, "connections", where, min(bots, 256), low=1, high=200_000)
        return AttackSpec(
            profile=profile,
            name=self.string(raw, "name", where, profile),
            bots=bots,
            prefixes=prefixes,
            connections=connections,
            schedule=self.schedule(raw, where),
            paths=self.paths(raw, where),
            interval_s=self.number(raw, "interval_s", where, 1.0, low=0.001),
            rotate_after=self.integer(raw, "rotate_after", where, kind.default_rotate_after),
            pipeline=self.integer(raw, "pipeline", where, 1, low=1, high=64),
        )

    def schedule(self, raw: dict[str, Any], where: str) -> Schedule:
        rate = raw.get("rate", "max")
        if rate != "max" and (isinstance(rate, bool) or not isinstance(rate, int | float)):
            raise self.fail(
                f"{where}.rate", f'must be a number of requests/s or "max", not {rate!r}'
            )
        if rate != "max" and not 0 < rate <= 10_000_000:
            raise self.fail(f"{where}.rate", f"must be above 0 and at most 10,000,000, got {rate}")
        kind = self.string(raw, "schedule", where, "constant")
        if kind == "constant":
            return Constant(None if rate == "max" else float(rate))
        if rate == "max":
            raise self.fail(f"{where}.rate", f"a {kind} schedule needs a numeric rate")
        if kind == "ramp":
            start = self.number(raw, "rate_from", where, 0.0, low=0.0)
            return Ramp(start, float(rate), self.number(raw, "ramp_s", where, None, low=0.1))
        if kind == "pulses":
            on_s = self.number(raw, "on_s", where, None, low=0.01)
            off_s = self.number(raw, "off_s", where, None, low=0.01)
            return Pulses(float(rate), on_s, off_s, self.number(raw, "low_rate", where, 0.0, low=0))
        raise self.fail(
            f"{where}.schedule", f"unknown schedule {kind!r}; use constant, ramp or pulses"
        )

    def legit(self, raw: Any) -> LegitSpec:
        raw = self.table(raw, "legit")
        known = {
            "users", "readers", "actions_per_min", "prefixes", "reader_paths", "timeout_s",
            "follows", "posts", "user_actions", "status_url", "status_rate",
        }  # fmt: skip
        self.no_unknown(raw, known, "legit")
        users = self.integer(raw, "users", "legit", 0, low=0, high=5000)
        readers = self.integer(raw, "readers", "legit", 0, low=0, high=5000)
        population = max(1, users + readers)
        prefixes = self.integer(
            raw, "prefixes", "legit", max(1, math.ceil(population / 254)), low=1
        )
        try:
            check_spread(population, min(prefixes, population))
        except ValueError as error:
            raise self.fail("legit.prefixes", str(error)) from None
        return LegitSpec(
            users=users,
            readers=readers,
            actions_per_min=self.number(raw, "actions_per_min", "legit", 30.0, low=0.1),
            prefixes=min(prefixes, population),
            reader_paths=self.paths(raw, "legit", key="reader_paths") or ("/", "/public"),
            timeout_s=self.number(raw, "timeout_s", "legit", 10.0, low=0.1),
            follows=self.follows(raw, users),
            # 30: the shield's per-account posting burst (roost/shield/endpoints.py).
            posts=self.integer(raw, "posts", "legit", 0, low=0, high=30),
            user_actions=self.user_actions(raw),
            status_url=self.optional_url(raw, "status_url", "legit"),
            status_rate=self.number(raw, "status_rate", "legit", 2.0, low=0.1, high=50.0),
        )

    def follows(self, raw: dict[str, Any], users: int) -> int:
        follows = self.integer(raw, "follows", "legit", 0, low=0)
        if follows > max(users - 1, 0):
            raise self.fail(
                "legit.follows",
                f"each user follows other users: at most users - 1 = {max(users - 1, 0)}, "
                f"got {follows}",
            )
        return follows

    def user_actions(self, raw: dict[str, Any]) -> tuple[tuple[str, float], ...]:
        """What users do, by weight (``{ home = 6, notifications = 3, post = 1 }``)."""
        from roost.siege.legit import User  # lazily: generator processes need no HTTP client

        if "user_actions" not in raw:
            return ()
        table = self.table(raw["user_actions"], "legit.user_actions")
        known = {name for name, _ in User.ACTIONS}
        self.no_unknown(table, known, "legit.user_actions")
        weights = tuple(
            (name, self.number(table, name, "legit.user_actions", None, low=0.0)) for name in table
        )
        if not any(weight > 0 for _, weight in weights):
            raise self.fail("legit.user_actions", "at least one action needs a weight above 0")
        return weights

    def detect(self, raw: Any) -> dict[str, float]:
        raw = self.table(raw, "detect")
        self.no_unknown(raw, {"shed_ratio", "recovered_ratio", "hold_s"}, "detect")
        return {
            "detect_shed_ratio": self.number(raw, "shed_ratio", "detect", 0.5, low=0.0, high=1.0),
            "recovered_ratio": self.number(raw, "recovered_ratio", "detect", 0.95, low=0, high=1),
            "recovered_hold_s": self.number(raw, "hold_s", "detect", 3.0, low=0.0),
        }

    def targets(self, raw: Any) -> tuple[TargetSpec, ...]:
        if not isinstance(raw, list):
            raise self.fail("targets", "must be an array of tables ([[targets]])")
        return tuple(self.target(item, f"targets[{i}]") for i, item in enumerate(raw))

    def target(self, raw: Any, where: str) -> TargetSpec:
        raw = self.table(raw, where)
        known = {
            "name", "url", "command", "env", "ready_url", "start_timeout_s", "cpus", "status_url",
        }  # fmt: skip
        self.no_unknown(raw, known, where)
        url = self.checked_url(raw, "url", where, None)
        commands = self.commands(raw.get("command", []), f"{where}.command")
        env = self.table(raw.get("env", {}), f"{where}.env")
        cpus = raw.get("cpus", [])
        if not isinstance(cpus, list) or not all(isinstance(c, int) and c >= 0 for c in cpus):
            raise self.fail(f"{where}.cpus", "must be a list of CPU numbers")
        return TargetSpec(
            name=self.string(raw, "name", where, url),
            url=url,
            commands=commands,
            env=tuple((str(k), str(v)) for k, v in env.items()),
            ready_url=self.checked_url(raw, "ready_url", where, url),
            start_timeout_s=self.number(raw, "start_timeout_s", where, 60.0, low=1.0, high=600),
            cpus=tuple(cpus),
            status_url=self.optional_url(raw, "status_url", where),
        )

    def checked_url(self, raw: dict[str, Any], key: str, where: str, default: str | None) -> str:
        """A URL the loopback guard accepts (non-ASCII digits and all, see guard.py)."""
        url = self.string(raw, key, where, default)
        try:
            check_target(url)
        except GuardError as error:
            raise self.fail(f"{where}.{key}", str(error)) from None
        return url

    def optional_url(self, raw: dict[str, Any], key: str, where: str) -> str:
        """A checked URL when the field is there, else empty (nothing to poll)."""
        return self.checked_url(raw, key, where, None) if key in raw else ""

    def commands(self, raw: Any, where: str) -> tuple[tuple[str, ...], ...]:
        """One command (a list of strings) or several (a list of such lists)."""
        if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
            return (tuple(raw),) if raw else ()
        if isinstance(raw, list) and all(
            isinstance(c, list) and c and all(isinstance(a, str) for a in c) for c in raw
        ):
            return tuple(tuple(c) for c in raw)
        raise self.fail(
            where, 'must be a list of strings like ["roost", "serve"], or a list of them'
        )

    def check_prefixes(self, scenario: Scenario) -> None:
        """Every attack in every phase gets fresh /24s; they must fit in 127.0.0.0/8."""
        polled = scenario.legit.status_url or any(t.status_url for t in scenario.targets)
        legit = scenario.legit.prefixes + bool(polled) + scenario.bot_prefixes
        wanted = legit + sum(a.prefixes for p in scenario.phases for a in p.attacks)
        if wanted > PREFIX_SPACE:
            raise self.fail(
                "phases", f"{wanted:,} /24 prefixes in all, but 127/8 offers {PREFIX_SPACE:,}"
            )

    def check_descriptors(self, scenario: Scenario) -> None:
        """Against the hard limit: generators raise their soft limit to it (descriptors.py)."""
        limit = descriptors.ceiling()
        for index, phase in enumerate(scenario.phases):
            per_worker = sum(math.ceil(a.connections / scenario.workers) for a in phase.attacks)
            if per_worker > limit - descriptors.RESERVED:
                raise self.fail(
                    f"phases[{index}].attacks",
                    f"{per_worker} connections per generator process exceed the open-file limit "
                    f"({limit}, the hard RLIMIT_NOFILE); lower connections or raise workers",
                )


def _rotation(attack: AttackSpec, duration_s: float) -> AttackSpec:
    """Fill in an automatic ``rotate_after``: about the phase's requests per bot, so that every
    bot's address shows up, but at least 1 and at most 100 (reconnecting costs the generator)."""
    if attack.rotate_after:
        return attack
    peak = attack.schedule.peak()
    per_bot = 100 if peak is None else int(peak * duration_s / attack.bots)
    return dataclasses.replace(attack, rotate_after=min(max(per_bot, 1), 100))
