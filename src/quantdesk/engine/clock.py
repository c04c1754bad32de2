"""Clocks. All session logic asks the engine's clock, never `datetime.now()`."""

from __future__ import annotations

import time


class SimulatedClock:
    """Advanced by the engine to each event's timestamp (backtest, replay)."""

    __slots__ = ("_now",)

    def __init__(self, start: int = 0) -> None:
        self._now = start

    def now(self) -> int:
        return self._now

    def advance_to(self, ts: int) -> None:
        if ts > self._now:
            self._now = ts


class WallClock:
    """Real time, optionally sped up: `now = origin + (wall - wall0) * speed`.

    A speed above 1 lets `quantdesk paper` replay a day of bars in minutes while every
    component still sees one consistent clock.
    """

    __slots__ = ("_origin", "_speed", "_wall0")

    def __init__(self, speed: float = 1.0, origin: int | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._wall0 = time.time_ns()
        self._origin = self._wall0 if origin is None else origin
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> int:
        return self._origin + int((time.time_ns() - self._wall0) * self._speed)

    def advance_to(self, ts: int) -> None:
        """Wall time cannot be moved; the runner waits instead."""

    def wall_delay_s(self, ts: int) -> float:
        """Real seconds to wait until the clock reads `ts`."""
        return max(0.0, (ts - self.now()) / self._speed / 1e9)

    def lateness_s(self, ts: int) -> float:
        """Real seconds since the clock read `ts` (0 if it has not yet): the loop's lag."""
        return max(0.0, (self.now() - ts) / self._speed / 1e9)
