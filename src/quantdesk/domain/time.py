"""Timestamps are UTC epoch nanoseconds (ints): cheap to order, exact, replay-stable.

Session logic is in IST; these helpers are the only place a datetime is built from one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from quantdesk.domain.enums import Mode

IST = ZoneInfo("Asia/Kolkata")
NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_MINUTE = 60 * NS_PER_S
NS_PER_DAY = 86_400 * NS_PER_S
IST_OFFSET_NS = 19_800 * NS_PER_S  # +05:30 all year: India has no daylight saving
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_datetime(ts: int) -> datetime:
    """UTC-aware datetime of an epoch-nanosecond timestamp (microsecond precision)."""
    seconds, ns = divmod(ts, NS_PER_S)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=ns // 1000)


def iso_utc(ts: int) -> str:
    """ISO-8601 UTC with a `Z`, microseconds only when there are any."""
    return to_datetime(ts).isoformat().replace("+00:00", "Z")


def from_datetime(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime; naive datetimes are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def ist_date(ts: int) -> date:
    """The IST calendar date of a timestamp (integer arithmetic, see `ist_day_minute`)."""
    return date.fromordinal(_EPOCH_ORDINAL + ist_day_minute(ts)[0])


def ist_day_minute(ts: int) -> tuple[int, int]:
    """IST day number (days since 1970-01-01) and minute of that day. Integer arithmetic:
    it runs once per bar, where building a datetime would cost more than the strategy."""
    local = ts + IST_OFFSET_NS
    return local // NS_PER_DAY, local % NS_PER_DAY // NS_PER_MINUTE


def is_weekday(day: int) -> bool:
    """For a day number from `ist_day_minute` (1970-01-01 was a Thursday)."""
    return (day + 3) % 7 < 5


def session_id(ts: int, mode: Mode, label: str) -> str:
    """`YYYY-MM-DD-<MODE>-<label>`, dated in IST, so every audit row names its trading day."""
    return f"{ist_date(ts).isoformat()}-{mode.value}-{label}"
