"""The calendar's vocabulary: sessions, announced days, news events, clock times.

Shared by the calendar itself, its override file and the broker's holiday refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from quantdesk.domain.time import IST_OFFSET_NS, NS_PER_DAY, NS_PER_MINUTE, ist_day_minute

REGULAR_OPEN_MINUTE = 9 * 60 + 15  # 09:15 IST
REGULAR_CLOSE_MINUTE = 15 * 60 + 30  # 15:30 IST
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class CalendarError(ValueError):
    """A calendar source that cannot be trusted; the message names the file and the fault."""


def day_number(day: date) -> int:
    """Days since 1970-01-01, the same numbering as `domain.time.ist_day_minute`."""
    return day.toordinal() - _EPOCH_ORDINAL


def ist_ns(day: int, minute: int) -> int:
    """Epoch ns of an IST wall-clock minute on a day number (IST has no daylight saving)."""
    return day * NS_PER_DAY + minute * NS_PER_MINUTE - IST_OFFSET_NS


def clock_minute(text: str) -> int:
    """Minute of day of an "HH:MM" clock time; strict, because a typo here moves a square-off."""
    hours, sep, minutes = text.partition(":")
    if sep != ":" or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"clock time {text!r} is not HH:MM")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"clock time {text!r} is out of range")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day's hours; `special` names a session with its own hours (Muhurat)."""

    day: date
    open_ns: int
    close_ns: int
    special: str | None = None


@dataclass(frozen=True, slots=True)
class MarketDay:
    """A date the exchange announced: shut when `open_ns` is None, else open with these hours
    even on a weekend or a holiday."""

    day: date
    name: str
    open_ns: int | None = None
    close_ns: int | None = None

    def __post_init__(self) -> None:
        if (self.open_ns is None) != (self.close_ns is None):
            raise ValueError(f"{self.day} {self.name}: give both open and close, or neither")
        if self.open_ns is not None and self.close_ns is not None:
            if self.open_ns >= self.close_ns:
                raise ValueError(f"{self.day} {self.name}: open must be before close")
            if ist_day_minute(self.open_ns)[0] != day_number(self.day):
                raise ValueError(f"{self.day} {self.name}: session opens on another IST day")


class EventKind(StrEnum):
    RBI_POLICY = "RBI_POLICY"
    CPI = "CPI"
    FNO_EXPIRY = "FNO_EXPIRY"
    RESULTS = "RESULTS"


@dataclass(frozen=True, slots=True)
class Event:
    """Scheduled news. Prices gap on the announcement and stops slip, so entries wait from
    `before_min` before it until `after_min` after it (end exclusive)."""

    name: str
    kind: EventKind
    at_ns: int
    before_min: int
    after_min: int
    symbol: str | None = None  # a company's results; None blacks out every symbol

    @property
    def start_ns(self) -> int:
        return self.at_ns - self.before_min * NS_PER_MINUTE

    @property
    def end_ns(self) -> int:
        return self.at_ns + self.after_min * NS_PER_MINUTE


@dataclass(frozen=True, slots=True)
class Overrides:
    days: tuple[MarketDay, ...] = ()
    events: tuple[Event, ...] = ()
