"""Data-quality checks: each defect planted in otherwise clean bars is found with its kind
and bar time; clean bars give no finding and are not quarantined."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from rich.console import Console

from quantdesk.data.checks import (
    CheckConfig,
    Kind,
    Timeframe,
    check_order,
    robust_z,
    run_checks,
)
from quantdesk.data.quality_report import QuarantineRule, build_report, render_report
from quantdesk.domain.enums import Severity
from quantdesk.domain.market import Bar
from quantdesk.domain.time import IST, NS_PER_DAY, from_datetime, ist_date
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.market_days import MarketDay

D = Decimal
TICK = D("0.05")
HOLIDAY = date(2026, 1, 15)  # a Thursday
MON, TUE, WED, FRI = date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 14), date(2026, 1, 16)
CALENDAR = TradingCalendar(None, announced=[MarketDay(HOLIDAY, "Municipal elections")])
DAILY = Timeframe.DAY


def ist(day: date, hour: int, minute: int) -> int:
    return from_datetime(datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST))


Number = str | int | Decimal


def bar(ts: int, o: Number, h: Number, low: Number, c: Number, v: Number = 1000) -> Bar:
    return Bar("TEST", ts, D(o), D(h), D(low), D(c), D(v))


def day_bar(day: date, o: Number, h: Number, low: Number, c: Number, v: Number) -> Bar:
    """Daily bars as Yahoo stamps them: the date at 00:00 UTC (05:30 IST)."""
    ts = from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return Bar("TEST", ts, D(o), D(h), D(low), D(c), D(v), NS_PER_DAY)


def session(day: date, price: str = "1000", seed: int = 1, minutes: int = 375) -> list[Bar]:
    """A realistic 09:15-15:30 session: tick-grid random walk, ~0.05% per minute."""
    rng, last, out = random.Random(seed), D(price), []
    for i in range(minutes):
        close = last + TICK * rng.randint(-10, 10)
        high, low = max(last, close) + TICK * rng.randint(0, 3), min(last, close) - TICK * 2
        out.append(bar(ist(day, 9, 15) + i * 60 * 10**9, last, high, low, close, 500 + i))
        last = close
    return out


def daily(first: date, last: date, price: str = "2000", seed: int = 5) -> list[Bar]:
    """One bar per calendar trading day, ~1% daily moves."""
    rng, level, out, day = random.Random(seed), D(price), [], first
    while day <= last:
        if CALENDAR.is_trading_day(day):
            o = level * (1 + D(rng.randint(-40, 40)) / 10_000)
            c = o * (1 + D(rng.randint(-120, 120)) / 10_000)
            hi, lo = max(o, c) * D("1.004"), min(o, c) * D("0.996")
            out.append(day_bar(day, o, hi, lo, c, 10**6))
            level = c
        day += timedelta(days=1)
    return out


def kinds(bars: list[Bar], timeframe: Timeframe = Timeframe.MINUTE, **config: object):
    result = run_checks(bars, CALENDAR, timeframe, CheckConfig(**config))  # type: ignore[arg-type]
    return [(f.kind, f.ts) for f in result.findings], result


# -- clean data and coverage --------------------------------------------------------------
def test_clean_sessions_have_no_findings_and_are_not_quarantined() -> None:
    bars = session(MON) + session(TUE, price=str(session(MON)[-1].close), seed=2)
    found, result = kinds(bars)
    assert found == []
    assert (result.coverage.expected, result.coverage.present) == (750, 750)
    report = build_report("TEST", bars, CALENDAR)
    assert not report.quarantined and report.reasons == () and report.counts == {}


def test_one_missing_minute_in_a_real_day_is_374_of_375() -> None:
    bars = [b for b in session(MON) if b.ts != ist(MON, 10, 30)]
    found, result = kinds(bars)
    assert found == [(Kind.MISSING_MINUTES, ist(MON, 10, 30))]
    assert (result.coverage.present, result.coverage.expected) == (374, 375)
    assert result.findings[0].count == 1
    report = build_report("TEST", bars, CALENDAR)
    assert report.coverage.fraction == pytest.approx(374 / 375)
    assert not report.quarantined


def test_session_cut_at_1520_is_ten_missing_minutes() -> None:
    bars = [b for b in session(MON) if b.ts < ist(MON, 15, 20)]
    found, result = kinds(bars)
    assert found == [(Kind.MISSING_MINUTES, ist(MON, 15, 20))]
    assert result.findings[0].count == 10


def test_a_trading_day_without_bars_is_a_missing_session_and_quarantines() -> None:
    bars = session(MON) + session(WED, seed=3)
    found, result = kinds(bars)
    assert found == [(Kind.MISSING_SESSION, ist(TUE, 9, 15))]
    assert (result.coverage.present, result.coverage.expected) == (750, 1125)
    assert result.coverage.expected_days == 3 and result.coverage.present_days == 2
    report = build_report("TEST", bars, CALENDAR)
    assert report.quarantined and "coverage 66.67%" in report.reasons[0]


def test_pre_open_and_post_close_bars_are_out_of_session_not_coverage() -> None:
    day = session(MON)
    bars = [bar(ist(MON, 9, 7), "999", "999", "999", "999", 4100), *day]
    bars += [bar(ist(MON, 15, 30), "1000", "1000", "1000", "1000", 3)]
    bars += [bar(ist(MON, 15, 40), "1000", "1000", "1000", "1000", 3)]
    found, result = kinds(bars)
    expected = [ist(MON, 9, 7), ist(MON, 15, 30), ist(MON, 15, 40)]
    assert found == [(Kind.OUT_OF_SESSION, ts) for ts in expected]
    assert {f.severity for f in result.findings} == {Severity.INFO}
    assert result.coverage.present == 375


def test_holiday_placeholder_is_a_non_trading_day_and_not_expected() -> None:
    placeholder = bar(ist(HOLIDAY, 9, 15), "1010", "1010", "1010", "1010", 0)
    bars = [*session(WED, seed=3), placeholder, *session(FRI, seed=4)]
    found, result = kinds(bars)
    assert found == [(Kind.NON_TRADING_DAY, placeholder.ts)]
    assert result.findings[0].severity is Severity.INFO
    assert (result.coverage.expected, result.coverage.expected_days) == (750, 2)


def test_priced_bars_on_a_weekend_are_a_warning() -> None:
    saturday = date(2026, 1, 17)
    bars = session(FRI) + session(saturday, minutes=60)
    found, result = kinds(bars)
    assert found == [(Kind.NON_TRADING_DAY, ist(saturday, 9, 15))]
    assert result.findings[0].severity is Severity.WARNING and result.findings[0].count == 60


def test_a_special_session_is_judged_on_its_own_hours() -> None:
    muhurat = date(2025, 10, 21)
    special = MarketDay(muhurat, "Muhurat", ist(muhurat, 13, 45), ist(muhurat, 14, 45))
    calendar = TradingCalendar(None, announced=[special])
    bars = [b._replace(ts=b.ts + (ist(muhurat, 13, 45) - ist(MON, 9, 15))) for b in session(MON)]
    result = run_checks(bars[:60], calendar)
    assert result.findings == () and result.coverage.expected == 60
    late = run_checks(bars[:61], calendar)
    assert [(f.kind, f.ts) for f in late.findings] == [(Kind.OUT_OF_SESSION, ist(muhurat, 14, 45))]


# -- order, duplicates, OHLC, placeholders ------------------------------------------------
def test_identical_and_conflicting_duplicates() -> None:
    bars = session(MON)
    copy, other = bars[100], bars[200]._replace(close=bars[200].close + TICK)
    other = other._replace(high=max(other.high, other.close))
    found, result = kinds([*bars[:101], copy, *bars[101:201], other, *bars[201:]])
    assert found == [(Kind.DUPLICATE, copy.ts), (Kind.CONFLICTING_DUPLICATE, other.ts)]
    assert [f.severity for f in result.findings] == [Severity.WARNING, Severity.CRITICAL]
    report = build_report("TEST", [*bars, other], CALENDAR)
    assert report.quarantined and report.reasons == ("1 CONFLICTING_DUPLICATE",)


def test_out_of_order_bar_is_found_and_the_rest_are_sorted() -> None:
    bars = session(MON)
    swapped = [*bars[:50], bars[51], bars[50], *bars[52:]]
    found, result = kinds(swapped)
    assert found == [(Kind.OUT_OF_ORDER, bars[50].ts)]
    assert result.coverage.present == 375
    assert check_order(swapped)[1] == bars


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (("1000", "999", "998", "1000"), "open 1000 above high 999"),
        (("1000", "1001", "1000.5", "1000.2"), "close 1000.2 below low 1000.5"),
        (("1000", "999", "1001", "1000"), "low 1001 above high 999"),
        (("0", "1001", "0", "1000"), "open 0 is not positive"),
    ],
)
def test_ohlc_violations_are_critical(values: tuple[str, ...], problem: str) -> None:
    bars = session(MON)
    bad = bar(bars[10].ts, *values)
    found, result = kinds([*bars[:10], bad, *bars[11:]])
    assert (Kind.OHLC_VIOLATION, bad.ts) in found
    [violation] = [f for f in result.findings if f.kind is Kind.OHLC_VIOLATION]
    assert violation.severity is Severity.CRITICAL and problem in violation.message


def test_negative_volume_is_an_ohlc_violation() -> None:
    bars = session(MON)
    bad = bars[5]._replace(volume=D(-1))
    found, _ = kinds([*bars[:5], bad, *bars[6:]])
    assert found == [(Kind.OHLC_VIOLATION, bad.ts)]


def test_placeholder_in_a_session_is_a_warning_and_not_coverage() -> None:
    bars = session(MON)
    flat = bar(bars[100].ts, bars[99].close, bars[99].close, bars[99].close, bars[99].close, 0)
    found, result = kinds([*bars[:100], flat, *bars[101:]])
    assert (Kind.PLACEHOLDER_BAR, flat.ts) in found
    assert result.coverage.present == 374


# -- outliers --------------------------------------------------------------------------
def test_a_spike_and_its_snap_back_are_one_outlier() -> None:
    bars = session(MON)
    spike = bars[200]._replace(close=bars[200].close * D("1.03"), high=bars[200].close * D("1.03"))
    found, result = kinds([*bars[:200], spike, *bars[201:]])
    assert found == [(Kind.OUTLIER, spike.ts)]
    assert result.findings[0].value is not None and result.findings[0].value > 8
    assert not kinds([*bars[:200], spike, *bars[201:]], z_threshold=1e6)[0]


def test_overnight_gap_is_scored_apart_with_a_wider_threshold() -> None:
    mon = session(MON)
    normal = session(TUE, price=str(mon[-1].close * D("1.02")), seed=2)
    assert kinds(mon + normal)[0] == []  # a 2% gap is ~60 intraday sigmas: news, not error
    wild = session(TUE, price=str(mon[-1].close * D("1.15")), seed=2)
    found, result = kinds(mon + wild)
    assert found == [(Kind.GAP_OUTLIER, ist(TUE, 9, 15))]
    assert result.findings[0].value is not None and result.findings[0].value > 150


def test_outliers_beyond_half_a_percent_of_returns_quarantine() -> None:
    bars = session(MON)
    for i in (50, 150, 250):
        bars[i] = bars[i]._replace(close=bars[i].close * 2, high=bars[i].close * 2)
    report = build_report("TEST", bars, CALENDAR)
    assert report.counts == {Kind.OUTLIER: 3}
    assert report.quarantined and report.reasons[0].startswith("outliers 3/374")
    assert not build_report("TEST", bars, CALENDAR, rule=QuarantineRule(1.0, 0.01)).quarantined


def test_robust_z_uses_median_and_mad_with_a_fallback_when_mad_is_zero() -> None:
    z = robust_z(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert z is not None and z[-1] == pytest.approx((100 - 3) / 1.4826)
    flat = robust_z(np.array([0.0] * 30 + [0.01]))
    assert flat is not None and flat[-1] > 8
    assert robust_z(np.zeros(10)) is None


# -- corporate actions -----------------------------------------------------------------
def unadjusted(bars: list[Bar], at: int, factor: str) -> list[Bar]:
    k = D(factor)
    return bars[:at] + [
        b._replace(open=b.open * k, high=b.high * k, low=b.low * k, close=b.close * k)
        for b in bars[at:]
    ]


@pytest.mark.parametrize("factor", ["0.5", "0.2", "0.1", "0.4", "2"])
def test_unadjusted_split_or_bonus_is_a_possible_corporate_action(factor: str) -> None:
    bars = unadjusted(daily(date(2026, 1, 1), date(2026, 3, 31)), 40, factor)
    found, result = kinds(bars, DAILY)
    assert found == [(Kind.POSSIBLE_CORPORATE_ACTION, bars[40].ts)]  # and no OUTLIER twice
    [action] = result.findings
    assert action.severity is Severity.CRITICAL and action.value == pytest.approx(float(factor))
    assert build_report("TEST", bars, CALENDAR, DAILY).quarantined


def test_a_known_corporate_action_is_information() -> None:
    bars = unadjusted(daily(date(2026, 1, 1), date(2026, 3, 31)), 40, "0.5")
    config = CheckConfig(known_actions=frozenset({ist_date(bars[40].ts)}))
    report = build_report("TEST", bars, CALENDAR, DAILY, config=config)
    assert report.counts == {Kind.POSSIBLE_CORPORATE_ACTION: 1}
    assert report.worst[0].severity is Severity.INFO and not report.quarantined


def test_a_halved_print_that_reverts_is_an_outlier_not_an_action() -> None:
    bars = daily(date(2026, 1, 1), date(2026, 3, 31))
    bad = unadjusted(bars[40:41], 0, "0.5")
    found, _ = kinds([*bars[:40], *bad, *bars[41:]], DAILY)
    assert found == [(Kind.OUTLIER, bars[40].ts)]


def test_split_inside_minute_data_is_found_at_the_session_open() -> None:
    mon = session(MON)
    tue = unadjusted(session(TUE, price=str(mon[-1].close), seed=2), 0, "0.5")
    found, result = kinds(mon + tue)
    assert found == [(Kind.POSSIBLE_CORPORATE_ACTION, ist(TUE, 9, 15))]
    assert result.findings[0].value == 0.5


# -- daily bars ------------------------------------------------------------------------
def test_daily_missing_session_holiday_placeholder_and_coverage() -> None:
    bars = daily(date(2026, 1, 5), date(2026, 2, 27))
    placeholder = day_bar(HOLIDAY, "2000", "2000", "2000", "2000", 0)
    tuesday = date(2026, 1, 20)
    bars = sorted(
        [b for b in bars if ist_date(b.ts) != tuesday] + [placeholder], key=lambda b: b.ts
    )
    found, result = kinds(bars, DAILY)
    missing = ist(tuesday, 9, 15)  # the session's open stands for the day
    assert found == [(Kind.NON_TRADING_DAY, placeholder.ts), (Kind.MISSING_SESSION, missing)]
    assert "no bar for trading day 2026-01-20" in result.findings[1].message
    assert (result.coverage.present, result.coverage.expected) == (38, 39)
    assert result.coverage.unit == "days"


# -- the report ------------------------------------------------------------------------
def test_report_is_json_and_renders_worst_first() -> None:
    bars = session(MON)
    bad = bars[10]._replace(high=bars[10].low - 1)
    bars = [b for b in bars if b.ts != ist(MON, 11, 0)]
    report = build_report("TEST", [*bars[:10], bad, *bars[11:]], CALENDAR, worst=1)
    document = json.loads(json.dumps(report.to_dict()))
    assert document["quarantined"] is True and document["findings"] == 2
    assert document["counts"] == {"MISSING_MINUTES": 1, "OHLC_VIOLATION": 1}
    assert document["worst"][0]["kind"] == "OHLC_VIOLATION"
    assert document["worst"][0]["time"] == "2026-01-12T09:25:00+05:30"
    assert document["coverage"]["present"] == 374
    console = Console(record=True, width=200)
    console.print(render_report(report))
    text = console.export_text()
    assert "QUARANTINED" in text and "1 OHLC_VIOLATION" in text and "2026-01-12 09:25 IST" in text


def test_no_bars_is_quarantined() -> None:
    report = build_report("EMPTY", [], CALENDAR)
    assert report.quarantined and report.reasons == ("no bars",)
