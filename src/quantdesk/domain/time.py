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


def to_datetime(ts: int) -> datetime:
    """UTC-aware datetime of an epoch-nanosecond timestamp (microsecond precision)."""
    seconds, ns = divmod(ts, NS_PER_S)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=ns // 1000)


def from_datetime(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime; naive datetimes are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def ist_date(ts: int) -> date:
    return to_datetime(ts).astimezone(IST).date()


def session_id(ts: int, mode: Mode, label: str) -> str:
    """`YYYY-MM-DD-<MODE>-<label>`, dated in IST, so every audit row names its trading day."""
    return f"{ist_date(ts).isoformat()}-{mode.value}-{label}"
