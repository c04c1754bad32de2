"""Breakers trip into a pause with a RiskEvent and recover only by their own criterion."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode, Severity
from quantdesk.risk.controls import RiskControls, TradingState
from quantdesk.risk.gate import OpenRisk
from quantdesk.risk.live_gate import ModeSwitch, confirmation_phrase
from quantdesk.risk.summary import banner_colour, summarise

D = Decimal
S = 10**9
T0 = 1_764_000_000 * S  # 2025-11-24 16:00 UTC (21:30 IST)


def controls(**limits: object) -> tuple[RiskControls, list[tuple[str, Severity, str]]]:
    events: list[tuple[str, Severity, str]] = []
    return RiskControls(RiskLimits(**limits), emit=lambda *e: events.append(e)), events


def codes(events: list[tuple[str, Severity, str]]) -> list[str]:
    return [code for code, _, _ in events]


def test_rejections_within_the_window_trip_and_need_an_operator() -> None:
    risk, events = controls(max_rejections=3, rejection_window_min=10)
    risk.on_rejection(T0)
    risk.on_rejection(T0 + 11 * 60 * S)  # the first one fell out of the window
    risk.on_rejection(T0 + 12 * 60 * S)
    assert risk.trading_state is TradingState.ACTIVE
    risk.on_rejection(T0 + 13 * 60 * S)
    assert risk.trading_state is TradingState.REDUCING
    assert codes(events) == ["BREAKER_REJECTIONS", "TRADING_REDUCING"]
    assert events[0][1] is Severity.CRITICAL
    assert risk.paused == ("breaker:rejections",)
    assert risk.resume(T0 + 14 * 60 * S) == ()
    assert risk.trading_state is TradingState.ACTIVE


def test_consecutive_failures_trip_and_a_success_resets_the_streak() -> None:
    risk, _ = controls(max_consecutive_failures=3)
    risk.on_execution(T0, failed=True)
    risk.on_execution(T0, failed=True)
    risk.on_execution(T0, failed=False)
    risk.on_execution(T0, failed=True)
    risk.on_execution(T0, failed=True)
    assert not risk.paused
    risk.on_execution(T0, failed=True)
    assert risk.paused == ("breaker:execution_failures",)


def test_equity_floor_and_intraday_drawdown() -> None:
    risk, _ = controls(capital=D(100_000), equity_floor_pct=D(90), intraday_drawdown_pct=D(3))
    risk.on_equity(T0, D(104_000))
    risk.on_equity(T0 + S, D(101_000))  # 2.88% below the day's peak
    assert not risk.paused
    risk.on_equity(T0 + 2 * S, D(100_870))  # 3.01%
    assert risk.paused == ("breaker:equity",)

    floor, _ = controls(capital=D(100_000), equity_floor_pct=D(90), intraday_drawdown_pct=D(50))
    floor.on_equity(T0, D(89_999))
    assert floor.equity.reason.startswith("equity 89999 below the floor")


def test_data_health_trips_on_silence_and_recovers_after_a_quiet_period_by_itself() -> None:
    risk, events = controls(feed_stale_s=30, feed_quiet_s=60)
    risk.on_market_data(T0)
    risk.check_feed(T0 + 29 * S)
    assert not risk.paused
    risk.check_feed(T0 + 31 * S)
    assert risk.paused == ("breaker:data_health",)
    assert risk.resume(T0 + 32 * S) == ("breaker:data_health",)  # an operator cannot skip it
    risk.on_market_data(T0 + 40 * S)  # data is back: the quiet period starts
    risk.on_market_data(T0 + 70 * S)
    assert risk.paused
    risk.on_market_data(T0 + 100 * S)
    assert not risk.paused
    assert "BREAKER_RECOVERED" in codes(events)


def test_day_counters_roll_at_ist_midnight() -> None:
    risk, _ = controls()
    risk.on_entry(T0)  # 21:30 IST
    risk.on_trade_closed(T0, D(-500))
    assert (risk.trades_today, risk.realised_today) == (1, D(-500))
    risk.on_entry(T0 + 3 * 3600 * S)  # 00:30 IST the next day
    assert (risk.trades_today, risk.realised_today) == (1, D(0))


def test_kill_switch_halts_and_resume_alone_does_not_release_it() -> None:
    risk, _ = controls()
    assert risk.engage_kill_switch("test")
    assert not risk.engage_kill_switch("again")
    assert risk.trading_state is TradingState.HALTED
    assert risk.resume(T0) == ("kill_switch",)
    risk.release_kill_switch()
    assert risk.trading_state is TradingState.ACTIVE


def test_banner_colour_thresholds_and_summary() -> None:
    assert [banner_colour(D(p)) for p in ("49.99", "50", "74.99", "75")] == [
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    risk, _ = controls(heat_cap=D(20_000))
    state = risk.snapshot({"INFY": OpenRisk(D(10), D(15_000), D(0))}, D(-200), {})
    summary = summarise(risk, state)
    assert (summary.heat, summary.heat_pct, summary.risk_banner_color) == (
        D(15_000),
        D("75.00"),
        "red",
    )
    assert summary.daily_pnl == D(-200) and summary.open_trades == 1


def test_live_gate_refusals_grant_and_process_only_lifetime() -> None:
    audit: list[tuple[str, dict[str, str]]] = []
    switch = ModeSwitch(Mode.LIVE, lambda a, p: audit.append((a, p)))
    assert switch.mode is Mode.PAPER  # a restart never comes back LIVE
    today = date(2026, 11, 25)
    good = {"configured_key": "k" * 32, "given_key": "k" * 32, "session_day": today}

    refused = switch.request_live(safe_mode=True, phrase=confirmation_phrase(today), **good)
    assert not refused.granted and "SAFE_MODE" in refused.reasons[0]
    wrong_key = {**good, "given_key": "x" * 32}
    assert not switch.request_live(
        safe_mode=False, phrase="GO LIVE 2026-11-25", **wrong_key
    ).granted
    stale = switch.request_live(safe_mode=False, phrase="GO LIVE 2026-11-24", **good)
    assert not stale.granted and "confirmation" in stale.reasons[0]
    assert switch.mode is Mode.PAPER

    granted = switch.request_live(safe_mode=False, phrase="GO LIVE 2026-11-25", **good)
    assert granted.granted and switch.mode is Mode.LIVE
    assert [a for a, _ in audit] == ["mode.live_refused"] * 3 + ["mode.live_granted"]
    assert all("k" * 32 not in str(p) for _, p in audit)  # the key is never audited
