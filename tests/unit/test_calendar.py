from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from quantdesk.domain.time import NS_PER_MINUTE, NS_PER_S, from_datetime
from quantdesk.risk.calendar import ExchangeDays, TradingCalendar
from quantdesk.risk.calendar_file import load_overrides
from quantdesk.risk.holiday_refresh import load_stored
from quantdesk.risk.market_days import CalendarError, Event, EventKind, MarketDay, day_number

FIXTURES = Path(__file__).parents[1] / "fixtures" / "calendar"
OVERRIDES = FIXTURES / "overrides.toml"
STORED = FIXTURES / "stored_holidays.json"
KOLKATA = ZoneInfo("Asia/Kolkata")


def ist(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> int:
    return from_datetime(datetime(year, month, day, hour, minute, second, tzinfo=KOLKATA))


def utc_seconds(text: str) -> int:
    """Epoch ns of a UTC wall time, computed without any IST arithmetic."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * NS_PER_S


@pytest.fixture
def calendar() -> TradingCalendar:
    """Mon–Fri base (no exchange-calendars data), the broker's stored list, the override file:
    every fact the tests see comes from the fixtures."""
    overrides = load_overrides(OVERRIDES)
    return TradingCalendar(None, load_stored(STORED), overrides.days, overrides.events)


# --- trading days --------------------------------------------------------------------------


def test_weekday_holiday_from_the_broker_list_closes_the_day(calendar: TradingCalendar) -> None:
    republic_day = date(2026, 1, 26)  # a Monday
    assert not calendar.is_trading_day(republic_day)
    assert calendar.holiday_name(republic_day) == "Republic Day"
    assert calendar.session_on(republic_day) is None
    assert calendar.session_of(ist(2026, 1, 26, 11, 0)) is None
    assert not calendar.is_open(ist(2026, 1, 26, 11, 0))


def test_late_override_holiday_closes_a_day_the_other_sources_trade(
    calendar: TradingCalendar,
) -> None:
    election_day = date(2026, 1, 15)  # a Thursday
    assert TradingCalendar(None, load_stored(STORED)).is_trading_day(election_day)
    assert not calendar.is_trading_day(election_day)
    assert calendar.holiday_name(election_day) == "Municipal corporation elections (Maharashtra)"
    assert not calendar.is_open(ist(2026, 1, 15, 10, 0))


def test_weekends_do_not_trade_and_are_not_holidays(calendar: TradingCalendar) -> None:
    for weekend in (date(2026, 1, 17), date(2026, 1, 18)):
        assert not calendar.is_trading_day(weekend)
        assert calendar.holiday_name(weekend) is None
    assert calendar.session_of(ist(2026, 1, 17, 11, 0)) is None
    assert calendar.is_trading_day(date(2026, 1, 19))
    assert calendar.holiday_name(date(2026, 1, 19)) is None


def test_regular_session_is_0915_to_1530_ist_open_inclusive_close_exclusive(
    calendar: TradingCalendar,
) -> None:
    session = calendar.session_on(date(2026, 1, 16))
    assert session is not None
    assert session.open_ns == utc_seconds("2026-01-16T03:45:00") == 1_768_535_100 * NS_PER_S
    assert session.close_ns == utc_seconds("2026-01-16T10:00:00") == 1_768_557_600 * NS_PER_S
    assert session.special is None
    assert calendar.session_of(session.open_ns) == session
    assert calendar.session_of(session.open_ns - 1) is None
    assert calendar.session_of(session.close_ns - 1) == session
    assert calendar.session_of(session.close_ns) is None


def test_muhurat_session_trades_on_a_holiday_with_the_override_hours(
    calendar: TradingCalendar,
) -> None:
    # The stored broker list says 18:15-19:15; the override file (13:45-14:45) wins.
    muhurat = calendar.session_on(date(2025, 10, 21))
    assert muhurat is not None
    assert muhurat.special == "Diwali Muhurat trading"
    assert muhurat.open_ns == utc_seconds("2025-10-21T08:15:00")
    assert muhurat.close_ns == utc_seconds("2025-10-21T09:15:00")
    assert calendar.is_trading_day(date(2025, 10, 21))
    assert calendar.holiday_name(date(2025, 10, 21)) is None
    assert not calendar.is_open(ist(2025, 10, 21, 10, 0))
    assert calendar.is_open(ist(2025, 10, 21, 13, 45))
    assert calendar.is_open(ist(2025, 10, 21, 14, 44, 59))
    assert not calendar.is_open(ist(2025, 10, 21, 14, 45))
    assert not calendar.is_open(ist(2025, 10, 21, 18, 30))


def test_special_session_on_a_sunday_trades_and_is_named(tmp_path: Path) -> None:
    override = tmp_path / "budget.toml"
    override.write_text(
        '[[session]]\ndate = 2026-02-01\nname = "Union Budget"\nopen = "09:15"\nclose = "15:30"\n'
    )
    calendar = TradingCalendar(None, overrides=load_overrides(override).days)
    session = calendar.session_on(date(2026, 2, 1))
    assert session is not None and session.special == "Union Budget"
    assert calendar.is_open(ist(2026, 2, 1, 12, 0))


def test_regular_hours_listed_on_a_normal_weekday_stay_a_plain_session() -> None:
    new_year = MarketDay(
        date(2026, 1, 1), "New Year Day", ist(2026, 1, 1, 9, 15), ist(2026, 1, 1, 15, 30)
    )
    session = TradingCalendar(None, [new_year]).session_on(date(2026, 1, 1))
    assert session is not None and session.special is None


def test_repeated_lookups_reuse_the_cached_session(calendar: TradingCalendar) -> None:
    first = calendar.session_of(ist(2026, 1, 16, 10, 0))
    assert first is not None
    assert calendar.session_of(ist(2026, 1, 16, 14, 0)) is first


# --- entry cut-off and square-off ------------------------------------------------------------


def test_entry_window_and_square_off_convert_ist_to_utc_ns(calendar: TradingCalendar) -> None:
    day = date(2026, 1, 16)
    assert calendar.entry_window(day) == (
        utc_seconds("2026-01-16T03:45:00"),
        utc_seconds("2026-01-16T09:40:00"),  # 15:10 IST
    )
    assert calendar.square_off_ts(day) == utc_seconds("2026-01-16T09:55:00")  # 15:25 IST
    assert calendar.square_off_ts(day) == 1_768_557_300 * NS_PER_S
    assert calendar.entry_window(day, cutoff="14:30") == (
        ist(2026, 1, 16, 9, 15),
        ist(2026, 1, 16, 14, 30),
    )
    assert calendar.square_off_ts(day, at="15:20") == ist(2026, 1, 16, 15, 20)


def test_no_entry_window_or_square_off_on_closed_days(calendar: TradingCalendar) -> None:
    for closed in (date(2026, 1, 26), date(2026, 1, 15), date(2026, 1, 17)):
        assert calendar.entry_window(closed) is None
        assert calendar.square_off_ts(closed) is None


def test_special_session_keeps_the_distance_from_its_close(calendar: TradingCalendar) -> None:
    muhurat = date(2025, 10, 21)  # 13:45-14:45 IST
    assert calendar.entry_window(muhurat) == (ist(2025, 10, 21, 13, 45), ist(2025, 10, 21, 14, 25))
    assert calendar.square_off_ts(muhurat) == ist(2025, 10, 21, 14, 40)


def test_session_too_short_for_the_cutoff_has_no_entry_window() -> None:
    drill = MarketDay(date(2026, 3, 7), "DR drill", ist(2026, 3, 7, 11, 0), ist(2026, 3, 7, 11, 15))
    calendar = TradingCalendar(None, [drill])
    assert calendar.entry_window(drill.day) is None
    assert calendar.square_off_ts(drill.day) == ist(2026, 3, 7, 11, 10)
    assert calendar.square_off_ts(drill.day, at="09:30") == ist(2026, 3, 7, 11, 0)


@pytest.mark.parametrize("clock", ["15:45", "09:15", "08:00", "3pm", "15:1", "25:00"])
def test_cutoff_outside_the_regular_session_or_garbled_is_refused(
    calendar: TradingCalendar, clock: str
) -> None:
    with pytest.raises(ValueError, match=clock):
        calendar.entry_window(date(2026, 1, 16), cutoff=clock)


# --- news blackouts --------------------------------------------------------------------------


def test_global_event_blacks_out_every_symbol_inside_its_window(calendar: TradingCalendar) -> None:
    inside = ist(2026, 2, 6, 10, 45)
    for symbol in ("RELIANCE", "INFY", None):
        event = calendar.blackout_at(inside, symbol)
        assert event is not None and event.kind is EventKind.RBI_POLICY
    assert calendar.blackout_at(ist(2026, 2, 6, 9, 30), "INFY") is not None  # start inclusive
    assert calendar.blackout_at(ist(2026, 2, 6, 9, 30) - 1, "INFY") is None
    assert calendar.blackout_at(ist(2026, 2, 6, 11, 0), "INFY") is None  # end exclusive


def test_results_black_out_only_their_own_symbol(calendar: TradingCalendar) -> None:
    noon = ist(2026, 1, 19, 12, 0)
    event = calendar.blackout_at(noon, "RELIANCE")
    assert event is not None
    assert (event.kind, event.symbol, event.name) == (
        EventKind.RESULTS,
        "RELIANCE",
        "RELIANCE Q3 results",
    )
    assert calendar.blackout_at(noon, "TCS") is None
    assert calendar.blackout_at(noon) is None
    assert calendar.blackout_at(ist(2026, 1, 19, 10, 59), "RELIANCE") is None
    assert calendar.blackout_at(ist(2026, 1, 19, 13, 59), "RELIANCE") is not None


def test_overlapping_blackouts_report_the_one_ending_last(calendar: TradingCalendar) -> None:
    both = ist(2026, 2, 6, 10, 15)  # RBI until 11:00, TCS results until 12:30
    tcs = calendar.blackout_at(both, "TCS")
    assert tcs is not None and tcs.name == "TCS Q3 results"
    assert tcs.end_ns == ist(2026, 2, 6, 12, 30)
    rbi = calendar.blackout_at(both, "INFY")
    assert rbi is not None and rbi.kind is EventKind.RBI_POLICY


def test_expiry_and_after_hours_cpi_windows(calendar: TradingCalendar) -> None:
    expiry = calendar.blackout_at(ist(2026, 1, 27, 15, 0), "NIFTY")
    assert expiry is not None and expiry.kind is EventKind.FNO_EXPIRY
    assert calendar.blackout_at(ist(2026, 1, 27, 14, 44), "NIFTY") is None
    assert calendar.blackout_at(ist(2026, 2, 12, 16, 15)) is not None
    assert calendar.blackout_at(ist(2026, 2, 12, 15, 0)) is None


def test_blackout_spanning_midnight_covers_the_previous_session() -> None:
    results = Event(
        "HDFCBANK Q3 results", EventKind.RESULTS, ist(2026, 1, 20, 9, 0), 1440, 30, "HDFCBANK"
    )
    calendar = TradingCalendar(None, events=[results])
    assert calendar.blackout_at(ist(2026, 1, 19, 9, 0), "HDFCBANK") is results
    assert calendar.blackout_at(ist(2026, 1, 19, 8, 59), "HDFCBANK") is None
    assert calendar.blackout_at(ist(2026, 1, 20, 9, 29), "HDFCBANK") is results
    assert calendar.blackout_at(ist(2026, 1, 20, 9, 30), "HDFCBANK") is None


def test_event_window_bounds_are_exact_minutes() -> None:
    event = Event("RBI", EventKind.RBI_POLICY, ist(2026, 2, 6, 10, 0), 30, 60)
    assert event.start_ns == ist(2026, 2, 6, 10, 0) - 30 * NS_PER_MINUTE
    assert event.end_ns == ist(2026, 2, 6, 11, 0)


# --- exchange-calendars and the empty-calendar guard ---------------------------------------


def test_xbom_days_close_exchange_holidays_and_overrides_reopen_muhurat() -> None:
    bare = TradingCalendar.build(first=date(2025, 1, 1), last=date(2026, 12, 31))
    assert not bare.is_trading_day(date(2026, 1, 26))
    assert bare.holiday_name(date(2026, 1, 26)) == "NSE holiday"
    assert not bare.is_trading_day(date(2025, 10, 21))
    assert bare.is_trading_day(date(2026, 1, 16))
    assert bare.is_trading_day(date(2030, 1, 7))  # beyond the XBOM range: Mon–Fri

    full = TradingCalendar.build(
        first=date(2025, 1, 1),
        last=date(2026, 12, 31),
        override_file=OVERRIDES,
        announced=load_stored(STORED),
    )
    assert full.holiday_name(date(2026, 1, 26)) == "Republic Day"
    assert full.is_open(ist(2025, 10, 21, 14, 0))
    assert full.blackout_at(ist(2026, 2, 6, 10, 0), "INFY") is not None


def test_a_closure_only_the_exchange_knows_is_an_unnamed_nse_holiday() -> None:
    week = [date(2026, 3, d) for d in (2, 4, 5, 6)]  # Tuesday 3 March (Holi) missing
    exchange = ExchangeDays(
        day_number(date(2026, 3, 2)), day_number(date(2026, 3, 8)), frozenset(map(day_number, week))
    )
    calendar = TradingCalendar(exchange)
    assert not calendar.is_trading_day(date(2026, 3, 3))
    assert calendar.holiday_name(date(2026, 3, 3)) == "NSE holiday"
    assert calendar.is_trading_day(date(2026, 3, 9))  # outside the exchange range


def test_a_calendar_with_no_trading_day_left_is_refused() -> None:
    days = [date(2026, 3, 2), date(2026, 3, 3)]
    exchange = ExchangeDays(
        day_number(days[0]), day_number(days[1]), frozenset(map(day_number, days))
    )
    closures = [MarketDay(day, "Closed") for day in days]
    with pytest.raises(
        CalendarError, match="no NSE trading day left between 2026-03-02 and 2026-03-03"
    ):
        TradingCalendar(exchange, closures)


# --- malformed override files --------------------------------------------------------------

MALFORMED = [
    ("[[holiday]\ndate = 2026-01-15\n", "not valid TOML"),
    ('[[holidays]]\ndate = 2026-01-15\nname = "x"\n', "unknown section(s) ['holidays']"),
    ("[[holiday]]\ndate = 2026-01-15\n", "[[holiday]] entry 1: 'name' is missing"),
    ('[[holiday]]\ndate = "2026-01-15"\nname = "x"\n', "'date' must be a TOML date"),
    (
        '[[holiday]]\ndate = 2026-01-15T00:00:00\nname = "x"\n',
        "'date' must be a date without a time",
    ),
    ('[[holiday]]\ndate = 2026-01-15\nname = "  "\n', "'name' must not be empty"),
    ('[holiday]\ndate = 2026-01-15\nname = "x"\n', "must be an array of tables"),
    (
        '[[session]]\ndate = 2025-10-21\nname = "M"\nopen = "18:15"\nclose = "18:00"\n',
        "'close' must be after 'open'",
    ),
    (
        '[[session]]\ndate = 2025-10-21\nname = "M"\nopen = "6pm"\nclose = "19:15"\n',
        "'open' must be an IST clock time",
    ),
    (
        '[[event]]\nname = "RBI"\nkind = "RBI_POLICY"\nat = 2026-02-06T10:00:00\n'
        "before_min = 30\nafter_min = 60\n",
        "'at' must be a TOML date-time with offset",
    ),
    (
        '[[event]]\nname = "GDP"\nkind = "GDP"\nat = 2026-02-27T17:30:00+05:30\n'
        "before_min = 30\nafter_min = 60\n",
        "'kind' must be one of",
    ),
    (
        '[[event]]\nname = "CPI"\nkind = "CPI"\nat = 2026-02-12T16:00:00+05:30\n'
        "before_min = -5\nafter_min = 60\n",
        "'before_min' must not be negative",
    ),
    (
        '[[event]]\nname = "CPI"\nkind = "CPI"\nat = 2026-02-12T16:00:00+05:30\n'
        'before_min = "30"\nafter_min = 60\n',
        "'before_min' must be a whole number",
    ),
    (
        '[[event]]\nname = "R"\nkind = "RESULTS"\nsymbols = "TCS"\nat = 2026-02-06T10:30:00+05:30\n'
        "before_min = 60\nafter_min = 60\n",
        "unknown key(s) ['symbols']",
    ),
    (
        '[[holiday]]\ndate = 2025-10-21\nname = "Diwali"\n\n'
        '[[session]]\ndate = 2025-10-21\nname = "Muhurat"\nopen = "18:15"\nclose = "19:15"\n',
        "2025-10-21 is listed twice",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), MALFORMED)
def test_malformed_override_file_names_the_file_and_the_fault(
    tmp_path: Path, text: str, fragment: str
) -> None:
    broken = tmp_path / "nse_overrides.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_overrides(broken)
    message = str(caught.value)
    assert str(broken) in message
    assert fragment in message


def test_missing_override_file_is_an_error_not_an_empty_override(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read override file"):
        TradingCalendar.build(
            first=date(2026, 1, 1), last=date(2026, 1, 31), override_file=tmp_path / "nope.toml"
        )


def test_the_override_fixture_parses_completely() -> None:
    overrides = load_overrides(OVERRIDES)
    assert [day.day for day in overrides.days] == [date(2026, 1, 15), date(2025, 10, 21)]
    assert {event.kind for event in overrides.events} == set(EventKind)
    assert [e.symbol for e in overrides.events if e.kind is EventKind.RESULTS] == [
        "RELIANCE",
        "TCS",
    ]
