"""Data quality: which gaps are real. Missing bars inside a session make a backtest
trade on prices that never existed, so they are counted and reported; the nights and
weekends of an exchange calendar are not gaps."""

from __future__ import annotations

from quantdesk.domain.time import is_weekday, ist_day_minute

NSE_OPEN, NSE_CLOSE = 9 * 60 + 15, 15 * 60 + 30  # minutes after midnight IST
CALENDARS = ("nse",)


def in_nse_session(ts: int) -> bool:
    """Weekday, 09:15 <= time < 15:30 IST (exchange holidays arrive with the risk calendar)."""
    day, minute = ist_day_minute(ts)
    return is_weekday(day) and NSE_OPEN <= minute < NSE_CLOSE


def real_gaps(gaps: list[tuple[int, int]], calendar: str | None) -> list[tuple[int, int]]:
    """Without a calendar every gap counts; with one, only gaps inside its sessions."""
    if calendar is None:
        return gaps
    if calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r} (known: {', '.join(CALENDARS)})")
    return [gap for gap in gaps if in_nse_session(gap[0])]
