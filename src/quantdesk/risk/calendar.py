"""NSE trading calendar: which days trade, at what hours, and when news blacks out entries.

The risk gate asks once per entry, so every query is integer arithmetic on epoch nanoseconds
over per-day dicts; datetimes and parsing happen once, while the calendar is built.

Three layers, each later one winning: exchange-calendars' XBOM days (BSE and NSE close on the
same holidays), the broker's announced list kept by the daily refresh, and a local override
file for what neither knew in time (a holiday announced the week before, a Muhurat session).
"""

from __future__ import annotations

import logging
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdesk.domain.time import (
    IST_OFFSET_NS,
    NS_PER_DAY,
    NS_PER_MINUTE,
    from_datetime,
    is_weekday,
    ist_day_minute,
)

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class ExchangeDays:
    """Trading days exchange-calendars knows within [first, last] (day numbers); outside that
    range only the Mon–Fri rule and the announced lists are known."""

    first: int
    last: int
    days: frozenset[int]

    def trades(self, day: int) -> bool:
        if self.first <= day <= self.last:
            return day in self.days
        return is_weekday(day)


@lru_cache(maxsize=8)
def xbom_days(first: date, last: date) -> ExchangeDays | None:
    """XBOM sessions in [first, last], or None when exchange-calendars cannot give any; the
    calendar then falls back to Mon–Fri plus the announced lists rather than going empty.
    Imported here, not at module level: pandas costs a second the risk gate need not pay."""
    try:
        import exchange_calendars  # type: ignore[import-untyped]

        with warnings.catch_warnings():  # pandas deprecations inside the package are not ours
            warnings.simplefilter("ignore")
            xbom = exchange_calendars.get_calendar(
                "XBOM", start=first.isoformat(), end=last.isoformat()
            )
        days = frozenset(day_number(stamp.date()) for stamp in xbom.sessions)
    except Exception as exc:  # any failure of a third-party calendar must degrade, not crash
        log.warning("exchange-calendars XBOM unavailable (%s); using Mon-Fri", exc)
        return None
    if not days:
        log.warning("exchange-calendars XBOM has no session %s..%s; using Mon-Fri", first, last)
        return None
    return ExchangeDays(day_number(first), day_number(last), days)


_UNSET = Session(date.min, 0, 0)  # cache marker: "not computed yet", distinct from closed (None)


