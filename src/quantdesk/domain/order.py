"""Orders and their state machine.

An order changes only through `Order.apply(event)` over `TRANSITIONS`; anything else
raises `IllegalTransition`. UNKNOWN is where an ambiguous venue answer puts an order:
only a venue report (accepted, filled, rejected, cancelled, expired) moves it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from quantdesk.domain.enums import OrderType, Side, TimeInForce
from quantdesk.domain.errors import IllegalTransition
from quantdesk.domain.fill import Fill
from quantdesk.domain.money import ZERO, add, mul


class OrderStatus(StrEnum):
    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    UNKNOWN = "UNKNOWN"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL


TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    ts: int


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    ts: int
    venue_order_id: str = ""


@dataclass(frozen=True, slots=True)
class OrderRejected:
    ts: int
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class OrderFilled:
    ts: int
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderCancelRequested:
    ts: int


@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    ts: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    ts: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired:
    ts: int


@dataclass(frozen=True, slots=True)
class OrderAmbiguous:
    """The venue may or may not have the order (timeout, 5xx, reset after send)."""

    ts: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """The venue confirmed a modify: new limit/trigger price (trailing stops)."""

    ts: int
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None


OrderEvent = (
    OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelRequested
    | OrderCancelRejected
    | OrderCancelled
    | OrderExpired
    | OrderAmbiguous
    | OrderUpdated
)

S = OrderStatus
_WORKING = (S.ACCEPTED, S.PARTIALLY_FILLED)
# A fill moves to PARTIALLY_FILLED or FILLED (or stays PENDING_CANCEL): see Order._after_fill.
TRANSITIONS: dict[type, dict[OrderStatus, OrderStatus]] = {
    # UNKNOWN -> SUBMITTED: the venue confirmed it never saw the order; send it again.
    OrderSubmitted: {S.NEW: S.SUBMITTED, S.UNKNOWN: S.SUBMITTED},
    # the ack of an order we already asked to cancel leaves it pending cancel
    OrderAccepted: {
        S.SUBMITTED: S.ACCEPTED,
        S.UNKNOWN: S.ACCEPTED,
        S.PENDING_CANCEL: S.PENDING_CANCEL,
    },
    OrderRejected: {S.NEW: S.REJECTED, S.SUBMITTED: S.REJECTED, S.UNKNOWN: S.REJECTED},
    OrderFilled: {
        s: S.PARTIALLY_FILLED
        for s in (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.UNKNOWN)
    },
    OrderCancelRequested: {
        S.SUBMITTED: S.PENDING_CANCEL,
        **dict.fromkeys(_WORKING, S.PENDING_CANCEL),
    },
    OrderCancelRejected: {S.PENDING_CANCEL: S.ACCEPTED},  # or PARTIALLY_FILLED: see apply
    OrderCancelled: {
        s: S.CANCELLED
        for s in (S.NEW, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.UNKNOWN)
    },
    OrderExpired: {
        s: S.EXPIRED
        for s in (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.UNKNOWN)
    },
    OrderAmbiguous: {S.SUBMITTED: S.UNKNOWN, S.PENDING_CANCEL: S.UNKNOWN},
    OrderUpdated: {s: s for s in _WORKING},
}


@dataclass(slots=True)
class Order:
    """A request to a venue. Identity is the deterministic `client_order_id`."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    plan_id: str = ""
    leg: str = "entry"
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    reduce_only: bool = False
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    fees: Decimal = ZERO
    venue_order_id: str = ""
    last_reason: str = ""
    fill_ids: set[str] = field(default_factory=set)
    events: list[OrderEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"order {self.client_order_id}: quantity must be positive")
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_trigger = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(
                f"order {self.client_order_id}: {self.order_type} limit price mismatch"
            )
        if needs_trigger != (self.trigger_price is not None):
            raise ValueError(f"order {self.client_order_id}: {self.order_type} trigger mismatch")

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def avg_fill_price(self) -> Decimal | None:
        if self.filled_quantity == 0:
            return None
        return self.filled_notional / self.filled_quantity

    def apply(self, event: OrderEvent) -> bool:
        """Apply one venue/manager event. Returns False for an already-applied fill."""
        targets = TRANSITIONS.get(type(event), {})
        target = targets.get(self.status)
        if target is None:
            raise IllegalTransition(self.client_order_id, self.status.value, type(event).__name__)
        if isinstance(event, OrderFilled):
            if event.fill.fill_id in self.fill_ids:
                return False
            target = self._after_fill(event.fill)
        elif isinstance(event, OrderCancelRejected):
            target = S.PARTIALLY_FILLED if self.filled_quantity else S.ACCEPTED
        elif isinstance(event, OrderUpdated):
            self._update_prices(event)
            target = self.status
        elif isinstance(event, OrderAccepted) and event.venue_order_id:
            self.venue_order_id = event.venue_order_id
        if isinstance(event, OrderRejected | OrderCancelled | OrderAmbiguous | OrderCancelRejected):
            self.last_reason = event.reason
        self.status = target
        self.events.append(event)
        return True

    def _after_fill(self, fill: Fill) -> OrderStatus:
        if fill.client_order_id != self.client_order_id or fill.side is not self.side:
            raise ValueError(f"fill {fill.fill_id} does not belong to order {self.client_order_id}")
        if fill.quantity > self.remaining:
            raise IllegalTransition(
                self.client_order_id,
                self.status.value,
                f"overfill {fill.quantity}>{self.remaining}",
            )
        self.fill_ids.add(fill.fill_id)
        self.filled_quantity = add(self.filled_quantity, fill.quantity)
        self.filled_notional = add(self.filled_notional, mul(fill.quantity, fill.price))
        self.fees = add(self.fees, fill.fee)
        if self.remaining == 0:
            return S.FILLED
        return S.PENDING_CANCEL if self.status is S.PENDING_CANCEL else S.PARTIALLY_FILLED

    def _update_prices(self, event: OrderUpdated) -> None:
        if event.limit_price is not None:
            self.limit_price = event.limit_price
        if event.trigger_price is not None:
            self.trigger_price = event.trigger_price
