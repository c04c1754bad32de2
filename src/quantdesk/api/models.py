"""Response and request bodies. Money, prices and quantities are exact decimal strings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    live: bool
    ready: bool
    checks: dict[str, Check]
    feed_age_ms: float | None = Field(description="wall ms since the last market data")
    loop_lag_ms: float = Field(description="how late the engine loop woke, last wait")


class PositionOut(BaseModel):
    symbol: str
    quantity: Decimal
    avg_price: Decimal | None
    mark: Decimal | None
    unrealised_pnl: Decimal
    realised_pnl: Decimal


class OrderOut(BaseModel):
    client_order_id: str
    venue_order_id: str
    plan_id: str
    leg: str
    symbol: str
    side: str
    order_type: str
    status: str
    quantity: Decimal
    filled_quantity: Decimal
    limit_price: Decimal | None
    trigger_price: Decimal | None


class TradeOut(BaseModel):
    trade_id: str
    plan_id: str | None
    symbol: str
    side: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: str
    exit_time: str
    net_pnl: Decimal
    exit_reason: str


class SignalOut(BaseModel):
    rank: int
    time: str
    strategy: str
    symbol: str
    side: str
    strength: float
    rationale: str
    decision: str | None = Field(description="APPROVED / REFUSED once decided")
    reasons: list[str]


class BreakerOut(BaseModel):
    name: str
    tripped: bool
    reason: str
    recovery: str


class RiskOut(BaseModel):
    trading_state: str
    kill_switch: bool
    paused: list[str]
    heat: Decimal
    heat_cap: Decimal
    heat_pct: Decimal
    risk_banner_color: str = Field(pattern="^(green|yellow|red)$")
    daily_pnl: Decimal
    daily_loss_limit: Decimal
    trades_today: int
    max_trades_per_day: int
    open_trades: int
    max_open_trades: int
    breakers: list[BreakerOut]


class EquityPoint(BaseModel):
    time: str
    equity: Decimal


class StateOut(BaseModel):
    mode: str
    safe_mode: bool
    session_id: str
    config_sha: str
    clock: str = Field(description="the engine clock, ISO UTC")
    equity: Decimal
    daily_pnl: Decimal
    heat: Decimal
    heat_pct: Decimal
    risk_banner_color: str
    trading_state: str
    kill_switch: bool
    agent_running: bool
    positions: list[PositionOut]
    open_orders: list[OrderOut]
    equity_curve: list[EquityPoint]


class AuditOut(BaseModel):
    id: int
    time: str
    session_id: str
    actor: str
    action: str
    entity: str
    entity_id: str
    correlation_id: str | None
    payload: dict[str, object]


class AgentOut(BaseModel):
    running: bool
    strategies: list[str]
    bars_seen: int
    signals_seen: int
    last_signal_time: str | None


class ActionResult(BaseModel):
    ok: bool
    action: str
    detail: str
    still_blocking: list[str] = []


class PauseIn(Strict):
    reason: str = Field(default="manual", min_length=1, max_length=200)


class ResumeIn(Strict):
    release_kill_switch: bool = False


class FlattenIn(Strict):
    reason: str = Field(default="operator flatten", min_length=1, max_length=200)


class ModeIn(Strict):
    mode: str = Field(pattern="^(LIVE|PAPER)$")
    confirmation: str = Field(default="", max_length=64)


class ModeOut(BaseModel):
    mode: str
    granted: bool
    reasons: list[str]