class TradingCalendar:
    """Sessions and news blackouts for NSE; immutable once built, cached per day."""

    def __init__(
        self,
        exchange: ExchangeDays | None,
        announced: Iterable[MarketDay] = (),
        overrides: Iterable[MarketDay] = (),
        events: Iterable[Event] = (),
    ) -> None:
        self._exchange = exchange
        self._listed: dict[int, MarketDay] = {}
        for entry in (*announced, *overrides):  # override file last: it wins
            self._listed[day_number(entry.day)] = entry
        self._sessions: dict[int, Session | None] = {}
        self._everyone, self._by_symbol = _index_blackouts(events)
        self._refuse_empty()

    @classmethod
    def build(
        cls,
        *,
        first: date,
        last: date,
        override_file: Path | None = None,
        announced: Iterable[MarketDay] = (),
        events: Iterable[Event] = (),
    ) -> TradingCalendar:
        """The production calendar: XBOM days for [first, last], the refresh job's stored list
        (`announced`, see `holiday_refresh.load_stored`), then the override file."""
        overrides = load_overrides(override_file) if override_file is not None else Overrides()
        return cls(xbom_days(first, last), announced, overrides.days, (*overrides.events, *events))

    def session_on(self, day: date) -> Session | None:
        """The day's session, or None when NSE does not trade that day."""
        return self._session(day_number(day))

    def session_of(self, ts: int) -> Session | None:
        """The session in force at `ts` (open inclusive, close exclusive), else None."""
        day = (ts + IST_OFFSET_NS) // NS_PER_DAY
        session = self._sessions.get(day, _UNSET)
        if session is _UNSET:
            session = self._session(day)
        if session is not None and session.open_ns <= ts < session.close_ns:
            return session
        return None

    def is_open(self, ts: int) -> bool:
        return self.session_of(ts) is not None

    def is_trading_day(self, day: date) -> bool:
        return self._session(day_number(day)) is not None

    def holiday_name(self, day: date) -> str | None:
        """Why a non-trading day is shut: the announced name, "NSE holiday" for a weekday that
        only exchange-calendars knows, None for a trading day or a plain weekend."""
        number = day_number(day)
        if self._session(number) is not None:
            return None
        listed = self._listed.get(number)
        if listed is not None:
            return listed.name
        return "NSE holiday" if is_weekday(number) else None

    def blackout_at(self, ts: int, symbol: str | None = None) -> Event | None:
        """The event blacking out entries in `symbol` at `ts` (the one ending last when several
        overlap, so the caller learns when entries resume), else None."""
        day = (ts + IST_OFFSET_NS) // NS_PER_DAY
        found, found_end = None, 0
        for start, end, event in self._everyone.get(day, ()):
            if start <= ts < end:
                found, found_end = event, end
                break
        if symbol is not None:
            for start, end, event in self._by_symbol.get((day, symbol), ()):
                if start <= ts < end:
                    return event if found is None or end > found_end else found
        return found

    def entry_window(self, day: date, cutoff: str = "15:10") -> tuple[int, int] | None:
        """(open_ns, cutoff_ns) for new entries, or None when the day leaves no room for one.
        A special session keeps the cut-off's distance from the close (20 min for 15:10)."""
        session = self._session(day_number(day))
        if session is None:
            return None
        cutoff_ns = session.close_ns - _minutes_before_close(cutoff) * NS_PER_MINUTE
        return (session.open_ns, cutoff_ns) if cutoff_ns > session.open_ns else None

    def square_off_ts(self, day: date, at: str = "15:25") -> int | None:
        """When intraday positions are flattened, or None on a non-trading day. A special
        session keeps the distance from the close (5 min for 15:25), never before its open."""
        session = self._session(day_number(day))
        if session is None:
            return None
        return max(session.close_ns - _minutes_before_close(at) * NS_PER_MINUTE, session.open_ns)

    def _session(self, day: int) -> Session | None:
        session = self._sessions.get(day, _UNSET)
        if session is _UNSET:
            session = self._sessions[day] = self._compute_session(day)
        return session

    def _compute_session(self, day: int) -> Session | None:
        """A listed day beats the exchange days. A listed session with regular hours on a day
        that trades anyway is a plain session (brokers list such days when MCX closes)."""
        trades = self._exchange.trades(day) if self._exchange is not None else is_weekday(day)
        regular = (ist_ns(day, REGULAR_OPEN_MINUTE), ist_ns(day, REGULAR_CLOSE_MINUTE))
        listed = self._listed.get(day)
        if listed is None:
            return Session(date.fromordinal(day + _EPOCH_ORDINAL), *regular) if trades else None
        if listed.open_ns is None or listed.close_ns is None:
            return None
        plain = trades and (listed.open_ns, listed.close_ns) == regular
        return Session(listed.day, listed.open_ns, listed.close_ns, None if plain else listed.name)

    def _refuse_empty(self) -> None:
        """A calendar with no session would silently block (or, worse, mis-time) every trade."""
        if self._exchange is None:
            return  # Mon–Fri never runs out
        days = range(self._exchange.first, self._exchange.last + 1)
        if not any(self._session(day) is not None for day in days):
            first, last = (date.fromordinal(d + _EPOCH_ORDINAL) for d in (days[0], days[-1]))
            raise CalendarError(f"no NSE trading day left between {first} and {last}")


@lru_cache(maxsize=32)
def _minutes_before_close(clock: str) -> int:
    minute = clock_minute(clock)
    if not REGULAR_OPEN_MINUTE < minute <= REGULAR_CLOSE_MINUTE:
        raise ValueError(f"{clock} is outside the regular session 09:15-15:30 IST")
    return REGULAR_CLOSE_MINUTE - minute


_Blackouts = tuple[tuple[int, int, Event], ...]  # (start_ns, end_ns, event), latest end first


def _index_blackouts(
    events: Iterable[Event],
) -> tuple[dict[int, _Blackouts], dict[tuple[int, str], _Blackouts]]:
    """Per IST day (and symbol), the events whose window touches that day, latest end first."""
    everyone: dict[int, list[Event]] = {}
    by_symbol: dict[tuple[int, str], list[Event]] = {}
    for event in events:
        for day in range(
            ist_day_minute(event.start_ns)[0], ist_day_minute(event.end_ns - 1)[0] + 1
        ):
            if event.symbol is None:
                everyone.setdefault(day, []).append(event)
            else:
                by_symbol.setdefault((day, event.symbol), []).append(event)

    def latest_first(found: list[Event]) -> _Blackouts:
        windows = sorted(((e.start_ns, e.end_ns, e) for e in found), key=lambda w: -w[1])
        return tuple(windows)

    return (
        {day: latest_first(found) for day, found in everyone.items()},
        {key: latest_first(found) for key, found in by_symbol.items()},
    )


