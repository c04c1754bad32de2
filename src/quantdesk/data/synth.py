"""A deterministic synthetic market: the same seed always gives the same bars.

A random walk on the tick grid with plausible OHLC and volume, either around the clock
or in NSE sessions (09:15-15:30 IST, 375 one-minute bars per weekday; exchange holidays
are not modelled). For tests, the demo and benchmarks — never for research claims.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from quantdesk.domain.market import Bar

MINUTE = 60_000_000_000
DAY = 86_400_000_000_000
IST_OFFSET = 19_800_000_000_000
NSE_OPEN = (9 * 60 + 15) * MINUTE  # after IST midnight
NSE_BARS = 375


def _session_times(start: int, duration_ns: int, session: str) -> Iterator[int]:
    if session == "24x7":
        ts = start
        while True:
            yield ts
            ts += duration_ns
    if session != "nse":
        raise ValueError(f"session must be '24x7' or 'nse', got {session!r}")
    day = (start + IST_OFFSET) // DAY
    per_day = NSE_BARS * MINUTE // duration_ns
    first = True
    while True:
        if (day + 3) % 7 < 5:  # 1970-01-01 was a Thursday: Monday..Friday
            open_ts = day * DAY + NSE_OPEN - IST_OFFSET
            for i in range(per_day):
                ts = open_ts + i * duration_ns
                if not first or ts >= start:
                    yield ts
            first = False
        day += 1


def synth_bars(
    symbol: str = "SYNTH",
    n: int = 1000,
    start: int = 1_767_585_900_000_000_000,
    duration_ns: int = MINUTE,
    seed: int = 0,
    start_price: Decimal = Decimal(1000),
    tick: Decimal = Decimal("0.05"),
    volatility: float = 0.0015,
    session: str = "24x7",
) -> Iterator[Bar]:
    """`n` bars from `start` (epoch ns); per-bar sigma `volatility` as a fraction."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    price_ticks = int(start_price / tick)
    sigma_ticks = max(1.0, float(start_price) * volatility / float(tick))
    cache: dict[int, Decimal] = {}

    def price(t: int) -> Decimal:
        d = cache.get(t)
        if d is None:
            d = cache[t] = t * tick
        return d

    times = _session_times(start, duration_ns, session)
    for _ in range(n):
        ts = next(times)
        open_ = max(1, price_ticks + round(rng.gauss(0, sigma_ticks * 0.2)))
        close = max(1, open_ + round(rng.gauss(0, sigma_ticks)))
        high = max(open_, close) + round(abs(rng.gauss(0, sigma_ticks * 0.5)))
        low = max(1, min(open_, close) - round(abs(rng.gauss(0, sigma_ticks * 0.5))))
        volume = Decimal(int(rng.lognormvariate(8, 0.6)) + 1)
        price_ticks = close
        yield Bar(
            symbol, ts, price(open_), price(high), price(low), price(close), volume, duration_ns
        )
