"""The desk's risk controls: trading state, kill switch, pauses, breakers, day counters.

This is the only place the risk state changes; operators act through it (never by
editing config). It turns what happened (fills, closed trades, rejections, marks, data)
into the `RiskState` snapshot the pure gate judges. Trading state follows DESIGN:
ACTIVE (entries allowed), REDUCING (paused: exits only), HALTED (kill switch engaged).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Severity
from quantdesk.domain.time import ist_day_minute
from quantdesk.risk.breakers import (
    Breaker,
    DataHealthBreaker,
    EquityBreaker,
    FailureBreaker,
    Recovery,
    RejectionBreaker,
)
from quantdesk.risk.gate import MarketHealth, OpenRisk, RiskState

if TYPE_CHECKING:
    from quantdesk.risk.calendar import TradingCalendar

Emit = Callable[[str, Severity, str], None]
OPERATOR = "operator"


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class RiskControls:
    def __init__(
        self,
        limits: RiskLimits,
        *,
        calendar: TradingCalendar | None = None,
        safe_mode: bool = True,
        emit: Emit | None = None,
    ) -> None:
        self.limits = limits
        self.calendar = calendar
        self.safe_mode = safe_mode
        self.emit: Emit = emit or (lambda *_: None)
        self.kill_switch = False
        self.operator_pause: str | None = None
        self.rejections = RejectionBreaker(limits.max_rejections, limits.rejection_window_min)
        self.failures = FailureBreaker(limits.max_consecutive_failures)
        self.equity = EquityBreaker(
            limits.capital * limits.equity_floor_pct / 100, limits.intraday_drawdown_pct
        )
        self.data = DataHealthBreaker(limits.feed_stale_s, limits.feed_quiet_s)
        self.breakers: tuple[Breaker, ...] = (
            self.rejections,
            self.failures,
            self.equity,
            self.data,
        )
        self.day: int | None = None  # IST day number of the counters below
        self.trades_today = 0
        self.realised_today = Decimal(0)
        self._last_state = TradingState.ACTIVE

    # -- state -----------------------------------------------------------------------
    @property
    def paused(self) -> tuple[str, ...]:
        reasons = [f"breaker:{b.name}" for b in self.breakers if b.tripped]
        if self.operator_pause is not None:
            reasons.insert(0, f"operator:{self.operator_pause}")
        return tuple(reasons)

    @property
    def trading_state(self) -> TradingState:
        if self.kill_switch:
            return TradingState.HALTED
        return TradingState.REDUCING if self.paused else TradingState.ACTIVE

    def snapshot(
        self,
        positions: Mapping[str, OpenRisk],
        unrealised: Decimal,
        market: Mapping[str, MarketHealth],
    ) -> RiskState:
        return RiskState(
            limits=self.limits,
            kill_switch=self.kill_switch,
            paused=self.paused,
            safe_mode=self.safe_mode,
            calendar=self.calendar,
            positions=positions,
            daily_pnl=self.realised_today + unrealised,
            trades_today=self.trades_today,
            market=market,
        )

    # -- operator actions ------------------------------------------------------------
    def pause(self, reason: str = "manual") -> None:
        self.operator_pause = reason
        self._state_changed(f"paused by operator: {reason}")

    def resume(self, now: int) -> tuple[str, ...]:
        """Clear the operator pause and operator-recovered breakers; returns what still
        blocks (data health resumes by itself, the kill switch needs `release`)."""
        self.operator_pause = None
        for breaker in self.breakers:
            if breaker.tripped and breaker.recovery is Recovery.OPERATOR:
                breaker.reset()
        self._recover_data(now)
        self._state_changed("resumed by operator")
        still = list(self.paused)
        if self.kill_switch:
            still.insert(0, "kill_switch")
        return tuple(still)

    def engage_kill_switch(self, reason: str) -> bool:
        """True when this call engaged it (the caller then cancels and flattens)."""
        if self.kill_switch:
            return False
        self.kill_switch = True
        self._state_changed(f"kill switch engaged: {reason}")
        return True

    def release_kill_switch(self) -> None:
        self.kill_switch = False
        self._state_changed("kill switch released")

    # -- what happened -----------------------------------------------------------------
    def on_entry(self, ts: int) -> None:
        self._roll_day(ts)
        self.trades_today += 1

    def on_trade_closed(self, ts: int, net_pnl: Decimal) -> None:
        self._roll_day(ts)
        self.realised_today += net_pnl

    def on_rejection(self, ts: int) -> None:
        if self.rejections.record(ts):
            self._tripped(self.rejections)

    def on_execution(self, ts: int, failed: bool) -> None:
        if self.failures.record(ts, failed):
            self._tripped(self.failures)

    def on_equity(self, ts: int, equity: Decimal) -> None:
        if self._roll_day(ts):
            self.equity.new_day(equity)
        if self.equity.record(ts, equity):
            self._tripped(self.equity)

    def on_market_data(self, ts: int) -> None:
        self.data.on_data(ts)
        self._recover_data(ts)

    def check_feed(self, now: int, not_before: int = 0) -> None:
        if self.data.check(now, not_before):
            self._tripped(self.data)

    # -- restart ---------------------------------------------------------------------
    def memory(self) -> dict[str, str]:
        """What a restart must not forget: the kill switch, the operator's pause and the
        breakers only an operator may clear (data health heals by itself)."""
        held = [b for b in self.breakers if b.tripped and b.recovery is Recovery.OPERATOR]
        return {
            "state": self.trading_state.value,
            "kill_switch": "1" if self.kill_switch else "0",
            "operator_pause": self.operator_pause or "",
            "breakers": ",".join(b.name for b in held),
            "reasons": " | ".join(b.reason for b in held),
        }

    def recall(self, memory: Mapping[str, str], now: int) -> None:
        """Re-apply a `memory()` saved before a restart; raises the state event once."""
        self.kill_switch = memory.get("kill_switch") == "1"
        self.operator_pause = memory.get("operator_pause") or None
        names = {n for n in memory.get("breakers", "").split(",") if n}
        for breaker in self.breakers:
            if breaker.name in names and breaker.recovery is Recovery.OPERATOR:
                breaker.trip(now, memory.get("reasons", "") or "tripped before a restart")
        self._state_changed("restored after restart")

    # -- internals ---------------------------------------------------------------------
    def _roll_day(self, ts: int) -> bool:
        day = ist_day_minute(ts)[0]
        if day == self.day:
            return False
        self.day, self.trades_today, self.realised_today = day, 0, Decimal(0)
        return True

    def _recover_data(self, now: int) -> None:
        if self.data.tripped and self.data.recovered(now):
            self.data.reset()
            self.emit("BREAKER_RECOVERED", Severity.INFO, "data_health: feed healthy again")
            self._state_changed("data health recovered")

    def _tripped(self, breaker: Breaker) -> None:
        self.emit(
            f"BREAKER_{breaker.name.upper()}",
            Severity.CRITICAL,
            f"{breaker.reason}; entries paused until {breaker.recovery.value}",
        )
        self._state_changed(f"breaker {breaker.name} tripped")

    def _state_changed(self, why: str) -> None:
        state = self.trading_state
        if state is not self._last_state:
            self._last_state = state
            self.emit(f"TRADING_{state.value}", Severity.WARNING, why)
