"""The order manager's ports: what it needs from the engine and from persistence.

Protocols keep `execution` free of imports from `engine` and `storage` (dependencies
point downwards); the engine and the journal satisfy them structurally.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from quantdesk.domain.fill import Fill
from quantdesk.domain.order import Order
from quantdesk.domain.position import Position
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.trade import OpenTrade, Trade


class ExecutionContext(Protocol):
    """What the engine provides: its clock, its queue, the last market state, the bus."""

    def now(self) -> int: ...

    def schedule(self, ts: int, callback: Callable[[object], None], payload: object) -> None: ...

    def market_state(self, symbol: str) -> dict[str, str]: ...

    def publish(self, topic: str, event: object) -> None: ...


class ChainRecorder(Protocol):
    """Persistence of the chain (`storage.journal.Journal` in practice)."""

    def record_order(
        self, order: Order, ts: int, correlation_id: str | None = None, actor: str = "oms"
    ) -> None: ...

    def record_fill(
        self, fill: Fill, trade_uid: str | None, correlation_id: str | None = None
    ) -> None: ...

    def record_open_trade(
        self, trade: OpenTrade, plan_id: str | None, ts: int, correlation_id: str | None = None
    ) -> None: ...

    def record_trade(
        self,
        trade: Trade,
        plan_id: str | None,
        *,
        slippage_bps: Decimal | None = None,
        latency_ms: float | None = None,
        correlation_id: str | None = None,
    ) -> None: ...

    def save_position(self, venue: str, position: Position, ts: int) -> None: ...

    def record_risk_event(self, event: RiskEvent, correlation_id: str | None = None) -> None: ...


class Log(Protocol):
    def add(self, *fields: object) -> None: ...
