from __future__ import annotations

from quantdesk.data.synth import synth_bars
from quantdesk.domain.time import IST, to_datetime


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    assert list(synth_bars(n=300, seed=5)) == list(synth_bars(n=300, seed=5))
    assert list(synth_bars(n=300, seed=5)) != list(synth_bars(n=300, seed=6))


def test_bars_are_consistent_and_on_the_tick_grid() -> None:
    for bar in synth_bars(n=2000, seed=1):
        assert bar.low <= min(bar.open, bar.close) and bar.high >= max(bar.open, bar.close)
        assert bar.low > 0 and bar.volume > 0
        assert all((p / bar.open.__class__("0.05")) % 1 == 0 for p in bar[2:6])


def test_nse_sessions_are_weekdays_0915_to_1530_ist() -> None:
    start = 1_767_584_700_000_000_000  # 2026-01-05 09:15 IST, a Monday
    bars = list(synth_bars(n=375 * 6, seed=1, session="nse", start=start))
    local = [to_datetime(b.ts).astimezone(IST) for b in bars]
    days = sorted({t.date() for t in local})
    assert len(days) == 6 and all(d.weekday() < 5 for d in days)
    for day in days:
        times = [t for t in local if t.date() == day]
        assert len(times) == 375
        assert (times[0].hour, times[0].minute) == (9, 15)
        assert (times[-1].hour, times[-1].minute) == (15, 29)
