"""Standing: the reputation of addresses, prefixes and accounts, and the blocks it leads to.

Every refusal, error and reported misdeed lands here (``note_address``, ``note``). An address
that becomes suspicious is published to the other processes (through Redis, when configured);
one whose suspicion reaches ``BLOCK_SUSPICION`` is closed at accept for ``block_seconds``
(shared the same way). Policy: admin networks are never blocked (the operator must be
able to look), and ``block_seconds = 0`` turns blocking off.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from roost.config import ShieldSettings
from roost.shield.gate import Gate
from roost.shield.network import Network, in_networks
from roost.shield.reputation import SUSPICIOUS, ReputationTable

if TYPE_CHECKING:
    from roost.shield.shared import SharedState

log = logging.getLogger("roost.shield")
BLOCK_SUSPICION = 0.9  # an address this bad is closed at accept for block_seconds
SHARED_SUSPECT_SECONDS = 120.0  # how long other processes treat an address we found suspicious
MARKED_MAX = 20_000  # suspects and bad accounts remembered for the edge (oldest dropped first)


class Standing:
    def __init__(
        self,
        settings: ShieldSettings,
        gate: Gate,
        shared: SharedState,
        admin_networks: tuple[Network, ...],
    ) -> None:
        self.settings, self.gate, self.shared = settings, gate, shared
        self.admin_networks = admin_networks
        sharing = shared.enabled  # with Redis, new bad points go to the other processes too
        self.ip = ReputationTable(200_000, sharing)
        self.prefix = ReputationTable(50_000, sharing)
        self.account = ReputationTable(100_000, sharing)
        # Who crossed SUSPICIOUS lately, and until when: what the edge is told (shield/edge.py).
        self.suspects: dict[str, float] = {}
        self.bad_accounts: dict[str, float] = {}

    def note(self, ip: str, prefix: str, account: str, event: str, now: float) -> None:
        """An event the app reported (``report.report``)."""
        if account:
            self._note_account(account, event, now)
        self.note_address(ip, prefix, event, now)

    def note_response(self, ip: str, prefix: str, account: str, event: str, now: float) -> None:
        """What an admitted request's outcome says (``reputation.status_event``)."""
        if account:
            if event == "good":
                self.account.add(account, event, now)
                return
            self._note_account(account, event, now)
        elif event == "good":  # the common case, without note_address's checks for bad news
            self.ip.add(ip, event, now)
            self.prefix.add(prefix, event, now, 0.25)
            return
        self.note_address(ip, prefix, event, now)

    def note_address(
        self, ip: str, prefix: str, event: str, now: float, times: float = 1.0
    ) -> None:
        was = self.ip.suspicion(ip, now) if event != "good" else 1.0
        self.ip.add(ip, event, now, times)
        self.prefix.add(prefix, event, now, times / 4)
        if event == "good":
            return
        if was < SUSPICIOUS <= self.ip.suspicion(ip, now):
            self.shared.publish_suspect(ip, SHARED_SUSPECT_SECONDS)
            _mark(self.suspects, ip, now + SHARED_SUSPECT_SECONDS)
        if self.settings.block_seconds <= 0:
            return
        if self.ip.suspicion(ip, now) < BLOCK_SUSPICION or self.gate.is_blocked(ip, now):
            return
        if in_networks(ip, self.admin_networks):
            return
        log.warning("blocking %s for %ss (reputation)", ip, self.settings.block_seconds)
        self.gate.block(ip, self.settings.block_seconds, "reputation", now)
        self.shared.publish_block(ip, self.settings.block_seconds)

    def note_account(self, account: str, event: str, now: float) -> None:
        """A bad event for an account (``rate_limited``, ...), outside a request's outcome."""
        self._note_account(account, event, now)

    def _note_account(self, account: str, event: str, now: float) -> None:
        was = self.account.suspicion(account, now)
        self.account.add(account, event, now)
        if was < SUSPICIOUS <= self.account.suspicion(account, now):
            _mark(self.bad_accounts, account, now + SHARED_SUSPECT_SECONDS)

    def absorb_suspects(self, suspects: list[str], now: float) -> None:
        """Addresses other processes found suspicious: at least as suspicious here."""
        for ip in suspects:
            if self.ip.suspicion(ip, now) < SUSPICIOUS:
                self.ip.raise_to(ip, SUSPICIOUS + 0.01, now)  # a hair above: decay starts now
                _mark(self.suspects, ip, now + SHARED_SUSPECT_SECONDS)

    def current_suspects(self, now: float) -> set[str]:
        """Addresses found suspicious in the last ``SHARED_SUSPECT_SECONDS`` (for the edge)."""
        return _current(self.suspects, now)

    def current_bad_accounts(self, now: float) -> set[str]:
        return _current(self.bad_accounts, now)


def _mark(table: dict[str, float], key: str, until: float) -> None:
    if key not in table and len(table) >= MARKED_MAX:
        for old in list(table)[: MARKED_MAX // 16]:
            del table[old]
    table[key] = until


def _current(table: dict[str, float], now: float) -> set[str]:
    for key in [k for k, until in table.items() if until <= now]:
        del table[key]
    return set(table)
