"""The contract every venue adapter meets, and what it reports back.

The engine core is synchronous: adapters are called from handlers and must return
quickly. What happens later at the venue (acks, fills, cancels) comes back as
`OrderUpdate`s delivered through `VenueContext.schedule`, stamped with the time they
occur, so the paper venue and a live adapter look the same to the order manager.

Methods (required unless noted):
- submit(order): raises Rejected (refused before reaching the book), TransientError
  (certainly not placed) or Ambiguous (maybe placed: the order becomes UNKNOWN).
- cancel(client_order_id): the confirmation, or a fill that raced it, arrives as updates.
- modify(client_order_id, ...): optional (`capabilities.modify`); confirmed by OrderUpdated.
- query_order(client_order_id): resolves UNKNOWN orders; None = the venue never saw it.
- open_orders() / positions() / balances(): reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from quantdesk.domain.order import Order, OrderEvent, OrderStatus


@dataclass(frozen=True, slots=True)
class Capabilities:
    native_oco: bool = False
    native_stop: bool = True
    shorting: bool = True
    partial_fills: bool = True
    modify: bool = True


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A venue report about one of our orders, as a domain order event."""

    client_order_id: str
    event: OrderEvent


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """The venue's view of an order, for UNKNOWN resolution and reconciliation."""

    client_order_id: str
    venue_order_id: str
    status: OrderStatus
    filled_quantity: Decimal
    avg_fill_price: Decimal | None


class VenueContext(Protocol):
    """What the engine lends a venue: its clock and a way to deliver future events."""

    def now(self) -> int: ...

    def schedule(self, ts: int, callback: Callable[[object], None], payload: object) -> None: ...


class Venue(Protocol):
    name: str
    capabilities: Capabilities

    def submit(self, order: Order) -> None: ...

    def cancel(self, client_order_id: str) -> None: ...

    def modify(
        self,
        client_order_id: str,
        *,
        limit_price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None: ...

    def query_order(self, client_order_id: str) -> OrderSnapshot | None: ...

    def open_orders(self) -> list[OrderSnapshot]: ...

    def positions(self) -> dict[str, Decimal]: ...

    def balances(self) -> dict[str, Decimal]: ...
