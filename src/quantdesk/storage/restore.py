"""What a restarted desk reloads: working orders, their plans, and positions.

The order manager rebuilds itself from this and then asks the venue about every
order that was in flight (see `OrderManager.restore`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, select

from quantdesk.domain.enums import OrderType, Side, TimeInForce
from quantdesk.domain.order import TERMINAL, Order, OrderStatus
from quantdesk.domain.position import Position
from quantdesk.domain.signal import Decision, DecisionStatus
from quantdesk.domain.time import from_datetime
from quantdesk.domain.trade import OpenTrade
from quantdesk.storage.db import session_factory
from quantdesk.storage.models import DecisionRow, FillRow, OrderRow, PositionRow, TradeRow

_TERMINAL = [s.value for s in TERMINAL]


@dataclass
class SavedState:
    orders: list[Order] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    open_trade_plans: dict[str, str | None] = field(default_factory=dict)  # symbol -> plan


def load_state(engine: Engine, venue: str) -> SavedState:
    state = SavedState()
    with session_factory(engine)() as db:
        trades = {
            t.symbol: t for t in db.scalars(select(TradeRow).where(TradeRow.status == "OPEN"))
        }
        for row in db.scalars(select(PositionRow).where(PositionRow.venue == venue)):
            trade = trades.get(row.symbol)
            state.positions[row.symbol] = Position.restore(
                row.symbol,
                row.quantity,
                row.cost,
                row.realised_pnl,
                row.fees,
                _open_trade(trade) if trade is not None else None,
            )
            state.open_trade_plans[row.symbol] = trade.client_plan_id if trade else None
        working = db.scalars(
            select(OrderRow.client_plan_id).where(
                OrderRow.status.not_in(_TERMINAL), OrderRow.client_plan_id.is_not(None)
            )
        )
        plans = {p for p in working if p} | {p for p in state.open_trade_plans.values() if p}
        for row in db.scalars(select(DecisionRow).where(DecisionRow.client_plan_id.in_(plans))):
            state.decisions[row.client_plan_id] = _decision(row)
        rows = db.scalars(
            select(OrderRow)
            .where(OrderRow.client_plan_id.in_(plans) | OrderRow.status.not_in(_TERMINAL))
            .order_by(OrderRow.id)
        ).all()
        fill_ids: dict[str, set[str]] = {}
        for cid, fid in db.execute(
            select(FillRow.client_order_id, FillRow.fill_id).where(
                FillRow.client_order_id.in_([r.client_order_id for r in rows])
            )
        ):
            fill_ids.setdefault(cid, set()).add(fid)
        state.orders = [_order(r, fill_ids.get(r.client_order_id, set())) for r in rows]
    return state


def _open_trade(row: TradeRow) -> OpenTrade:
    return OpenTrade(
        row.trade_uid,
        row.symbol,
        Side(row.side),
        row.quantity,
        row.entry_price,
        from_datetime(row.entry_ts),
        row.pnl,
        row.fees,
        row.first_fill_id,
    )


def _decision(row: DecisionRow) -> Decision:
    return Decision(
        plan_id=row.client_plan_id,
        correlation_id=row.correlation_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        ts=from_datetime(row.ts),
        status=DecisionStatus(row.status),
        order_type=OrderType(row.order_type),
        entry_price=row.entry_price,
        stop_loss=row.stop_loss,
        targets=tuple(Decimal(t) for t in row.targets),
        risk_amount=row.risk_amount,
        reasons=tuple(row.reasons),
        trail_distance=row.trail_distance,
        time_stop_ns=row.time_stop_ns,
    )


def _order(row: OrderRow, fill_ids: set[str]) -> Order:
    avg = row.avg_fill_price
    return Order(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        quantity=row.quantity,
        plan_id=row.client_plan_id or "",
        leg=row.leg,
        limit_price=row.limit_price,
        trigger_price=row.trigger_price,
        time_in_force=TimeInForce(row.time_in_force),
        reduce_only=row.reduce_only,
        status=OrderStatus(row.status),
        filled_quantity=row.filled_quantity,
        filled_notional=avg * row.filled_quantity if avg is not None else Decimal(0),
        fees=row.fees,
        venue_order_id=row.venue_order_id,
        last_reason=row.last_reason,
        fill_ids=fill_ids,
    )
