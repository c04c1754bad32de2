"""NSE trading calendar: which days trade, at what hours, and when news blacks out entries.

The risk gate asks once per entry, so every query is integer arithmetic on epoch nanoseconds
over per-day dicts; datetimes and parsing happen once, while the calendar is built.

Three layers, each later one winning: exchange-calendars' XBOM days (BSE and NSE close on the
same holidays), the broker's announced list kept by the daily refresh, and a local override
file for what neither knew in time (a holiday announced the week before, a Muhurat session).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from quantdesk.domain.time import (
    IST_OFFSET_NS,
    NS_PER_DAY,
    NS_PER_MINUTE,
    is_weekday,
    ist_day_minute,
)
from quantdesk.risk.calendar_file import load_overrides
from quantdesk.risk.market_days import (
    REGULAR_CLOSE_MINUTE,
    REGULAR_OPEN_MINUTE,
    CalendarError,
    Event,
    MarketDay,
    Overrides,
    Session,
    clock_minute,
    day_number,
    ist_ns,
)

log = logging.getLogger(__name__)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


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
    """XBOM sessions in [first, last] clipped to the years the package records holidays for
    (it ends each December until its next release), or None when it cannot give any; days
    outside fall back to Mon–Fri plus the announced lists rather than going empty.
    Imported here, not at module level: pandas costs a second the risk gate need not pay."""
    try:
        import exchange_calendars  # type: ignore[import-untyped]

        with warnings.catch_warnings():  # pandas deprecations inside the package are not ours
            warnings.simplefilter("ignore")
            xbom = exchange_calendars.get_calendar("XBOM")
            low = max(first, xbom.first_session.date())
            high = min(last, xbom.last_session.date())
            stamps = (
                xbom.sessions_in_range(low.isoformat(), high.isoformat()) if low <= high else ()
            )
        days = frozenset(day_number(stamp.date()) for stamp in stamps)
    except Exception as exc:  # any failure of a third-party calendar must degrade, not crash
        log.warning("exchange-calendars XBOM unavailable (%s); using Mon-Fri", exc)
        return None
    if not days:
        log.warning("exchange-calendars XBOM has no session %s..%s; using Mon-Fri", first, last)
        return None
    if high < last:
        log.warning(
            "exchange-calendars knows NSE holidays only through %s; later days use Mon-Fri "
            "plus the broker's holiday list and the override file",
            high,
        )
    return ExchangeDays(day_number(low), day_number(high), days)


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
