"""A tiny NSE-like calendar for control tests: weekdays 09:15-15:30 IST, no holidays."""

from __future__ import annotations

from datetime import date, datetime

from quantdesk.domain.time import IST, from_datetime


def ist(text: str) -> int:
    return from_datetime(datetime.fromisoformat(text).replace(tzinfo=IST))


class WeekdayCalendar:
    def __init__(self) -> None:
        self._windows: dict[tuple[date, str], tuple[int, int] | None] = {}

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5

    def entry_window(self, day: date, cutoff: str = "15:10") -> tuple[int, int] | None:
        key = (day, cutoff)
        if key not in self._windows:  # cached per day, as the real calendar does
            trading = self.is_trading_day(day)
            window = (ist(f"{day}T09:15:00"), ist(f"{day}T{cutoff}:00")) if trading else None
            self._windows[key] = window
        return self._windows[key]

    def square_off_ts(self, day: date, at: str = "15:25") -> int | None:
        return ist(f"{day}T{at}:00") if self.is_trading_day(day) else None

    def session_of(self, ts: int) -> object | None:
        return object()

    def blackout_at(self, ts: int, symbol: str) -> object | None:
        return None
