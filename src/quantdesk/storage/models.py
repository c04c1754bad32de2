"""Tables of the audit chain: signal -> decision -> orders -> fills -> trade.

Foreign keys use the chain's natural keys (correlation id, client_plan_id,
client_order_id, trade_uid): they are known before any row is written, so the chain
can be written in batches (backtests) or one record at a time (live) the same way.
Every row carries `session_id` and `config_sha` (provenance), so any number in a
report can be traced to the session and the exact configuration that produced it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quantdesk.storage.types import ExactDecimal, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        Decimal: ExactDecimal(),
        datetime: UTCDateTime(),
        int: BigInteger().with_variant(Integer, "sqlite"),  # SQLite autoincrements INTEGER only
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Provenance:
    """Which session and which configuration wrote the row."""

    session_id: Mapped[str] = mapped_column(String(64), index=True)
    config_sha: Mapped[str] = mapped_column(String(64))


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("venue", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(128), default="")
    tick_size: Mapped[Decimal]
    lot_size: Mapped[Decimal]
    cap_tier: Mapped[str | None] = mapped_column(String(16))
    sector: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(8), default="INR")


class CandleRow(Base):
    __tablename__ = "candles"
    __table_args__ = (UniqueConstraint("venue", "symbol", "timeframe", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    ts: Mapped[datetime]
    open: Mapped[Decimal]
    high: Mapped[Decimal]
    low: Mapped[Decimal]
    close: Mapped[Decimal]
    volume: Mapped[Decimal]


class SignalRow(Provenance, Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    correlation_id: Mapped[str] = mapped_column(String(32), unique=True)
    strategy: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    ts: Mapped[datetime]
    entry: Mapped[Decimal | None]
    stop_loss: Mapped[Decimal | None]
    targets: Mapped[list[Any]]
    strength: Mapped[float]
    rationale: Mapped[str] = mapped_column(Text, default="")
    features: Mapped[dict[str, Any]]


class DecisionRow(Provenance, Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    correlation_id: Mapped[str] = mapped_column(ForeignKey("signals.correlation_id"), index=True)
    client_plan_id: Mapped[str] = mapped_column(String(32), unique=True)
    mode: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal]
    order_type: Mapped[str] = mapped_column(String(16))
    entry_price: Mapped[Decimal | None]
    stop_loss: Mapped[Decimal | None]
    targets: Mapped[list[Any]]
    risk_amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]]
    trail_distance: Mapped[Decimal | None]
    time_stop_ns: Mapped[int | None]
    ts: Mapped[datetime]


class OrderRow(Provenance, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_plan_id: Mapped[str | None] = mapped_column(
        ForeignKey("decisions.client_plan_id"), index=True
    )
    client_order_id: Mapped[str] = mapped_column(String(40), unique=True)
    venue_order_id: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16))
    leg: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal]
    limit_price: Mapped[Decimal | None]
    trigger_price: Mapped[Decimal | None]
    time_in_force: Mapped[str] = mapped_column(String(8))
    reduce_only: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20), index=True)
    filled_quantity: Mapped[Decimal]
    avg_fill_price: Mapped[Decimal | None]
    fees: Mapped[Decimal]
    last_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class TradeRow(Provenance, Base):
    """A round trip, written when it opens (status OPEN) and completed when it closes."""

    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_plan_id: Mapped[str | None] = mapped_column(
        ForeignKey("decisions.client_plan_id"), index=True
    )
    status: Mapped[str] = mapped_column(String(8), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal]
    entry_price: Mapped[Decimal]
    exit_price: Mapped[Decimal | None]
    entry_ts: Mapped[datetime]
    exit_ts: Mapped[datetime | None]
    pnl: Mapped[Decimal]
    fees: Mapped[Decimal]
    net_pnl: Mapped[Decimal]
    exit_reason: Mapped[str] = mapped_column(String(32), default="")
    first_fill_id: Mapped[str] = mapped_column(String(64), default="")
    slippage_bps: Mapped[Decimal | None]

    latency_ms: Mapped[float | None]


class FillRow(Provenance, Base):
    """An execution. A flipping fill links to the trade it closes (the next trade names it
    as its first fill)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("client_order_id", "fill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    trade_uid: Mapped[str | None] = mapped_column(ForeignKey("trades.trade_uid"), index=True)
    fill_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal]
    fee: Mapped[Decimal]
    ts: Mapped[datetime]


class PositionRow(Provenance, Base):
    """Latest state of each net position; history lives in fills and trades."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("venue", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal]
    cost: Mapped[Decimal]
    realised_pnl: Mapped[Decimal]
    fees: Mapped[Decimal]
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class RiskEventRow(Provenance, Base):
    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime]
    code: Mapped[str] = mapped_column(String(48), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]]


class AuditLogRow(Provenance, Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime]
    correlation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]


class SlippageModelRow(Base):
    """Median execution slippage by instrument and side, recomputed daily from trades."""

    __tablename__ = "slippage_model"
    __table_args__ = (UniqueConstraint("symbol", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    median_bps: Mapped[Decimal]
    samples: Mapped[int]
    updated_at: Mapped[datetime]


class AlertCooldownRow(Base):
    """When each alert key last went out, so a restart does not send it again within its
    cooldown (see `obs.alert_cooldown`). `level` lets a worse alert through early."""

    __tablename__ = "alert_cooldowns"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_sent_ts: Mapped[int]  # UTC epoch ns
    level: Mapped[str] = mapped_column(String(16))
    count_suppressed: Mapped[int] = mapped_column(default=0)
