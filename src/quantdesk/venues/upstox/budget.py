"""The request budget: how many calls per endpoint class the desk may make, and when.

Upstox limits each API per user per second, per minute and per 30 minutes, and answers
HTTP 429 (UDAPI10005) past them; peers were IP-banned for reconciling symbol by symbol.
So every request first takes a token here, and a 429 closes its whole class until the
venue's Retry-After has passed.

Each window is a bucket of `limit` tokens in which a spent token comes back exactly one
window after it was spent. Unlike a bucket that refills continuously, this never lets
more than `limit` requests into any stretch of `window` seconds (a continuously refilled
full bucket can pass twice its size in one window), which is what the venue counts.

Waits are reported (`on_wait` and `waits`), so the operator sees the desk being throttled
instead of guessing why an order took two seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)


class EndpointClass(StrEnum):
    ORDERS = "orders"  # place, modify, cancel
    ORDER_QUERIES = "order_queries"  # order book, details, history, trades
    PORTFOLIO = "portfolio"  # positions, funds and margin
    MARKET_DATA = "market_data"  # candles, holidays


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: int
    per_minute: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.per_minute <= 0:
            raise ValueError(f"rates must be positive, got {self}")


# Upstox's published limits (regular, unregistered algos): order placement 10/s and
# 500/min; standard APIs 50/s and 500/min. Both also have a 30-minute cap (2000) that a
# one-day intraday desk is not expected to approach; the 429 pause covers it if it does.
UPSTOX_RATES: Mapping[EndpointClass, Rate] = {
    EndpointClass.ORDERS: Rate(per_second=10, per_minute=500),
    EndpointClass.ORDER_QUERIES: Rate(per_second=50, per_minute=500),
    EndpointClass.PORTFOLIO: Rate(per_second=50, per_minute=500),
    EndpointClass.MARKET_DATA: Rate(per_second=50, per_minute=500),
}


@dataclass(frozen=True, slots=True)
class BudgetWait:
    """One request held back: which class, for how long, and why."""

    endpoint_class: EndpointClass
    seconds: float
    cause: str  # "rate" (a window was full) or "paused" (the venue said 429)


@dataclass(slots=True)
class _Window:
    limit: int
    seconds: float
    spent: deque[float] = field(default_factory=deque)

    def free_at(self, now: float) -> float:
        """When the next token is available (<= now: available now)."""
        while self.spent and self.spent[0] <= now - self.seconds:
            self.spent.popleft()
        if len(self.spent) < self.limit:
            return now
        return self.spent[-self.limit] + self.seconds


@dataclass(slots=True)
class _ClassState:
    windows: tuple[_Window, ...]
    paused_until: float = 0.0
    lock: asyncio.Lock | None = None


class RequestBudget:
    """Per-class token windows plus 429 pauses. Belongs to one event loop.

    `clock` and `sleep` are injectable so the budget's arithmetic can be tested without
    waiting; in production they are `time.monotonic` and `asyncio.sleep`.
    """

    def __init__(
        self,
        rates: Mapping[EndpointClass, Rate] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_wait: Callable[[BudgetWait], None] | None = None,
    ) -> None:
        merged = {**UPSTOX_RATES, **(rates or {})}
        self._classes = {
            cls: _ClassState((_Window(rate.per_second, 1.0), _Window(rate.per_minute, 60.0)))
            for cls, rate in merged.items()
        }
        self._clock, self._sleep, self._on_wait = clock, sleep, on_wait
        self.waits: deque[BudgetWait] = deque(maxlen=1024)  # the latest, for inspection
        self.waited_s: dict[EndpointClass, float] = dict.fromkeys(self._classes, 0.0)

    def __repr__(self) -> str:
        return f"RequestBudget(classes={sorted(self._classes)})"

    async def acquire(self, cls: EndpointClass) -> float:
        """Wait until `cls` may send one request, spend its token; returns seconds waited.

        Callers queue in arrival order (one lock per class), and a pause that arrives while
        a caller sleeps is seen when it wakes, so nobody slips through a 429."""
        state = self._classes[cls]
        if state.lock is None:
            state.lock = asyncio.Lock()
        waited = 0.0
        async with state.lock:
            while True:
                now = self._clock()
                rate_at = max(w.free_at(now) for w in state.windows)
                ready_at = max(rate_at, state.paused_until)
                if ready_at <= now:
                    break
                cause = "paused" if state.paused_until > rate_at else "rate"
                self._report(BudgetWait(cls, ready_at - now, cause))
                await self._sleep(ready_at - now)
                waited += ready_at - now
            for window in state.windows:
                window.spent.append(now)
        return waited

    def pause(self, cls: EndpointClass, seconds: float) -> None:
        """The venue said 429: nobody in `cls` sends for `seconds` (never shortens a pause)."""
        state = self._classes[cls]
        state.paused_until = max(state.paused_until, self._clock() + max(seconds, 0.0))
        log.warning("upstox %s requests paused for %.2f s after HTTP 429", cls.value, seconds)

    def paused_for(self, cls: EndpointClass) -> float:
        """Seconds left in the current pause of `cls` (0 when it may send)."""
        return max(0.0, self._classes[cls].paused_until - self._clock())

    def _report(self, wait: BudgetWait) -> None:
        self.waits.append(wait)
        self.waited_s[wait.endpoint_class] += wait.seconds
        cls = wait.endpoint_class.value
        log.info("upstox %s request waits %.3f s (%s)", cls, wait.seconds, wait.cause)
        if self._on_wait is not None:
            self._on_wait(wait)
