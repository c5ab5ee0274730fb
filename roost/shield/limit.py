"""An adaptive concurrency limit from measured latency (Netflix's ``GradientLimit``, Vegas-style).

The limit follows ``gradient = tolerance * rtt_noload / rtt``, clamped to [0.5, 1]: when requests
take longer than the no-load latency allows, the server is queueing internally (in the event loop,
on the CPU), so the limit shrinks by that ratio; otherwise it grows by a queue allowance of
``sqrt(limit)``. This is the first version of Netflix's concurrency-limits ``GradientLimit``
(github.com/Netflix/concurrency-limits; smoothing 0.2 and tolerance 2 are its defaults).

Why not Gradient2 (a long-term *average* as the baseline)? Measured here: with a CPU-bound app
flooded from the start, the long average learns the overloaded latency as normal and the limit
*grew* from 32 to 74 while latency sat at 300 ms. The no-load latency cannot be fooled that way.
It is the minimum window average, allowed to drift up 0.05 % a window (about 1 %/s at 20
windows/s) so that a real, lasting change in the app's speed is eventually accepted.

A flood that starts with the server never sees a calm window, so the latency baseline alone can
be fooled too. In one Python process, all internal queueing is the *event loop's* backlog, which
the layer measures directly (``note_lag``: how late a 50 ms timer fires). Lag above ``LAG_TARGET``
shrinks the limit the same way latency does, whatever the request mix.
"""

from __future__ import annotations

import math

DRIFT = 1.0005
LAG_TARGET = 0.010  # seconds of event-loop lag that count as "queueing inside the process"


class GradientLimit:
    """The number of requests the app may run at once, re-estimated once per sample window."""

    def __init__(
        self,
        initial: int = 32,
        minimum: int = 4,
        maximum: int = 512,
        smoothing: float = 0.2,
        tolerance: float = 2.0,
    ) -> None:
        self.estimate = float(initial)
        # int(estimate), kept as a plain attribute: admission reads it for every request.
        self.limit = int(initial)
        self.minimum, self.maximum = minimum, maximum
        self.smoothing, self.tolerance = smoothing, tolerance
        self.rtt_noload = 0.0
        self.last_rtt = 0.0
        self.lag = 0.0
        self._sum = 0.0
        self._count = 0
        self._window_start = 0.0
        self._max_inflight = 0

    def sample(self, rtt: float, inflight: int, now: float) -> None:
        """Record one admitted request's latency; update the limit when a window closes
        (at least 10 samples and 50 ms)."""
        self._sum += rtt
        self._count += 1
        self._max_inflight = max(self._max_inflight, inflight)
        if self._count >= 10 and now - self._window_start >= 0.05:
            self._update(self._sum / self._count)
            self._sum, self._count, self._max_inflight = 0.0, 0, 0
            self._window_start = now

    def note_lag(self, lag: float) -> None:
        """Event-loop lag from a periodic timer (exponentially smoothed: one slow tick is noise)."""
        self.lag += (max(0.0, lag) - self.lag) * 0.3

    def _update(self, rtt: float) -> None:
        self.last_rtt = rtt
        if self.rtt_noload == 0.0 or rtt < self.rtt_noload:
            self.rtt_noload = rtt
        else:
            self.rtt_noload *= DRIFT
        gradient = min(
            self.tolerance * self.rtt_noload / max(rtt, 1e-9), LAG_TARGET / max(self.lag, 1e-9)
        )
        gradient = max(0.5, min(1.0, gradient))
        # An app-limited window (few requests in flight) says nothing about more capacity.
        growth = math.sqrt(self.estimate) if self._max_inflight >= self.estimate / 2 else 0.0
        if gradient == 1.0 and growth == 0.0:
            return
        target = self.estimate * gradient + growth
        self.estimate = self.estimate * (1 - self.smoothing) + target * self.smoothing
        self.estimate = max(self.minimum, min(self.maximum, self.estimate))
        self.limit = int(self.estimate)
