"""The audit chain writer: every domain record and its AuditLog row in one transaction.

Rows are linked signal -> decision -> orders -> fills -> trade by foreign keys, and the
audit log links them by `correlation_id`, so a trade can be explained end to end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quantdesk.domain import Decision, Fill, Order, Position, RiskEvent, Signal, Trade
from quantdesk.domain.errors import QuantdeskError
from quantdesk.domain.time import to_datetime
from quantdesk.storage.db import session_factory
from quantdesk.storage.models import (
    AuditLogRow,
    DecisionRow,
    FillRow,
    OrderRow,
    PositionRow,
    RiskEventRow,
    SignalRow,
    TradeRow,
)

_SECRET_KEY = re.compile(r"(key|token|secret|password|passwd|authorization)", re.IGNORECASE)


class DuplicatePlan(QuantdeskError):
    """A decision with this client_plan_id exists: the plan was already acted on."""


@dataclass(frozen=True, slots=True)
class Provenance:
    session_id: str
    config_sha: str


def redact(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of `payload` with secret-looking keys masked, recursively."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if _SECRET_KEY.search(key):
            out[key] = "****"
        elif isinstance(value, Mapping):
            out[key] = redact(value)
        else:
            out[key] = _jsonable(value)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _money_list(values: Iterable[Decimal]) -> list[str]:
    return [format(v, "f") for v in values]


class Journal:
    """Writes the chain with provenance. One instance per running session."""

    def __init__(self, engine: Engine, provenance: Provenance) -> None:
        self._sessions = session_factory(engine)
        self.provenance = provenance

    def _stamp(self) -> dict[str, str]:
        return {"session_id": self.provenance.session_id, "config_sha": self.provenance.config_sha}

    def _audit(
        self,
        db: Session,
        *,
        ts: int,
        correlation_id: str | None,
        actor: str,
        action: str,
        entity: str,
        entity_id: object,
        payload: Mapping[str, Any],
    ) -> None:
        db.add(
            AuditLogRow(
                ts=to_datetime(ts),
                correlation_id=correlation_id,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                payload=redact(payload),
                **self._stamp(),
            )
        )

    def record_signal(self, signal: Signal) -> int:
        with self._sessions.begin() as db:
            row = SignalRow(
                correlation_id=signal.correlation_id,
                strategy=signal.strategy,
                symbol=signal.symbol,
                side=signal.side.value,
                ts=to_datetime(signal.ts),
                entry=signal.entry,
                stop_loss=signal.stop_loss,
                targets=_money_list(signal.targets),
                strength=signal.strength,
                rationale=signal.rationale,
                features=dict(signal.features),
                **self._stamp(),
            )
            db.add(row)
            db.flush()
            self._audit(
                db,
                ts=signal.ts,
                correlation_id=signal.correlation_id,
                actor=signal.strategy,
                action="signal",
                entity="signals",
                entity_id=row.id,
                payload={
                    "symbol": signal.symbol,
                    "side": signal.side.value,
                    "entry": signal.entry,
                    "stop_loss": signal.stop_loss,
                    "targets": signal.targets,
                    "strength": signal.strength,
                },
            )
            return row.id

    def record_decision(self, decision: Decision, signal_id: int, mode: str) -> int:
        """Persist a plan once; the same `plan_id` again raises `DuplicatePlan`."""
        try:
            with self._sessions.begin() as db:
                row = DecisionRow(
                    signal_id=signal_id,
                    client_plan_id=decision.plan_id,
                    mode=mode,
                    symbol=decision.symbol,
                    side=decision.side.value,
                    quantity=decision.quantity,
                    order_type=decision.order_type.value,
                    entry_price=decision.entry_price,
                    stop_loss=decision.stop_loss,
                    targets=_money_list(decision.targets),
                    risk_amount=decision.risk_amount,
                    status=decision.status.value,
                    reasons=list(decision.reasons),
                    ts=to_datetime(decision.ts),
                    **self._stamp(),
                )
                db.add(row)
                db.flush()
                self._audit(
                    db,
                    ts=decision.ts,
                    correlation_id=decision.correlation_id,
                    actor="risk",
                    action=f"decision.{decision.status.value.lower()}",
                    entity="decisions",
                    entity_id=row.id,
                    payload={
                        "plan_id": decision.plan_id,
                        "quantity": decision.quantity,
                        "reasons": decision.reasons,
                    },
                )
                return row.id
        except IntegrityError as exc:
            if self._plan_exists(decision.plan_id):
                raise DuplicatePlan(f"plan {decision.plan_id} was already recorded") from exc
            raise

    def _plan_exists(self, plan_id: str) -> bool:
        with self._sessions() as db:
            found = db.scalar(select(DecisionRow.id).where(DecisionRow.client_plan_id == plan_id))
            return found is not None

    def record_order(
        self,
        order: Order,
        decision_id: int | None,
        ts: int,
        correlation_id: str | None = None,
        actor: str = "oms",
    ) -> int:
        """Insert or update the order's row (keyed by client_order_id), audited each time."""
        with self._sessions.begin() as db:
            row = db.scalar(
                select(OrderRow).where(OrderRow.client_order_id == order.client_order_id)
            )
            if row is None:
                row = OrderRow(
                    client_order_id=order.client_order_id,
                    decision_id=decision_id,
                    symbol=order.symbol,
                    side=order.side.value,
                    order_type=order.order_type.value,
                    leg=order.leg,
                    quantity=order.quantity,
                    time_in_force=order.time_in_force.value,
                    reduce_only=order.reduce_only,
                    **self._stamp(),
                )
                db.add(row)
            row.venue_order_id = order.venue_order_id
            row.limit_price = order.limit_price
            row.trigger_price = order.trigger_price
            row.status = order.status.value
            row.filled_quantity = order.filled_quantity
            row.avg_fill_price = order.avg_fill_price
            row.fees = order.fees
            row.last_reason = order.last_reason
            db.flush()
            self._audit(
                db,
                ts=ts,
                correlation_id=correlation_id,
                actor=actor,
                action=f"order.{order.status.value.lower()}",
                entity="orders",
                entity_id=row.id,
                payload={
                    "client_order_id": order.client_order_id,
                    "leg": order.leg,
                    "status": order.status.value,
                    "filled": order.filled_quantity,
                    "reason": order.last_reason,
                },
            )
            return row.id

    def record_fill(self, fill: Fill, order_id: int, correlation_id: str | None = None) -> int:
        """Idempotent on (order, fill_id): a fill reported twice is stored once."""
        with self._sessions.begin() as db:
            existing = db.scalar(
                select(FillRow.id).where(
                    FillRow.order_id == order_id, FillRow.fill_id == fill.fill_id
                )
            )
            if existing is not None:
                return existing
            row = FillRow(
                order_id=order_id,
                fill_id=fill.fill_id,
                symbol=fill.symbol,
                side=fill.side.value,
                quantity=fill.quantity,
                price=fill.price,
                fee=fill.fee,
                ts=to_datetime(fill.ts),
                **self._stamp(),
            )
            db.add(row)
            db.flush()
            self._audit(
                db,
                ts=fill.ts,
                correlation_id=correlation_id,
                actor="venue",
                action="fill",
                entity="fills",
                entity_id=row.id,
                payload={
                    "client_order_id": fill.client_order_id,
                    "qty": fill.quantity,
                    "price": fill.price,
                    "fee": fill.fee,
                },
            )
            return row.id

    def record_trade(
        self,
        trade: Trade,
        decision_id: int | None,
        fill_ids: Iterable[int],
        *,
        slippage_bps: Decimal | None = None,
        latency_ms: float | None = None,
        correlation_id: str | None = None,
    ) -> int:
        """Persist a closed round trip and link the fills that made it."""
        with self._sessions.begin() as db:
            row = TradeRow(
                trade_uid=trade.trade_id,
                decision_id=decision_id,
                symbol=trade.symbol,
                side=trade.side.value,
                quantity=trade.quantity,
                entry_price=trade.entry_price,
                exit_price=trade.exit_price,
                entry_ts=to_datetime(trade.entry_ts),
                exit_ts=to_datetime(trade.exit_ts),
                pnl=trade.pnl,
                fees=trade.fees,
                net_pnl=trade.net_pnl,
                exit_reason=trade.exit_reason,
                slippage_bps=slippage_bps,
                latency_ms=latency_ms,
                **self._stamp(),
            )
            db.add(row)
            db.flush()
            for fill_row in db.scalars(select(FillRow).where(FillRow.id.in_(list(fill_ids)))):
                fill_row.trade_id = row.id
            self._audit(
                db,
                ts=trade.exit_ts,
                correlation_id=correlation_id,
                actor="oms",
                action="trade.closed",
                entity="trades",
                entity_id=row.id,
                payload={
                    "symbol": trade.symbol,
                    "pnl": trade.pnl,
                    "fees": trade.fees,
                    "exit_reason": trade.exit_reason,
                },
            )
            return row.id

    def save_position(self, venue: str, position: Position) -> None:
        with self._sessions.begin() as db:
            row = db.scalar(
                select(PositionRow).where(
                    PositionRow.venue == venue, PositionRow.symbol == position.symbol
                )
            )
            if row is None:
                row = PositionRow(venue=venue, symbol=position.symbol, **self._stamp())
                db.add(row)
            row.quantity = position.quantity
            row.cost = position.cost
            row.realised_pnl = position.realised_pnl
            row.fees = position.fees
            row.session_id = self.provenance.session_id
            row.config_sha = self.provenance.config_sha

    def record_risk_event(self, event: RiskEvent, correlation_id: str | None = None) -> int:
        with self._sessions.begin() as db:
            row = RiskEventRow(
                ts=to_datetime(event.ts),
                code=event.code,
                severity=event.severity.value,
                message=event.message,
                symbol=event.symbol,
                correlation_id=correlation_id,
                details=redact(event.details),
                **self._stamp(),
            )
            db.add(row)
            db.flush()
            self._audit(
                db,
                ts=event.ts,
                correlation_id=correlation_id,
                actor="risk",
                action=f"risk.{event.code.lower()}",
                entity="risk_events",
                entity_id=row.id,
                payload={"severity": event.severity.value, "message": event.message},
            )
            return row.id

    def record_action(
        self,
        *,
        ts: int,
        actor: str,
        action: str,
        payload: Mapping[str, Any],
        correlation_id: str | None = None,
    ) -> None:
        """Operator and system actions (pause, flatten, mode change, start-up)."""
        with self._sessions.begin() as db:
            self._audit(
                db,
                ts=ts,
                correlation_id=correlation_id,
                actor=actor,
                action=action,
                entity="operator",
                entity_id=actor,
                payload=payload,
            )
