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
    from roost.shield.report import ShieldRef
    from roost.shield.shared import SharedState

log = logging.getLogger("roost.shield")
BLOCK_SUSPICION = 0.9  # an address this bad is closed at accept for block_seconds
SHARED_SUSPECT_SECONDS = 120.0  # how long other processes treat an address we found suspicious


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

    def note(self, ref: ShieldRef, event: str, now: float) -> None:
        """An event the app reported (``report.report``)."""
        if ref.account:
            self.account.add(ref.account, event, now)
        self.note_address(ref.ip, ref.prefix, event, now)

    def note_response(self, ip: str, prefix: str, account: str, event: str, now: float) -> None:
        """What an admitted request's outcome says (``reputation.status_event``)."""
        if account:
            self.account.add(account, event, now)
            if event == "good":
                return
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
        if self.settings.block_seconds <= 0:
            return
        if self.ip.suspicion(ip, now) < BLOCK_SUSPICION or self.gate.is_blocked(ip, now):
            return
        if in_networks(ip, self.admin_networks):
            return
        log.warning("blocking %s for %ss (reputation)", ip, self.settings.block_seconds)
        self.gate.block(ip, self.settings.block_seconds, "reputation", now)
        self.shared.publish_block(ip, self.settings.block_seconds)

    def absorb_suspects(self, suspects: list[str], now: float) -> None:
        """Addresses other processes found suspicious: at least as suspicious here."""
        for ip in suspects:
            if self.ip.suspicion(ip, now) < SUSPICIOUS:
                self.ip.raise_to(ip, SUSPICIOUS + 0.01, now)  # a hair above: decay starts now