# --- the override file -------------------------------------------------------------------

_SECTIONS = {
    "holiday": frozenset({"date", "name"}),
    "session": frozenset({"date", "name", "open", "close"}),
    "event": frozenset({"name", "kind", "at", "before_min", "after_min", "symbol"}),
}


def load_overrides(path: Path) -> Overrides:
    """Read the local TOML override file ([[holiday]], [[session]], [[event]] tables).
    Anything odd is refused with the file name and entry: a silently skipped holiday would
    send orders into a closed market."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"{path}: cannot read override file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise CalendarError(f"{path}: unknown section(s) {unknown}; expected {sorted(_SECTIONS)}")
    days = [_holiday(t) for t in _tables(path, raw, "holiday")]
    days += [_special_session(t) for t in _tables(path, raw, "session")]
    seen: dict[date, str] = {}
    for entry in days:
        if entry.day in seen:
            raise CalendarError(f"{path}: {entry.day} is listed twice ({seen[entry.day]!r})")
        seen[entry.day] = entry.name
    return Overrides(tuple(days), tuple(_event(t) for t in _tables(path, raw, "event")))


class _Table:
    """One [[section]] entry, with errors that say which file, section and entry."""

    def __init__(self, raw: Mapping[str, Any], where: str, allowed: frozenset[str]) -> None:
        self.raw, self.where = raw, where
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {unknown}; allowed {sorted(allowed)}")

    def fail(self, key: str, problem: str) -> CalendarError:
        return CalendarError(f"{self.where}: '{key}' {problem}, got {self.raw.get(key)!r}")

    def get(self, key: str, kind: type | tuple[type, ...], problem: str) -> Any:
        if key not in self.raw:
            raise CalendarError(f"{self.where}: '{key}' is missing")
        value = self.raw[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self.fail(key, problem)
        return value

    def text(self, key: str) -> str:
        value: str = self.get(key, str, "must be a string").strip()
        if not value:
            raise self.fail(key, "must not be empty")
        return value

    def day(self, key: str) -> date:
        value = self.get(key, date, "must be a TOML date like 2026-01-26 (no quotes)")
        if isinstance(value, datetime):
            raise self.fail(key, "must be a date without a time")
        return value  # type: ignore[no-any-return]

    def minute(self, key: str) -> int:
        try:
            return clock_minute(self.get(key, str, 'must be an IST clock time like "18:15"'))
        except ValueError:
            raise self.fail(key, 'must be an IST clock time like "18:15"') from None

    def moment(self, key: str) -> int:
        problem = "must be a TOML date-time with offset like 2026-02-06T10:00:00+05:30"
        moment: datetime = self.get(key, datetime, problem)
        if moment.utcoffset() is None:
            raise self.fail(key, problem)
        return from_datetime(moment)

    def minutes(self, key: str) -> int:
        value: int = self.get(key, int, "must be a whole number of minutes")
        if value < 0:
            raise self.fail(key, "must not be negative")
        return value


def _tables(path: Path, raw: Mapping[str, Any], section: str) -> list[_Table]:
    entries = raw.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarError(f"{path}: '{section}' must be an array of tables: [[{section}]]")
    return [
        _Table(entry, f"{path}: [[{section}]] entry {i}", _SECTIONS[section])
        for i, entry in enumerate(entries, start=1)
    ]


def _holiday(table: _Table) -> MarketDay:
    return MarketDay(table.day("date"), table.text("name"))


def _special_session(table: _Table) -> MarketDay:
    day, opens, closes = table.day("date"), table.minute("open"), table.minute("close")
    if opens >= closes:
        raise table.fail("close", "must be after 'open' (sessions do not cross midnight)")
    number = day_number(day)
    return MarketDay(day, table.text("name"), ist_ns(number, opens), ist_ns(number, closes))


def _event(table: _Table) -> Event:
    kind = table.text("kind")
    if kind not in EventKind.__members__:
        raise table.fail("kind", f"must be one of {list(EventKind.__members__)}")
    return Event(
        name=table.text("name"),
        kind=EventKind(kind),
        at_ns=table.moment("at"),
        before_min=table.minutes("before_min"),
        after_min=table.minutes("after_min"),
        symbol=table.text("symbol") if "symbol" in table.raw else None,
    )
