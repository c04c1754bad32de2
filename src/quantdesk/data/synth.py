"""A deterministic synthetic market: the same arguments always give the same bars.

A multiplicative random walk on the tick grid (random.Random(seed)): each bar opens a
small gap away from the previous close, closes one per-bar sigma of noise later, and its
high/low reach past both; prices never go below one tick and volumes are whole numbers.
Sessions are around the clock ("24x7") or NSE ("nse": 09:15-15:30 IST, 375 one-minute
bars per weekday, weekends skipped; exchange holidays are not modelled).

Speed: one 60-bit draw per bar is cut into five 12-bit fields, each indexing a table of
normal quantiles already scaled to the bar's sigma in whole ticks, so a million bars
take a couple of seconds. Hence sigma moves in whole ticks (at least one) and the tails
stop near 3.5 sigma: fine for tests, demos and benchmarks, never for research claims.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import Decimal
from itertools import count, repeat
from statistics import NormalDist
from typing import cast

from quantdesk.domain.market import Bar
from quantdesk.domain.time import (
    IST_OFFSET_NS,
    NS_PER_DAY,
    NS_PER_MINUTE,
    is_weekday,
    ist_day_minute,
)

MINUTE = NS_PER_MINUTE
NSE_OPEN = (9 * 60 + 15) * MINUTE  # after IST midnight
NSE_SESSION = 375 * MINUTE
SESSIONS = ("24x7", "nse")

_GAP_SIGMA = 0.2  # open vs previous close, in per-bar sigmas
_WICK_SIGMA = 0.5  # high/low beyond the body, in per-bar sigmas
_VOLUME_MEDIAN, _VOLUME_SPREAD = 3000.0, 0.6  # lognormal volume per bar
_CHUNK = 1024  # bars built per batch


def _quantiles(bits: int, scale: float = 1.0, folded: bool = False) -> list[float]:
    """Normal quantiles at the midpoints of 2**bits equal-probability buckets."""
    size = 1 << bits
    normal = NormalDist()
    if folded:  # |Z|: quantiles of the half-normal
        return [scale * normal.inv_cdf(0.5 + (i + 0.5) / (2 * size)) for i in range(size)]
    return [scale * normal.inv_cdf((i + 0.5) / size) for i in range(size)]


_GAP = _quantiles(12, _GAP_SIGMA)
_MOVE = _quantiles(12)
_WICK = _quantiles(12, _WICK_SIGMA, folded=True)
_VOLUME = [max(1, round(_VOLUME_MEDIAN * math.exp(_VOLUME_SPREAD * z))) for z in _quantiles(12)]


class _Steps(dict[int, tuple[list[int], list[int], list[int]]]):
    """Per-bar sigma in whole ticks -> (gap, move, wick) tables in ticks, built on first
    use: the walk then needs no float arithmetic or rounding per bar."""

    def __missing__(self, sigma: int) -> tuple[list[int], list[int], list[int]]:
        gap, move, wick = ([round(q * sigma) for q in table] for table in (_GAP, _MOVE, _WICK))
        steps = self[sigma] = (gap, move, wick)
        return steps


class _Grid(dict[int, Decimal]):
    """Tick count -> exact price, built once per level (hits stay in C)."""

    def __init__(self, tick: Decimal) -> None:
        super().__init__()
        self.tick = tick

    def __missing__(self, units: int) -> Decimal:
        price = self[units] = units * self.tick
        return price


def session_times(start: int, duration_ns: int, session: str) -> Iterator[int]:
    """Bar open times from `start` (epoch ns): every `duration_ns`, or NSE sessions only."""
    if session not in SESSIONS:
        raise ValueError(f"session must be one of {', '.join(SESSIONS)}, got {session!r}")
    if session == "24x7":
        return count(start, duration_ns)
    if NSE_SESSION % duration_ns:
        raise ValueError(f"duration {duration_ns} ns does not divide the 375-minute session")
    return _nse_times(start, duration_ns)


def _nse_times(start: int, duration_ns: int) -> Iterator[int]:
    day, _ = ist_day_minute(start)
    while True:
        if is_weekday(day):
            opening = day * NS_PER_DAY + NSE_OPEN - IST_OFFSET_NS
            first = max(opening, start)
            first += -(first - opening) % duration_ns  # next bar boundary
            yield from range(first, opening + NSE_SESSION, duration_ns)
        day += 1


def synth_bars(
    symbol: str = "SYNTH",
    n: int = 1000,
    start: int = 1_767_585_900_000_000_000,
    duration_ns: int = MINUTE,
    seed: int = 0,
    start_price: Decimal = Decimal(1000),
    tick: Decimal = Decimal("0.05"),
    volatility: float | Decimal = 0.0015,
    session: str = "24x7",
) -> Iterator[Bar]:
    """`n` bars from `start` (epoch ns; in "nse" the first session bar at or after it).

    `volatility` is the per-bar sigma as a fraction of price; `start_price` is rounded
    down to the tick grid (at least one tick).
    """
    if tick <= 0 or start_price <= 0:
        raise ValueError("tick and start_price must be positive")
    times = session_times(start, duration_ns, session)
    return _walk(symbol, n, times, duration_ns, seed, start_price, tick, float(volatility))


def _walk(
    symbol: str,
    n: int,
    times: Iterator[int],
    duration_ns: int,
    seed: int,
    start_price: Decimal,
    tick: Decimal,
    volatility: float,
) -> Iterator[Bar]:
    draw = random.Random(seed).getrandbits  # noqa: S311 - synthetic data, not security
    steps, volume_of, grid = _Steps(), _VOLUME, _Grid(tick)
    volumes = {v: Decimal(v) for v in _VOLUME}
    close = max(1, int(start_price / tick))
    rows: list[tuple[object, ...]] = []
    add = rows.append
    for ts, _ in zip(times, range(n), strict=False):
        bits = draw(60)
        sigma = int(close * volatility + 0.5)
        gap, move, wick = steps[sigma if sigma > 1 else 1]
        open_ = close + gap[bits & 0xFFF]
        close = open_ + move[(bits >> 12) & 0xFFF]
        open_ = open_ if open_ > 1 else 1
        close = close if close > 1 else 1
        top, bottom = (open_, close) if open_ > close else (close, open_)
        high = top + wick[(bits >> 24) & 0xFFF]
        low = bottom - wick[(bits >> 36) & 0xFFF]
        low = low if low > 1 else 1
        volume = volumes[volume_of[bits >> 48]]
        add((symbol, ts, grid[open_], grid[high], grid[low], grid[close], volume, duration_ns))
        if len(rows) == _CHUNK:
            yield from _as_bars(rows)
            rows.clear()
    yield from _as_bars(rows)


def _as_bars(rows: list[tuple[object, ...]]) -> Iterator[Bar]:
    """Rows become Bars in C (map over tuple.__new__), not one Python call per bar."""
    return cast(Iterator[Bar], map(tuple.__new__, repeat(Bar), rows))
