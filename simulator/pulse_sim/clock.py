"""Time sources: the wall clock for real runs, a simulated clock that jumps for tests.

The fleet never calls ``time`` directly; it asks its clock for "now" and to wait until the next
scheduled moment. A simulated clock makes a week of device life run in a second, with the same
code path as a live run.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, as the fleet sees it."""
        ...

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        """Waits until ``deadline``; returns False when ``stop`` was set first."""
        ...


class RealClock:
    """The machine's wall clock; waiting is interruptible so that SIGTERM stops a run at once."""

    def now(self) -> float:
        return time.time()

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                return not stop.is_set()
            if stop.wait(remaining):
                return False


class SimulatedClock:
    """A clock that moves only when the fleet waits, and then jumps straight to the deadline."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        self._now = max(self._now, deadline)
        return True
