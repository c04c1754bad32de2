"""Circuit breakers: automatic pauses, each with its own way back.

A tripped breaker pauses entries until its recovery criterion holds: an explicit
operator resume for rejections, execution failures and equity (a human looks first),
or a quiet period of fresh data for data health (the feed healing is the fix).
Pure state machines over epoch-ns timestamps: no clock, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

NS_PER_S = 1_000_000_000


class Recovery(StrEnum):
    OPERATOR = "operator resume"
    QUIET = "quiet period of fresh data"


@dataclass(slots=True)
class Breaker:
    name: str
    recovery: Recovery
    tripped_at: int | None = None
    reason: str = ""

    @property
    def tripped(self) -> bool:
        return self.tripped_at is not None

    def trip(self, ts: int, reason: str) -> bool:
        """True when this call tripped it (the caller raises the RiskEvent once)."""
        if self.tripped_at is not None:
            return False
        self.tripped_at, self.reason = ts, reason
        return True

    def reset(self) -> None:
        self.tripped_at, self.reason = None, ""


class RejectionBreaker(Breaker):
    """N rejections within M minutes."""

    def __init__(self, limit: int, window_min: int) -> None:
        super().__init__("rejections", Recovery.OPERATOR)
        self.limit = limit
        self.window_ns = window_min * 60 * NS_PER_S
        self.times: deque[int] = deque()

    def record(self, ts: int) -> bool:
        self.times.append(ts)
        while self.times and self.times[0] <= ts - self.window_ns:
            self.times.popleft()
        if len(self.times) >= self.limit:
            minutes = self.window_ns // (60 * NS_PER_S)
            return self.trip(ts, f"{len(self.times)} rejections within {minutes} min")
        return False

    def reset(self) -> None:
        super().reset()
        self.times.clear()


class FailureBreaker(Breaker):
    """K consecutive execution failures (retries exhausted, cancels failed, unresolved)."""

    def __init__(self, limit: int) -> None:
        super().__init__("execution_failures", Recovery.OPERATOR)
        self.limit = limit
        self.streak = 0

    def record(self, ts: int, failed: bool) -> bool:
        self.streak = self.streak + 1 if failed else 0
        if self.streak >= self.limit:
            return self.trip(ts, f"{self.streak} consecutive execution failures")
        return False

    def reset(self) -> None:
        super().reset()
        self.streak = 0


class EquityBreaker(Breaker):
    """Equity below a floor, or intraday drawdown from the day's peak beyond a limit."""

    def __init__(self, floor: Decimal, drawdown_pct: Decimal) -> None:
        super().__init__("equity", Recovery.OPERATOR)
        self.floor = floor
        self.drawdown_pct = drawdown_pct
        self.day_peak: Decimal | None = None

    def new_day(self, equity: Decimal) -> None:
        self.day_peak = equity

    def record(self, ts: int, equity: Decimal) -> bool:
        if self.day_peak is None or equity > self.day_peak:
            self.day_peak = equity
        if equity < self.floor:
            return self.trip(ts, f"equity {equity} below the floor {self.floor}")
        drawdown = (self.day_peak - equity) * 100 / self.day_peak if self.day_peak > 0 else 0
        if drawdown > self.drawdown_pct:
            return self.trip(
                ts, f"intraday drawdown {drawdown:.2f}% beyond {self.drawdown_pct}% of the peak"
            )
        return False


class DataHealthBreaker(Breaker):
    """The feed went silent for longer than T; resumes by itself after Q seconds of data."""

    def __init__(self, stale_s: int, quiet_s: int) -> None:
        super().__init__("data_health", Recovery.QUIET)
        self.stale_ns = stale_s * NS_PER_S
        self.quiet_ns = quiet_s * NS_PER_S
        self.last_data: int | None = None
        self.healthy_since: int | None = None

    def on_data(self, ts: int) -> None:
        if self.last_data is None or ts - self.last_data > self.stale_ns:
            self.healthy_since = ts  # a gap restarts the quiet period
        self.last_data = ts

    def check(self, now: int, not_before: int = 0) -> bool:
        """Trip when nothing arrived for longer than T; silence before `not_before` (the
        session's open: the market was shut, not the feed) does not count."""
        since = max(self.last_data or 0, not_before)
        if since and now - since > self.stale_ns:
            seconds = (now - since) // NS_PER_S
            return self.trip(now, f"no market data for {seconds} s")
        return False

    def recovered(self, now: int) -> bool:
        if self.last_data is None or self.healthy_since is None:
            return False
        fresh = now - self.last_data <= self.stale_ns
        return fresh and now - self.healthy_since >= self.quiet_ns
