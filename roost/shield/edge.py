"""The shield as the edge's brain: once a second, push what it decided and read what the edge saw.

Pushed (HAProxy maps, through the runtime API; ``roost/edge/haproxy.cfg.j2`` reads them):
- ``blocked.map``: addresses and prefixes the shield blocked; the edge closes them at accept;
- ``suspects.map``: addresses whose suspicion reached ``SUSPICIOUS``; the edge ranks them last;
- ``accounts.map``: accounts in bad standing; they lose the signed-in priority at the edge too;
- ``mode.map``: ``attack 1`` while under attack, which turns on the edge's challenge gate and
  brownout and tightens its per-address limits;
- the site process's ``maxconn`` in the ``site`` backend: the shield's adaptive concurrency limit
  (within ``ROOST_EDGE_SERVER_MAXCONN``), so that what the site cannot run at once waits in the
  edge's queue, where priority, account age and tenure order it, not in the process's own.

Read back (``show stat``, ``show table``): what the edge answered by itself (refusals, challenges,
cached pages, slow and refused connections) goes into the detector's current second, so that an
attack the edge is absorbing is still seen as one; addresses the edge keeps refusing for their
rate earn the reputation a refusal earns, which leads to blocks, which are pushed back.

Failure policy: an edge that does not answer is logged (at most every 10 s) and tried again next
second; the Python layer still defends on its own meanwhile. After a failure, or when the edge's
counters go backwards (it restarted, with empty maps), everything is pushed again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from roost.edge.runtime import EdgeUnavailable, Runtime, batch, number, parse_stat, parse_table
from roost.shield.network import prefix_of

if TYPE_CHECKING:
    from roost.shield.detector import Bucket
    from roost.shield.gate import Gate
    from roost.shield.standing import Standing

log = logging.getLogger("roost.shield")
FRONTEND = ("site", "FRONTEND")
BACKENDS = tuple(
    (name, "BACKEND") for name in ("site", "anonymous", "anonymous_attack", "passwords", "streams")
)
REFUSED_AT_EDGE = 5  # edge refusals per 10 s above which an address is reported to reputation
MAX_TABLE_ANSWER = 256 * 1024  # bytes of `show table` read per second (a few thousand entries)
LOG_EVERY = 10.0


class EdgeLink:
    """``own_address`` is this process's ``host:port`` as the edge names it in its ``site``
    backend; ``ceiling`` the most requests the edge may send it at once."""

    def __init__(
        self,
        socket_path: str | Path,
        run_dir: str | Path | None = None,
        own_address: str = "",
        ceiling: int = 0,
    ) -> None:
        self.runtime = Runtime(socket_path)
        self.own_address, self.ceiling = own_address, ceiling
        self.server_name = ""  # ours in the edge's site backend, once found
        self.pushed_maxconn = 0
        run = Path(run_dir) if run_dir else Path(socket_path).parent
        self.maps = {name: str(run / f"{name}.map") for name in ("blocked", "suspects", "accounts")}
        self.mode_map = str(run / "mode.map")
        self.pushed: dict[str, set[str]] = {name: set() for name in self.maps}
        self.pushed_mode: bool | None = None
        self.counters: dict[str, int] = {}
        self.queued = 0  # requests waiting in the edge's queue at the last look
        self.reachable = False
        self._last_log = float("-inf")

    async def sync(
        self,
        gate: Gate,
        standing: Standing,
        under_attack: bool,
        bucket: Bucket,
        now: float,
        concurrency: int = 0,
    ) -> None:
        """One round: push the changes, fold the edge's counters into ``bucket``, and give the
        edge this process's ``concurrency`` limit."""
        try:
            await self._push(gate, standing, under_attack, now)
            stats = await self._read(standing, bucket, now)
            await self._tune(stats, concurrency)
        except EdgeUnavailable as exc:
            self._forget()
            if time.monotonic() - self._last_log >= LOG_EVERY:
                self._last_log = time.monotonic()
                log.warning("edge unreachable, retrying every second: %s", exc)
            return
        if not self.reachable:
            log.info("edge reached at %s", self.runtime.path)
        self.reachable = True

    def _forget(self) -> None:
        """After a failure nothing is known to be pushed: push it all again."""
        self.reachable = False
        self.pushed = {name: set() for name in self.maps}
        self.pushed_mode = None
        self.counters = {}
        self.pushed_maxconn = 0

    # Pushing ---------------------------------------------------------------------------------
    async def _push(self, gate: Gate, standing: Standing, under_attack: bool, now: float) -> None:
        wanted = {
            "blocked": set(gate.active_blocks(now)),
            "suspects": standing.current_suspects(now),
            "accounts": standing.current_bad_accounts(now),
        }
        commands: list[str] = []
        for name, keys in wanted.items():
            path, pushed = self.maps[name], self.pushed[name]
            commands += [f"del map {path} {key}" for key in pushed - keys]
            commands += [f"del map {path} {key}; add map {path} {key} 1" for key in keys - pushed]
        if under_attack != self.pushed_mode:
            commands.append(f"set map {self.mode_map} attack {int(under_attack)}")
        for line in batch(commands):
            answer = await self.runtime.call(line)
            if "Unknown map" in answer:
                raise EdgeUnavailable(f"the edge does not know its maps: {answer.strip()[:200]}")
        self.pushed = wanted
        self.pushed_mode = under_attack

    # Reading ---------------------------------------------------------------------------------
    async def _tune(self, stats: dict, concurrency: int) -> None:
        """Our slots at the edge follow the shield's adaptive limit, within the ceiling."""
        if not (concurrency and self.ceiling and self.own_address):
            return
        if not self.server_name:
            for (proxy, name), row in stats.items():
                if proxy == "site" and row.get("addr") == self.own_address:
                    self.server_name = name
            if not self.server_name:
                return  # the edge does not front this process (another deployment's edge)
        wanted = max(2, min(concurrency, self.ceiling))
        if wanted != self.pushed_maxconn:
            await self.runtime.call(f"set maxconn server site/{self.server_name} {wanted}")
            self.pushed_maxconn = wanted

    async def _read(self, standing: Standing, bucket: Bucket, now: float) -> dict:
        stats = parse_stat(await self.runtime.call("show stat"))
        front = stats.get(FRONTEND)
        if front is None:
            raise EdgeUnavailable("the edge has no 'site' frontend")
        current = {
            "requests": number(front, "req_tot"),
            "forwarded": sum(number(stats.get(b, {}), "stot") for b in BACKENDS),
            "cached": number(front, "cache_hits"),
            "errors": number(front, "ereq"),
            "refused_connections": number(front, "dcon") + number(front, "dses"),
        }
        self.queued = sum(number(stats.get(b, {}), "qcur") for b in BACKENDS)
        previous, self.counters = self.counters, current
        if not previous or current["requests"] < previous["requests"]:
            if previous:  # the edge restarted: its maps are empty again
                self._forget()
                self.counters = current
            return stats
        delta = {key: max(0, value - previous[key]) for key, value in current.items()}
        answered = max(0, delta["requests"] - delta["forwarded"])
        bucket.requests += answered
        bucket.gets += answered
        bucket.rejected += max(0, answered - delta["cached"])
        bucket.slow_closes += delta["errors"]
        bucket.refused_connections += delta["refused_connections"]
        await self._read_refusals(standing, now)
        return stats

    async def _read_refusals(self, standing: Standing, now: float) -> None:
        """Addresses the edge refused for their rate: the reputation a refusal earns, per refusal
        (``gpc0_rate`` counts them over 10 s; read once a second, a tenth each time)."""
        command = f"show table st_ip data.gpc0_rate gt {REFUSED_AT_EDGE}"
        answer = await self.runtime.call(command, limit=MAX_TABLE_ANSWER)
        for address, values in parse_table(answer).items():
            refusals = values.get("gpc0_rate", 0)
            standing.note_address(address, prefix_of(address), "rate_limited", now, refusals / 10)
