"""Rate schedules: how many attack requests (or new connections) per second, over a phase.

A schedule answers ``rate_at(t)`` for ``t`` seconds into its phase; ``None`` means "as fast as
the connections allow" (a closed-loop flood, the hardest load a generator can offer).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    rate: float | None

    def rate_at(self, t: float) -> float | None:
        return self.rate

    def peak(self) -> float | None:
        return self.rate


@dataclass(frozen=True)
class Ramp:
    """Linear from ``start`` to ``end`` over ``over_s`` seconds, then flat at ``end``."""

    start: float
    end: float
    over_s: float

    def rate_at(self, t: float) -> float | None:
        share = min(max(t / self.over_s, 0.0), 1.0)
        return self.start + (self.end - self.start) * share

    def peak(self) -> float | None:
        return max(self.start, self.end)


@dataclass(frozen=True)
class Pulses:
    """``rate`` for ``on_s`` seconds, then ``low`` for ``off_s`` seconds, repeating."""

    rate: float
    on_s: float
    off_s: float
    low: float = 0.0

    def rate_at(self, t: float) -> float | None:
        return self.rate if t % (self.on_s + self.off_s) < self.on_s else self.low

    def peak(self) -> float | None:
        return max(self.rate, self.low)


Schedule = Constant | Ramp | Pulses


def scaled(schedule: Schedule, share: float) -> Schedule:
    """The part of a schedule one of several generator processes carries."""
    match schedule:
        case Constant(rate):
            return Constant(None if rate is None else rate * share)
        case Ramp(start, end, over_s):
            return Ramp(start * share, end * share, over_s)
        case Pulses(rate, on_s, off_s, low):
            return Pulses(rate * share, on_s, off_s, low * share)
    raise TypeError(schedule)
