"""Reputation: a decaying tally of misbehaviour per address, prefix and account.

Each key keeps *points* that halve every minute (so a reformed client recovers in minutes and a
persistent one stays bad). Suspicion is ``1 - exp(-points / SCALE)``, in [0, 1). The weights say
what we believe a legitimate client almost never does: keep knocking after a 429, answer a
challenge wrongly, send malformed requests. Tables are bounded; when full, the oldest entries are
forgotten first (failure policy: an attacker churning keys resets *its own* history only, and a
forgotten address starts at zero suspicion, the same as a new one).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

HALF_LIFE = 60.0
SCALE = 8.0
WEIGHTS = {
    "rate_limited": 0.5,  # each request refused with 429: persistence after 429 adds up
    "not_found": 0.3,
    "client_error": 0.2,
    "failed_login": 1.0,
    "bad_challenge": 2.0,
    "bad_pass": 2.0,
    "malformed": 2.0,
    "fingerprint": 0.3,
    "new_url": 0.02,  # cache busting: a flood of never-seen URLs
    "good": -0.05,  # normal successful use earns a little back
}
SUSPICIOUS = 0.5  # suspicion at which a client drops to priority class 4
NEWCOMER = 60.0  # seconds a source counts as new: under a flood, established sources go first
MAX_PENDING = 5_000  # keys whose new points wait for the next sync (the rest stay local)
# Keys ``top`` looks at. Pruned to the worse half when full: all points decay alike, so a pruned
# key stays behind the kept ones until it earns new points (and is noticed again), and the set
# always holds the worst NOTABLE // 2 keys. The admin view asks for 20.
NOTABLE = 1024
# Order within class 1 by account age, in coarse bands (days, rank): accounts of about the same
# age must be equals, served in arrival order. A continuous rank (and counting good uses, as it
# once did) orders them strictly, so in a queue that never drains, such as a closed loop of
# readers, the last of them never reached the front, and those served most ranked best.
AGE_BANDS = ((30.0, 0.0), (7.0, 0.25), (1.0, 0.5))
NEW_ACCOUNT_RANK = 0.75


@dataclass(slots=True)
class Record:
    points: float = 0.0
    updated: float = 0.0
    good: int = 0
    first_seen: float = 0.0


class ReputationTable:
    """Points per key, bounded to ``capacity`` keys.

    ``pending`` collects the bad points added since the last sync, for the other processes:
    ``roost.shield.shared`` adds them to the key's cluster-wide score in Redis once a second
    and ``merge`` brings the total back, so a source that spreads its misdeeds over several
    processes is judged on all of them.
    """

    def __init__(self, capacity: int = 200_000, shared: bool = False) -> None:
        self.capacity = capacity
        self._records: dict[str, Record] = {}
        self._notable: dict[str, None] = {}  # keys with bad points, for top(); insertion order
        self.pending: dict[str, float] | None = {} if shared else None  # None: nobody to tell

    def __len__(self) -> int:
        return len(self._records)

    def add(self, key: str, event: str, now: float, times: float = 1.0) -> float:
        record = self._records.get(key)
        if record is None:
            if event == "good":
                return 0.0  # nothing to earn back: don't spend a slot on a clean client
            record = self._insert(key, now)
        elif event == "good" and not record.points:
            record.good += 1  # the calm path: zero points stay zero, so skip the decay's pow
            return 0.0
        _decay(record, now)
        weight = WEIGHTS[event] * times
        record.points = max(0.0, record.points + weight)
        if event == "good":
            record.good += 1
        elif weight > 0:
            if key not in self._notable:
                self._notice(key, now)
            if self.pending is not None:
                self._remember(key, weight)
        return record.points

    def _notice(self, key: str, now: float) -> None:
        """Remember ``key`` for ``top``; when full, keep only the worse half."""
        notable = self._notable
        if len(notable) >= NOTABLE:
            worst = heapq.nlargest(NOTABLE // 2, notable, key=lambda k: self.suspicion(k, now))
            notable = self._notable = dict.fromkeys(worst)
        notable[key] = None

    def _remember(self, key: str, weight: float) -> None:
        pending = self.pending
        if pending is None:
            return
        if key in pending or len(pending) < MAX_PENDING:
            pending[key] = pending.get(key, 0.0) + weight

    def take_pending(self) -> dict[str, float]:
        if self.pending is None:
            return {}
        pending, self.pending = self.pending, {}
        return pending

    def merge(self, key: str, points: float, now: float) -> None:
        """The cluster-wide score of ``key`` (this process's share included): keep the larger."""
        record = self._records.get(key) or self._insert(key, now)
        _decay(record, now)
        record.points = max(record.points, points)
        if record.points > 0 and key not in self._notable:
            self._notice(key, now)

    def raise_to(self, key: str, suspicion: float, now: float) -> None:
        """At least this suspicion for ``key`` (what another process judged, via Redis)."""
        record = self._records.get(key) or self._insert(key, now)
        _decay(record, now)
        record.points = max(record.points, -SCALE * math.log(1.0 - min(suspicion, 0.999)))
        if record.points > 0 and key not in self._notable:
            self._notice(key, now)

    def suspicion(self, key: str, now: float) -> float:
        record = self._records.get(key)
        if record is None or not record.points:
            return 0.0  # a clean key (most of them): no decay, no exp
        _decay(record, now)
        return 1.0 - math.exp(-record.points / SCALE)

    def good_uses(self, key: str) -> int:
        record = self._records.get(key)
        return record.good if record else 0

    def top(self, n: int, now: float) -> list[tuple[str, float]]:
        """The ``n`` worst keys with any suspicion, worst first: exact for n <= NOTABLE // 2
        (but a kept key that earns points back may now trail one pruned earlier, not shown).

        Runs on the event loop when the admin view is asked for: it looks only at the notable
        keys, never the whole table (a scan of 200,000 addresses was a tenth of the loop's time
        under a flood while ``/-/shield`` was polled)."""
        scored = [(key, self.suspicion(key, now)) for key in self._notable]
        return heapq.nlargest(n, [item for item in scored if item[1] > 0], key=lambda i: i[1])

    def _insert(self, key: str, now: float) -> Record:
        if len(self._records) >= self.capacity:
            # The oldest sixteenth, without copying the whole key list (islice stops early).
            for old in list(itertools.islice(self._records, max(1, self.capacity // 16))):
                del self._records[old]
        record = self._records[key] = Record(0.0, now, 0, now)
        return record

    def first_seen(self, key: str, now: float) -> float:
        """When ``key`` was first seen (now, if never: it is remembered from here on)."""
        record = self._records.get(key)
        if record is None:
            record = self._insert(key, now)
        return record.first_seen


def _decay(record: Record, now: float) -> None:
    elapsed = now - record.updated
    if elapsed > 0:
        record.points *= 0.5 ** (elapsed / HALF_LIFE)
        record.updated = now


def account_rank(account_created: int, now: float) -> float:
    """Rank in [0, 1) within class 1 (lower goes first): 0 for an account a month old or more,
    ``NEW_ACCOUNT_RANK`` for one under a day old (a sign-up flood's accounts are all new)."""
    age_days = (now - account_created) / 86400
    for days, rank in AGE_BANDS:
        if age_days >= days:
            return rank
    return NEW_ACCOUNT_RANK


def status_event(status: int, login: bool) -> str:
    """What a response status says about the client (a failed login weighs most)."""
    if login and status in (400, 401, 403):
        return "failed_login"
    if status == 404:
        return "not_found"
    if status in (400, 401, 403, 405, 413, 422, 431):
        return "client_error"
    return "good"
