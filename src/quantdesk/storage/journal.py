"""The audit chain writer: every domain record plus its AuditLog row.

One writer serves every mode. With `batch_size=1` (paper, live) each record and its
audit row are committed together before the call returns; backtests use large batches
(one transaction per flush) so persistence does not dominate the run. Orders, trades and
positions are upserted by natural key, so their latest state is what the table shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import IntegrityError

from quantdesk.domain import Decision, Fill, Order, Position, RiskEvent, Signal, Trade
from quantdesk.domain.errors import DuplicatePlan
from quantdesk.domain.redact import redact
from quantdesk.domain.trade import OpenTrade
from quantdesk.storage.background import BackgroundWriter
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
from quantdesk.storage.rows import TableWriter

# Parents before children, so foreign keys hold inside every flush.
_TABLES: list[Table] = [
    m.__table__  # type: ignore[misc]
    for m in (
        SignalRow,
        DecisionRow,
        OrderRow,
        TradeRow,
        FillRow,
        PositionRow,
        RiskEventRow,
        AuditLogRow,
    )
]
_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("client_order_id",),
    "trades": ("trade_uid",),
    "positions": ("venue", "symbol"),
}


@dataclass(frozen=True, slots=True)
class Provenance:
    session_id: str
    config_sha: str


def _text(values: tuple[Decimal, ...]) -> list[str]:
    return [format(v, "f") for v in values]


class Journal:
    """Writes the chain with provenance. One instance per running session."""

    def __init__(self, engine: Engine, provenance: Provenance, batch_size: int = 1) -> None:
        self.engine = engine
        self.provenance = provenance
        self.batch_size = batch_size
        self._stamp = {"session_id": provenance.session_id, "config_sha": provenance.config_sha}
        self._inserts: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _TABLES}
        self._upserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {k: {} for k in _KEYS}
        self._pending = 0
        self._plans: set[str] = set()
        self._fills: set[tuple[str, str]] = set()
        self._writers: dict[str, TableWriter] | None = None
        self._background = BackgroundWriter() if batch_size > 1 else None

    # -- buffering -------------------------------------------------------------------
    def _insert(self, table: str, row: dict[str, Any]) -> None:
        row.update(self._stamp)
        self._inserts[table].append(row)
        self._pending += 1

    def _upsert(self, table: str, row: dict[str, Any]) -> None:
        row.update(self._stamp)
        key = tuple(row[k] for k in _KEYS[table])
        self._upserts[table][key] = row
        self._pending += 1

    def _audit(
        self,
        ts: int,
        correlation_id: str | None,
        actor: str,
        action: str,
        entity: str,
        entity_id: object,
        payload: Mapping[str, Any],
    ) -> None:
        self._insert(
            "audit_log",
            {
                "ts": ts,
                "correlation_id": correlation_id,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "payload": payload,
            },
        )
        if self._pending >= self.batch_size:
            self._hand_off()

    def flush(self) -> None:
        """Write everything buffered; returns once it is committed."""
        self._hand_off()
        if self._background is not None:
            self._background.wait()

    def _hand_off(self) -> None:
        """Batched journals write on a background thread (see storage.background);
        write-through journals commit here, before the record call returns."""
        if not self._pending:
            return
        inserts, upserts = self._inserts, self._upserts
        self._inserts = {t.name: [] for t in _TABLES}
        self._upserts = {k: {} for k in _KEYS}
        self._pending = 0
        if self._background is None:
            try:
                self._write(inserts, upserts)
            except IntegrityError:
                raise  # the batch itself is invalid (a duplicate plan): never retried
            except Exception:
                self._restore(inserts, upserts)  # the database is away: retry next time
                raise
        else:
            self._background.submit(lambda: self._write(inserts, upserts))

    def _restore(
        self,
        inserts: dict[str, list[dict[str, Any]]],
        upserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]],
    ) -> None:
        for name, rows in inserts.items():
            self._inserts[name][:0] = rows
        for name, pending in upserts.items():
            self._upserts[name] = {**pending, **self._upserts[name]}
        self._pending += sum(map(len, inserts.values())) + sum(map(len, upserts.values()))

    def _write(
        self,
        inserts: dict[str, list[dict[str, Any]]],
        upserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]],
    ) -> None:
        """One transaction, parents before children."""
        if self._writers is None:
            dialect = self.engine.dialect
            self._writers = {
                t.name: TableWriter(t, dialect, _KEYS.get(t.name, ())) for t in _TABLES
            }
        with self.engine.begin() as connection:
            for table in _TABLES:
                writer = self._writers[table.name]
                writer.write(connection, inserts[table.name])
                if table.name in upserts:
                    writer.write(connection, upserts[table.name].values())

    # -- records ---------------------------------------------------------------------
    def record_signal(self, signal: Signal) -> None:
        self._insert(
            "signals",
            {
                "correlation_id": signal.correlation_id,
                "strategy": signal.strategy,
                "symbol": signal.symbol,
                "side": signal.side.value,
                "ts": signal.ts,
                "entry": signal.entry,
                "stop_loss": signal.stop_loss,
                "targets": _text(signal.targets),
                "strength": signal.strength,
                "rationale": signal.rationale,
                "features": dict(signal.features),
            },
        )
        self._audit(
            signal.ts,
            signal.correlation_id,
            signal.strategy,
            "signal",
            "signals",
            signal.correlation_id,
            {
                "symbol": signal.symbol,
                "side": signal.side.value,
                "entry": signal.entry,
                "stop_loss": signal.stop_loss,
                "targets": signal.targets,
                "strength": signal.strength,
            },
        )

    def record_decision(self, decision: Decision, mode: str) -> None:
        """Persist a plan once; the same `plan_id` again raises `DuplicatePlan`."""
        if decision.plan_id in self._plans:
            raise DuplicatePlan(f"plan {decision.plan_id} was already recorded")
        self._plans.add(decision.plan_id)
        self._insert(
            "decisions",
            {
                "correlation_id": decision.correlation_id,
                "client_plan_id": decision.plan_id,
                "mode": mode,
                "symbol": decision.symbol,
                "side": decision.side.value,
                "quantity": decision.quantity,
                "order_type": decision.order_type.value,
                "entry_price": decision.entry_price,
                "stop_loss": decision.stop_loss,
                "targets": _text(decision.targets),
                "risk_amount": decision.risk_amount,
                "status": decision.status.value,
                "reasons": list(decision.reasons),
                "trail_distance": decision.trail_distance,
                "time_stop_ns": decision.time_stop_ns,
                "ts": decision.ts,
            },
        )
        try:
            self._audit(
                decision.ts,
                decision.correlation_id,
                "risk",
                f"decision.{decision.status.value.lower()}",
                "decisions",
                decision.plan_id,
                {
                    "plan_id": decision.plan_id,
                    "quantity": decision.quantity,
                    "reasons": decision.reasons,
                },
            )
        except IntegrityError as exc:  # the failed batch was already taken off the buffers
            if self._plan_exists(decision.plan_id):
                raise DuplicatePlan(f"plan {decision.plan_id} was already recorded") from exc
            raise

    def _plan_exists(self, plan_id: str) -> bool:
        with self.engine.connect() as connection:
            query = select(DecisionRow.id).where(DecisionRow.client_plan_id == plan_id)
            return connection.scalar(query) is not None

    def _fill_exists(self, key: tuple[str, str]) -> bool:
        """Write-through mode survives restarts: ask the database, not just memory."""
        with self.engine.connect() as connection:
            query = select(FillRow.id).where(
                FillRow.client_order_id == key[0], FillRow.fill_id == key[1]
            )
            return connection.scalar(query) is not None

    def record_order(
        self, order: Order, ts: int, correlation_id: str | None = None, actor: str = "oms"
    ) -> None:
        """Upsert the order's row (keyed by client_order_id), audited each time."""
        self._upsert(
            "orders",
            {
                "client_order_id": order.client_order_id,
                "client_plan_id": order.plan_id or None,
                "venue_order_id": order.venue_order_id,
                "symbol": order.symbol,
                "side": order.side.value,
                "order_type": order.order_type.value,
                "leg": order.leg,
                "quantity": order.quantity,
                "limit_price": order.limit_price,
                "trigger_price": order.trigger_price,
                "time_in_force": order.time_in_force.value,
                "reduce_only": order.reduce_only,
                "status": order.status.value,
                "filled_quantity": order.filled_quantity,
                "avg_fill_price": order.avg_fill_price,
                "fees": order.fees,
                "last_reason": order.last_reason,
            },
        )
        self._audit(
            ts,
            correlation_id,
            actor,
            f"order.{order.status.value.lower()}",
            "orders",
            order.client_order_id,
            {
                "leg": order.leg,
                "status": order.status.value,
                "filled": order.filled_quantity,
                "reason": order.last_reason,
            },
        )

    def record_fill(
        self, fill: Fill, trade_uid: str | None, correlation_id: str | None = None
    ) -> None:
        """Idempotent: a fill reported twice is stored once."""
        key = (fill.client_order_id, fill.fill_id)
        if key in self._fills or (self.batch_size == 1 and self._fill_exists(key)):
            self._fills.add(key)
            return
        self._fills.add(key)
        self._insert(
            "fills",
            {
                "client_order_id": fill.client_order_id,
                "trade_uid": trade_uid,
                "fill_id": fill.fill_id,
                "symbol": fill.symbol,
                "side": fill.side.value,
                "quantity": fill.quantity,
                "price": fill.price,
                "fee": fill.fee,
                "ts": fill.ts,
            },
        )
        self._audit(
            fill.ts,
            correlation_id,
            "venue",
            "fill",
            "fills",
            fill.fill_id,
            {
                "client_order_id": fill.client_order_id,
                "qty": fill.quantity,
                "price": fill.price,
                "fee": fill.fee,
            },
        )

    def record_open_trade(
        self, trade: OpenTrade, plan_id: str | None, ts: int, correlation_id: str | None = None
    ) -> None:
        self._upsert(
            "trades",
            {
                "trade_uid": trade.trade_id,
                "client_plan_id": plan_id,
                "status": "OPEN",
                "symbol": trade.symbol,
                "side": trade.side.value,
                "quantity": trade.quantity,
                "entry_price": trade.entry_price,
                "exit_price": None,
                "entry_ts": trade.entry_ts,
                "exit_ts": None,
                "pnl": trade.pnl,
                "fees": trade.fees,
                "net_pnl": trade.pnl - trade.fees,
                "exit_reason": "",
                "first_fill_id": trade.first_fill_id,
                "slippage_bps": None,
                "latency_ms": None,
            },
        )
        self._audit(
            ts,
            correlation_id,
            "oms",
            "trade.open",
            "trades",
            trade.trade_id,
            {"symbol": trade.symbol, "side": trade.side.value, "qty": trade.quantity},
        )

    def record_trade(
        self,
        trade: Trade,
        plan_id: str | None,
        *,
        slippage_bps: Decimal | None = None,
        latency_ms: float | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Complete a round trip's row when it closes."""
        self._upsert(
            "trades",
            {
                "trade_uid": trade.trade_id,
                "client_plan_id": plan_id,
                "status": "CLOSED",
                "symbol": trade.symbol,
                "side": trade.side.value,
                "quantity": trade.quantity,
                "entry_price": trade.entry_price,
                "exit_price": trade.exit_price,
                "entry_ts": trade.entry_ts,
                "exit_ts": trade.exit_ts,
                "pnl": trade.pnl,
                "fees": trade.fees,
                "net_pnl": trade.net_pnl,
                "exit_reason": trade.exit_reason,
                "first_fill_id": trade.first_fill_id,
                "slippage_bps": slippage_bps,
                "latency_ms": latency_ms,
            },
        )
        self._audit(
            trade.exit_ts,
            correlation_id,
            "oms",
            "trade.closed",
            "trades",
            trade.trade_id,
            {
                "symbol": trade.symbol,
                "pnl": trade.pnl,
                "fees": trade.fees,
                "exit_reason": trade.exit_reason,
            },
        )

    def save_position(self, venue: str, position: Position, ts: int) -> None:
        self._upsert(
            "positions",
            {
                "venue": venue,
                "symbol": position.symbol,
                "quantity": position.quantity,
                "cost": position.cost,
                "realised_pnl": position.realised_pnl,
                "fees": position.fees,
                "updated_at": ts,
            },
        )
        if self._pending >= self.batch_size:
            self._hand_off()

    def record_risk_event(self, event: RiskEvent, correlation_id: str | None = None) -> None:
        self._insert(
            "risk_events",
            {
                "ts": event.ts,
                "code": event.code,
                "severity": event.severity.value,
                "message": event.message,
                "symbol": event.symbol,
                "correlation_id": correlation_id,
                "details": redact(event.details),
            },
        )
        self._audit(
            event.ts,
            correlation_id,
            "risk",
            f"risk.{event.code.lower()}",
            "risk_events",
            event.code,
            {"severity": event.severity.value, "message": event.message},
        )

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
        self._audit(ts, correlation_id, actor, action, "operator", actor, redact(payload))


__all__ = ["DuplicatePlan", "Journal", "Provenance"]
