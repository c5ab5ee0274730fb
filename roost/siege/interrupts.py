"""Ctrl-C and SIGTERM during a run: the first stops the attack; none can lose the report.

Before the attack starts Ctrl-C simply aborts (nothing was measured yet). From the first "start"
sent to the generators until report.json and the chart are written, SIGINT and SIGTERM come here:
the first stops the attack, and any later one is logged and ignored, because the generators are
still closing connections and sending their final figures (up to 15 s) and the report is still
being written. A second Ctrl-C used to raise KeyboardInterrupt there and lose everything.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from types import FrameType, TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """A scope (``with``) in which the run can be stopped once; on leaving it, the signal
    handlers from before come back."""

    def __init__(self) -> None:
        self.requested = False  # the first signal came
        self._saved: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
        self._stop: Callable[[], None] | None = None
        self._over = False  # the attack is over: only collecting and writing are left

    def __enter__(self) -> Interrupts:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._saved.items():
            if handler is not None:
                signal.signal(sig, handler)
        self._saved.clear()

    def arm(self) -> None:
        """From now on (the attack is starting) signals are handled here, not by Python."""
        for sig in SIGNALS:
            if sig not in self._saved:
                self._saved[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)

    def attach(self, stop: Callable[[], None]) -> None:
        """The running attack's stop; called at once if a signal came while it was starting."""
        self._stop = stop
        if self.requested:
            stop()

    def detach(self) -> None:
        """The attack is over; any signal from now on is logged and ignored."""
        self._stop = None
        self._over = True

    def hold(self) -> None:
        """Only writing is left: log and ignore signals until this scope ends."""
        self.arm()
        self.detach()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested or self._over:
            _say("still writing the report; it will be written, please wait")
            return
        self.requested = True
        _say("stopping: closing connections, then writing the report")
        if self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the event loop closed under us
                self._stop()


def _say(message: str) -> None:
    # os.write, not print: a handler that prints while the main thread is printing to the same
    # buffered stream fails with "reentrant call".
    with contextlib.suppress(OSError):
        os.write(2, f"siege: {message}\n".encode())
