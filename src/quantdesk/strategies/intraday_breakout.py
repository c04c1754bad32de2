"""Intraday breakout with a dual-timeframe direction check (StrategyEngine style).

- Daily direction: the previous session's close against the SMA of the last
  `daily_lookback` session closes (built from the intraday bars themselves).
- Intraday setup: the opening range (first `range_minutes` of the NSE session). A bar
  closing beyond it is a breakout; it is traded only when the daily direction agrees.
- Signal: limit entry at the breakout close, stop at the far side of the range, TP1 and
  TP2 at `tp1_r` and `tp2_r` times the risk, all on the tick grid; one trade per day,
  no entries after `last_entry`, and a time stop that exits before the close.
IST has no daylight saving, so session times come from integer arithmetic on the
UTC nanosecond timestamps (no datetime per bar).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.domain.market import Bar
from quantdesk.domain.money import round_to_step
from quantdesk.domain.time import NS_PER_MINUTE, ist_day_minute
from quantdesk.strategies.base import Strategy
from quantdesk.strategies.indicators import SMA

SESSION_OPEN = 9 * 60 + 15  # minutes after midnight IST


class BreakoutParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    range_minutes: int = Field(default=15, ge=1, le=120)
    daily_lookback: int = Field(default=5, ge=2, le=200)
    tp1_r: Decimal = Field(default=Decimal(1), gt=0)
    tp2_r: Decimal = Field(default=Decimal(2), gt=0)
    tick: Decimal = Field(default=Decimal("0.05"), gt=0)
    last_entry: str = Field(default="14:30", pattern=r"^\d{2}:\d{2}$")
    exit_by: str = Field(default="15:15", pattern=r"^\d{2}:\d{2}$")
    max_risk_pct: Decimal = Field(default=Decimal(2), gt=0)
    qty: Decimal | None = Field(default=None, gt=0)  # None: sized by risk to stop


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class IntradayBreakout(Strategy):
    name = "intraday_breakout"
    Params = BreakoutParams

    def on_start(self) -> None:
        p = self.params
        assert isinstance(p, BreakoutParams)
        self.p = p
        self._daily = SMA(p.daily_lookback)
        self._day = -1
        self._last_close: Decimal | None = None
        self._trend = 0  # +1 up, -1 down, 0 unknown
        self._range_high: Decimal | None = None
        self._range_low: Decimal | None = None
        self._traded_today = False
        self._range_end = SESSION_OPEN + p.range_minutes
        self._last_entry = _minutes(p.last_entry)
        self._exit_by = _minutes(p.exit_by)

    def on_bar(self, bar: Bar) -> None:
        day, minute = ist_day_minute(bar.ts)
        if day != self._day:
            self._new_day(day)
        self._last_close = bar.close
        if minute < self._range_end:
            self._extend_range(bar)
            return
        if self.position() != 0 or self._traded_today or minute >= self._last_entry:
            return
        if self._range_high is None or self._range_low is None:
            return
        if self._trend > 0 and bar.close > self._range_high:
            self._enter(bar, long=True, stop=self._range_low, minute=minute)
        elif self._trend < 0 and bar.close < self._range_low:
            self._enter(bar, long=False, stop=self._range_high, minute=minute)

    def _new_day(self, day: int) -> None:
        if self._last_close is not None:
            previous = self._last_close
            if self._daily.update(previous):
                sma = self._daily.value
                assert sma is not None
                self._trend = 1 if previous > sma else -1 if previous < sma else 0
        self._day = day
        self._range_high = self._range_low = None
        self._traded_today = False

    def _extend_range(self, bar: Bar) -> None:
        if self._range_high is None or bar.high > self._range_high:
            self._range_high = bar.high
        if self._range_low is None or bar.low < self._range_low:
            self._range_low = bar.low

    def _enter(self, bar: Bar, *, long: bool, stop: Decimal, minute: int) -> None:
        p = self.p
        entry = bar.close
        risk = abs(entry - stop)
        if risk == 0 or risk * 100 / entry > p.max_risk_pct:
            return
        direction = 1 if long else -1
        away = ROUND_FLOOR if not long else ROUND_CEILING
        tp1 = round_to_step(entry + direction * p.tp1_r * risk, p.tick, away)
        tp2 = round_to_step(entry + direction * p.tp2_r * risk, p.tick, away)
        hold_ns = max(1, self._exit_by - minute) * NS_PER_MINUTE
        details = {
            "entry": entry,
            "stop_loss": stop,
            "targets": (tp1, tp2),
            "strength": float(self._trend),
            "time_stop_ns": hold_ns,
            "rationale": f"{'up' if long else 'down'} day trend, opening-range breakout",
        }
        self._traded_today = True
        if long:
            self.buy(p.qty, **details)
        else:
            self.sell(p.qty, **details)
