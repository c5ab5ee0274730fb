"""Which limits apply to a request, and checking them all at once (local tables).

A request is checked against several GCRA buckets together — address, prefix, account, pass,
endpoint class and the global budget — and spends from all of them only if every one can afford
it, so a refused request does not drain the buckets it was not refused by.

Policy (issue 7 item 2):
- signed-in accounts (class 1) are limited per account, not per address (NAT, mobile carriers);
- everyone else is limited per address and per prefix; those limits shrink by ``attack_tighten``
  while the site is under attack, and are halved again for suspicious clients (class 4);
- pass holders (class 2) also spend from their pass's own bucket (a pass cannot be shared at scale);
- expensive endpoint classes have an extra per-source bucket (``endpoints.POLICIES``).
"""

from __future__ import annotations

from typing import NamedTuple

from roost.config import ShieldSettings
from roost.shield.endpoints import POLICIES, Endpoint
from roost.shield.gcra import Decision, Limit, RateTable, gcra
from roost.shield.priority import ANONYMOUS, PASS_HOLDER, SIGNED_IN, SUSPECT, Klass

# (kind, key, limit, cost): a plain tuple, because one is built per bucket per request and a
# NamedTuple costs several times more to construct. kind is "ip", "prefix", "account", "pass",
# "endpoint" or "global".
Check = tuple[str, str, Limit, float]


class Verdict(NamedTuple):
    allowed: bool
    decision: Decision  # the tightest bucket (the refusing one when refused)
    refused_by: str  # kind of the refusing bucket, "" when allowed


_ALLOWED_UNLIMITED = Verdict(True, Decision(True, 0, 0, 0.0, 0.0), "")


# Mastodon's own defaults for one account: 300 statuses in 3 hours, taken here as a burst
# (with the shield's faster refill of 1 every 2 s).
CALM_ACCOUNT_LIMITS = {Endpoint.POST: Limit(0.5, 300)}


class Subject(NamedTuple):
    """Who is asking, as far as limits care."""

    ip: str
    prefix: str
    klass: Klass
    account: str  # "" when anonymous
    pass_id: str  # "<kind>:<id>" of a valid pass, "" without one


class Planner:
    """Limits per (class, under attack) computed once, so planning a request allocates little."""

    def __init__(self, s: ShieldSettings) -> None:
        self.settings = s
        self.global_limit = Limit(s.global_rate, s.global_burst)
        self.account_limit = Limit(s.account_rate, s.account_burst)
        # An account in good standing is never held tighter than Mastodon's defaults in calm;
        # under attack, or demoted to a lower class, its bucket tightens like everyone's.
        self.account_attack_limit = self.account_limit.scaled(s.attack_tighten)
        self.pass_limit = Limit(s.pass_rate, s.pass_rate * 3)
        # A waiting-room pass ("w", no proof of work: only patience) buys a fifth of that.
        self.waiting_pass_limit = Limit(s.pass_rate / 5, s.pass_rate)
        self.source_limits: dict[tuple[Klass, bool], tuple[Limit, Limit]] = {}
        for klass in (PASS_HOLDER, ANONYMOUS, SUSPECT):
            for attack in (False, True):
                factor = (s.attack_tighten if attack else 1.0) * (0.5 if klass == SUSPECT else 1.0)
                ip, prefix = Limit(s.ip_rate, s.ip_burst), Limit(s.prefix_rate, s.prefix_burst)
                if klass != PASS_HOLDER:
                    ip, prefix = ip.scaled(factor), prefix.scaled(factor)
                self.source_limits[klass, attack] = (ip, prefix)

    def __call__(self, who: Subject, endpoint: Endpoint, under_attack: bool) -> list[Check]:
        """The buckets this request must afford."""
        cost, endpoint_limit, _ = POLICIES[endpoint]
        ip, prefix, klass, account, pass_id = who
        if klass == SIGNED_IN:
            checks: list[Check] = [
                ("global", "global", self.global_limit, cost),
                (
                    "account",
                    account,
                    self.account_attack_limit if under_attack else self.account_limit,
                    cost,
                ),
            ]
            if not under_attack:
                endpoint_limit = CALM_ACCOUNT_LIMITS.get(endpoint, endpoint_limit)
        else:
            ip_limit, prefix_limit = self.source_limits[klass, under_attack]
            checks = [
                ("global", "global", self.global_limit, cost),
                ("ip", ip, ip_limit, cost),
                ("prefix", prefix, prefix_limit, cost),
            ]
            if account:  # demoted, not forgotten: its own bucket stays spent (issue 12)
                checks.append(("account", account, self.account_attack_limit, cost))
        if pass_id:
            waiting = pass_id.startswith("w:")
            checks.append(
                ("pass", pass_id, self.waiting_pass_limit if waiting else self.pass_limit, cost)
            )
        if endpoint_limit is not None:
            source = "a:" + account if account else "i:" + ip
            checks.append(("endpoint", endpoint._value_ + ":" + source, endpoint_limit, 1.0))
        return checks


def plan(s: ShieldSettings, who: Subject, endpoint: Endpoint, under_attack: bool) -> list[Check]:
    """The buckets for one request (convenience for tests and benchmarks; the layer keeps a
    ``Planner``)."""
    return Planner(s)(who, endpoint, under_attack)


class LocalLimiter:
    """All buckets in this process, in fixed-size tables (one per kind, so kinds never evict
    each other: a flood of new addresses cannot push signed-in accounts out)."""

    def __init__(self, slots: int) -> None:
        small = max(1024, slots // 8)
        self.tables = {
            "global": RateTable(2),
            "ip": RateTable(slots),
            "prefix": RateTable(small),
            "account": RateTable(small),
            "pass": RateTable(small),
            "endpoint": RateTable(slots),
        }

    def check(self, checks: list[Check], now: float) -> Verdict:
        """GCRA (see ``gcra.gcra``) over every bucket, inlined: this runs once per request."""
        tables = self.tables
        pending = []
        # The tightest non-global bucket: what the X-RateLimit-* headers report.
        remaining: int = -1
        burst: float = -1
        reset = 0.0
        for kind, key, limit, cost in checks:
            table = tables[kind]
            slot = table.slot(key)
            tats = table._tats
            tat = tats[slot]
            rate, limit_burst = limit
            interval = 1.0 / rate
            tolerance = limit_burst * interval
            new_tat = (tat if tat > now else now) + cost * interval
            if new_tat - tolerance > now:
                return Verdict(False, gcra(tat, now, limit, cost)[1], kind)
            ahead = new_tat - now
            pending.append((tats, slot, new_tat))
            if kind != "global":
                # in requests like this one, not cost units: Remaining 0 means the next is refused
                left = int((tolerance - ahead) / (interval * cost) + 1e-9)
                if burst < 0 or left < remaining:
                    remaining, burst, reset = left, limit_burst / cost, ahead
        for tats, slot, tat in pending:
            tats[slot] = tat
        if burst < 0:
            return _ALLOWED_UNLIMITED
        return Verdict(True, Decision(True, int(burst), max(0, remaining), reset, 0.0), "")
