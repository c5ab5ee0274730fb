"""The live progress display while a run is going (rich); silent when not on a terminal."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live as RichLive
from rich.table import Table

if TYPE_CHECKING:
    from roost.siege.outcome import Outcome


class Live:
    def __init__(self, outcome: Outcome, start_at: float, enabled: bool = True) -> None:
        self.outcome = outcome
        self.start_at = start_at
        console = Console(stderr=True)
        self.enabled = enabled and console.is_terminal
        self._live = RichLive(console=console, refresh_per_second=4, transient=False)
        self._last = 0.0

    def __enter__(self) -> Live:
        if self.enabled:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled:
            self.update(force=True)
            self._live.__exit__(kind, value, tb)

    def update(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.5 and not force):
            return
        self._last = now
        self._live.update(self._table(now - self.start_at))

    def _table(self, t: float) -> Table:
        phase = next((n for n, s, e in self.outcome.phases if s <= t < e), "-")
        end = self.outcome.phases[-1][2] if self.outcome.phases else t
        title = f"roost siege: {self.outcome.scenario.name}  t={t:5.1f}s of {end:g}s  {phase}"
        table = Table(title=title, caption="Ctrl-C stops the run and still writes the report")
        for column in (
            "second",
            "legit req",
            "legit ok",
            "rejected",
            "legit p99 ms",
            "attack sent/s",
            "answered/s",
            "shed/s",
        ):
            table.add_column(column, justify="right")
        rows = self.outcome.timeline.rows(max(t, 0.0), since_s=max(t - 5, 0.0))
        for row in rows:
            ok = "-" if row["legit_success"] is None else f"{row['legit_success']:.0%}"
            p99 = "-" if row["legit_p99_ms"] is None else f"{row['legit_p99_ms']:.0f}"
            table.add_row(
                str(row["t"]),
                str(row["legit_requests"]),
                ok,
                str(row["legit_rejected"]),
                p99,
                f"{row['attack_sent']:,}",
                f"{row['attack_answered']:,}",
                f"{row['attack_shed']:,}",
            )
        return table
