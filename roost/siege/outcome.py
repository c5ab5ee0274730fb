"""What a run is asked to do (RunOptions) and what it found (Outcome), shared by its parts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from roost.siege.scenario import Scenario
from roost.siege.stats import Ledger
from roost.siege.timeline import Timeline


@dataclass
class RunOptions:
    target_url: str
    duration_s: float | None = None
    max_requests: int | None = None
    cpus: tuple[int, ...] = ()  # generator CPUs (workers are spread over them)
    server_cpus: tuple[int, ...] = ()  # pin the process(es) listening on the target port
    server_pids: tuple[int, ...] = ()  # known server processes (compare starts its own)
    live: bool = True
    label: str = ""
    status_url: str = ""  # a status page to poll (else the scenario's [legit] status_url)


@dataclass
class Outcome:
    """Everything the report is built from."""

    scenario: Scenario
    options: RunOptions
    ledger: Ledger = field(default_factory=Ledger)
    timeline: Timeline = field(default_factory=Timeline)
    phases: list[tuple[str, float, float]] = field(default_factory=list)
    placement: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stop_reason: str = "completed"
    started_at: float = field(default_factory=time.time)
    elapsed_s: float = 0.0
    limits: dict[str, float] = field(default_factory=dict)
    setup: dict[str, Any] = field(default_factory=dict)  # accounts made before the run
