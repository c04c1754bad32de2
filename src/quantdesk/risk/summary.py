"""The risk picture an operator sees (API /risk, dashboard heat banner, alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.risk.controls import RiskControls
from quantdesk.risk.gate import RiskState

YELLOW_AT = Decimal(50)
RED_AT = Decimal(75)


def banner_colour(heat_pct: Decimal) -> str:
    """Green below 50% of the heat cap, yellow from 50% to 75%, red at 75% and above."""
    if heat_pct >= RED_AT:
        return "red"
    return "yellow" if heat_pct >= YELLOW_AT else "green"


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    name: str
    tripped: bool
    reason: str
    recovery: str


@dataclass(frozen=True, slots=True)
class RiskSummary:
    trading_state: str
    kill_switch: bool
    paused: tuple[str, ...]
    heat: Decimal
    heat_cap: Decimal
    heat_pct: Decimal
    risk_banner_color: str
    daily_pnl: Decimal
    daily_loss_limit: Decimal
    trades_today: int
    max_trades_per_day: int
    open_trades: int
    max_open_trades: int
    breakers: tuple[BreakerStatus, ...]


def summarise(controls: RiskControls, state: RiskState) -> RiskSummary:
    limits = controls.limits
    heat = state.heat
    pct = (heat * 100 / limits.heat_cap).quantize(Decimal("0.01"))
    return RiskSummary(
        trading_state=controls.trading_state.value,
        kill_switch=controls.kill_switch,
        paused=controls.paused,
        heat=heat,
        heat_cap=limits.heat_cap,
        heat_pct=pct,
        risk_banner_color=banner_colour(pct),
        daily_pnl=state.daily_pnl,
        daily_loss_limit=limits.daily_loss_limit,
        trades_today=state.trades_today,
        max_trades_per_day=limits.max_trades_per_day,
        open_trades=sum(1 for p in state.positions.values() if p.quantity),
        max_open_trades=limits.max_open_trades,
        breakers=tuple(
            BreakerStatus(b.name, b.tripped, b.reason, b.recovery.value) for b in controls.breakers
        ),
    )
