"""Synthetic bars: reproducible, consistent, on the grid, inside NSE sessions."""

from __future__ import annotations

import itertools
import math
import statistics
from decimal import Decimal

import pytest

from quantdesk.data.synth import synth_bars
from quantdesk.domain.time import IST, to_datetime

MONDAY_0915_IST = 1_767_584_700_000_000_000  # 2026-01-05 09:15 IST
MINUTE = 60 * 10**9


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    assert list(synth_bars(n=300, seed=5)) == list(synth_bars(n=300, seed=5))
    assert list(synth_bars(n=300, seed=5)) != list(synth_bars(n=300, seed=6))
    # identical text too, not only equal values
    a, b = next(synth_bars(seed=9, n=1)), next(synth_bars(seed=9, n=1))
    assert [str(x) for x in a] == [str(x) for x in b]


def test_bars_are_consistent_positive_and_on_the_tick_grid() -> None:
    tick = Decimal("0.05")
    bars = list(synth_bars(n=5000, seed=1, start_price=Decimal("3"), volatility=0.01))
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.low >= tick and bar.volume >= 1
        assert bar.volume == bar.volume.to_integral_value()
        assert all(p % tick == 0 for p in bar[2:6])
    for before, after in itertools.pairwise(bars):
        assert after.ts - before.ts == MINUTE


def test_each_bar_opens_near_the_previous_close() -> None:
    bars = list(synth_bars(n=2000, seed=2))
    gaps = [abs(b.open - a.close) / a.close for a, b in itertools.pairwise(bars)]
    moves = [abs(b.close - b.open) / b.open for b in bars]
    assert statistics.mean(gaps) < statistics.mean(moves) / 2


def test_volatility_is_the_per_bar_sigma() -> None:
    bars = list(synth_bars(n=20_000, seed=4, volatility=0.002))
    returns = [math.log(b.close / a.close) for a, b in itertools.pairwise(bars)]
    # close-to-close includes the open gap (0.2 sigma): sqrt(1 + 0.04) x sigma
    assert statistics.stdev(returns) == pytest.approx(0.002 * math.sqrt(1.04), rel=0.05)


def test_nse_sessions_are_weekdays_0915_to_1530_ist() -> None:
    bars = list(synth_bars(n=375 * 6, seed=1, session="nse", start=MONDAY_0915_IST))
    local = [to_datetime(b.ts).astimezone(IST) for b in bars]
    days = sorted({t.date() for t in local})
    assert len(days) == 6 and all(d.weekday() < 5 for d in days)
    assert days[-1].isoformat() == "2026-01-12"  # the weekend was skipped
    for day in days:
        times = [t for t in local if t.date() == day]
        assert len(times) == 375
        assert (times[0].hour, times[0].minute) == (9, 15)
        assert (times[-1].hour, times[-1].minute) == (15, 29)


def test_nse_start_mid_session_or_on_a_weekend() -> None:
    mid = MONDAY_0915_IST + 165 * MINUTE + 30 * 10**9  # 12:00:30 IST
    first = next(synth_bars(session="nse", start=mid))
    assert to_datetime(first.ts).astimezone(IST).strftime("%a %H:%M") == "Mon 12:01"
    saturday = MONDAY_0915_IST - 2 * 86_400 * 10**9
    first = next(synth_bars(session="nse", start=saturday))
    assert first.ts == MONDAY_0915_IST


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="session"):
        synth_bars(session="lse")
    with pytest.raises(ValueError, match="375-minute"):
        synth_bars(session="nse", duration_ns=7 * MINUTE)
    with pytest.raises(ValueError, match="positive"):
        synth_bars(tick=Decimal(0))
