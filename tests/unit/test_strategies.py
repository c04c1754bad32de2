"""Indicators are exact; the built-in strategies emit what they promise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.domain import Bar, Side
from quantdesk.engine.clock import SimulatedClock
from quantdesk.strategies.indicators import SMA, Crossover
from quantdesk.strategies.registry import StrategyError, build_strategy, parse_params

D = Decimal
M = 60 * 10**9
MONDAY_0915_IST = 1_767_584_700 * 10**9  # 2026-01-05 09:15 IST


def test_sma_is_exact_across_a_change_of_scale() -> None:
    sma = SMA(3)
    assert not sma.update(D("1.1"))
    assert not sma.update(D("2"))
    assert sma.update(D("0.005"))  # a finer price rescales the window exactly
    assert sma.value == D("3.105") / 3
    sma.update(D(4))
    assert sma.value == (D(2) + D("0.005") + D(4)) / 3


def test_crossover_zero_difference_keeps_the_sign() -> None:
    cross = Crossover(2, 3)
    signs = [cross.update(D(v)) for v in (10, 10, 10, 11, 12, 11, 9, 8, 9, 11, 12, 12, 10)]
    # first sign (+, bar 3) is not a cross; down at 6, up at 9, down at 12
    assert signs == [0, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, -1]
    flat = Crossover(2, 4)
    values = [flat.update(D(v)) for v in (5, 5, 6, 6, 6, 6, 6, 5)]
    assert values == [0, 0, 0, 0, 0, 0, 0, -1]  # equal means in between keep "+"


def test_strategy_params_are_typed_and_validated() -> None:
    assert parse_params(["fast=3", " slow = 9 "]) == {"fast": "3", "slow": "9"}
    with pytest.raises(StrategyError, match="expected key=value"):
        parse_params(["fast"])
    with pytest.raises(StrategyError, match="qty"):
        build_strategy("sma_cross", "X", {"qty": "-1"})
    with pytest.raises(StrategyError, match="speed: Extra inputs"):
        build_strategy("sma_cross", "X", {"speed": "1"})


class Recorder:
    """Just enough engine for a strategy: a clock, positions, captured signals."""

    def __init__(self) -> None:
        self.clock = SimulatedClock(0)
        self.signals = []
        self.id_scope = ""

    def now(self) -> int:
        return self.clock.now()

    def position(self, symbol: str) -> Decimal:
        return D(0)

    def submit_signal(self, signal) -> None:
        self.signals.append(signal)

    def exit(self, symbol: str, reason: str) -> None:
        raise AssertionError("no exit expected")

    def set_timer(self, ts, name, strategy) -> None:
        pass


def day_bars(day: int, base: str, breakout: str | None = None) -> list[Bar]:
    """One NSE session: a flat opening range around `base`, then a bar closing at
    `breakout` at 10:00, then flat again."""
    bars = []
    start = MONDAY_0915_IST + day * 86_400 * 10**9
    b = D(base)
    for i in range(60):
        close = b
        high, low = b + D("0.5"), b - D("0.5")
        if breakout is not None and i == 45:
            close = D(breakout)
            high, low = max(high, close), min(low, close)
        bars.append(Bar("X", start + i * M, b, high, low, close, D(100), M))
    return bars


def run_breakout(days: list[list[Bar]]) -> Recorder:
    ctx = Recorder()
    strategy = build_strategy("intraday_breakout", "X", {"daily_lookback": "3"})
    strategy.attach(ctx)  # type: ignore[arg-type]
    strategy.on_start()
    for bar in (b for day in days for b in day):
        ctx.clock.advance_to(bar.end)
        strategy.on_bar(bar)
    return ctx


def test_breakout_long_on_an_up_trend_with_stop_and_two_targets() -> None:
    days = [day_bars(d, str(100 + d)) for d in range(4)]  # rising closes: up trend
    days.append(day_bars(4, "104", breakout="104.8"))
    [signal] = run_breakout(days).signals
    assert signal.side is Side.BUY and signal.entry == D("104.8")
    assert signal.stop_loss == D("103.5")  # the opening range's low
    assert signal.targets == (D("106.1"), D("107.4"))  # 1R and 2R
    assert signal.time_stop_ns is not None and signal.time_stop_ns > 0


def test_breakout_against_the_daily_trend_is_not_taken() -> None:
    days = [day_bars(d, str(110 - d)) for d in range(4)]  # falling closes: down trend
    days.append(day_bars(4, "106", breakout="108"))  # an upside breakout
    assert run_breakout(days).signals == []
    days[-1] = day_bars(4, "106", breakout="105.2")  # a downside breakout agrees
    [signal] = run_breakout(days).signals
    assert signal.side is Side.SELL and signal.stop_loss == D("106.5")
    assert signal.targets == (D("103.9"), D("102.6"))


def test_a_range_too_wide_for_the_risk_cap_is_skipped() -> None:
    days = [day_bars(d, str(100 + d)) for d in range(4)]
    days.append(day_bars(4, "104", breakout="106"))  # stop 2.5 away: 2.4% > 2% cap
    assert run_breakout(days).signals == []


def test_no_trend_no_trade_during_warm_up() -> None:
    days = [day_bars(0, "100"), day_bars(1, "101", breakout="103")]
    assert run_breakout(days).signals == []


def test_engine_refuses_signals_it_cannot_price_or_size() -> None:
    from quantdesk.domain import Signal
    from tests.testkit.desk import scripted_desk

    engine, venue, _ = scripted_desk()
    decisions = []
    engine.bus.subscribe("decision", decisions.append)
    engine.submit_signal(Signal("s", "X", Side.BUY, 1, quantity=D(1)))  # no price known yet
    engine.last_bars["X"] = Bar("X", 0, D(100), D(100), D(100), D(100), D(1))
    engine.submit_signal(Signal("s", "X", Side.BUY, 2))  # no size and no stop
    engine.submit_signal(Signal("s", "X", Side.BUY, 3, stop_loss=D(98)))  # risk-sized
    assert [d.reasons for d in decisions] == [("NO_PRICE",), ("NO_SIZE_NO_STOP",), ()]
    assert decisions[2].quantity == 2500  # 0.5% of 1,000,000 over a 2.00 stop
    assert len(venue.submitted) == 1
