"""Progress that moves: what a job reports comes in steps (each stem written, then rendered), and a
number that sits still for seconds reads as a hang. Between two reports the shown value advances at
the pace the job has kept so far, easing towards 1 without reaching it; a report ahead of it is shown
at once, and the value never goes back. Used for MCP progress notifications and Ardour's notices."""

from __future__ import annotations

import math
import time

PRIOR_RATE = 0.02  # fraction per second assumed before the job has said anything (a job starting up)


class Eased:
    def __init__(self, now: float | None = None) -> None:
        self.start = time.monotonic() if now is None else now
        self.reported = 0.0  # the job's own last value
        self.at = self.start  # when it came
        self.shown = 0.0

    def report(self, fraction: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        fraction = max(0.0, min(1.0, float(fraction)))
        if fraction > self.reported:
            self.reported, self.at = fraction, now

    def value(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        v = self.reported
        elapsed = self.at - self.start
        if self.reported < 1:
            rate = self.reported / elapsed if self.reported > 0 and elapsed > 0 else PRIOR_RATE  # per second so far
            gap = 1.0 - self.reported
            v = self.reported + gap * (1.0 - math.exp(-rate * (now - self.at) / gap))
        self.shown = max(self.shown, min(v, 0.99 if self.reported < 1 else 1.0))
        return self.shown
