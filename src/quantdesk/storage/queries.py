"""Read side of the journal: audit tail and the chain behind one trade."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from quantdesk.storage.db import session_factory
from quantdesk.storage.models import (
    AuditLogRow,
    DecisionRow,
    FillRow,
    OrderRow,
    SignalRow,
    TradeRow,
)


def audit_tail(engine: Engine, session_id: str | None = None, limit: int = 50) -> list[AuditLogRow]:
    """The latest `limit` audit rows (optionally of one session), oldest first."""
    query = select(AuditLogRow).order_by(AuditLogRow.id.desc()).limit(limit)
    if session_id:
        query = query.where(AuditLogRow.session_id == session_id)
    with session_factory(engine)() as db:
        return list(reversed(db.scalars(query).all()))


@dataclass(frozen=True)
class TradeChain:
    signal: SignalRow
    decision: DecisionRow
    orders: list[OrderRow]
    fills: list[FillRow]
    trade: TradeRow
    audit: list[AuditLogRow]


def trade_chain(engine: Engine, trade_uid: str) -> TradeChain:
    """Walk the foreign keys back from a trade to the signal that started it."""
    with session_factory(engine)() as db:
        trade = db.scalars(select(TradeRow).where(TradeRow.trade_uid == trade_uid)).one()
        decision = db.scalars(
            select(DecisionRow).where(DecisionRow.client_plan_id == trade.client_plan_id)
        ).one()
        signal = db.scalars(
            select(SignalRow).where(SignalRow.correlation_id == decision.correlation_id)
        ).one()
        orders = list(
            db.scalars(
                select(OrderRow)
                .where(OrderRow.client_plan_id == decision.client_plan_id)
                .order_by(OrderRow.id)
            )
        )
        fills = list(
            db.scalars(select(FillRow).where(FillRow.trade_uid == trade_uid).order_by(FillRow.id))
        )
        audit = list(
            db.scalars(
                select(AuditLogRow)
                .where(AuditLogRow.correlation_id == signal.correlation_id)
                .order_by(AuditLogRow.id)
            )
        )
        return TradeChain(signal, decision, orders, fills, trade, audit)
