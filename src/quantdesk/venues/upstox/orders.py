"""Orders on the Upstox wire: what we send (place, modify) and what the book reports.

Our order types map onto Upstox's as STOP -> `SL-M` and STOP_LIMIT -> `SL`; every order is
an intraday (`I`) DAY order, and our client order id travels as its `tag`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.errors import Rejected
from quantdesk.domain.order import Order, OrderStatus
from quantdesk.venues.base import OrderSnapshot
from quantdesk.venues.upstox.errors import (
    INVALID_ORDER,
    INVALID_PRICE,
    INVALID_QUANTITY,
    reason_for_message,
)
from quantdesk.venues.upstox.payloads import (
    ZERO,
    PayloadError,
    dec,
    dumps,
    ist_ns,
    side_of,
    string,
    symbol_of,
)

INTRADAY = "I"
ORDER_TYPES: Mapping[OrderType, str] = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "SL-M",
    OrderType.STOP_LIMIT: "SL",
}
_FROM_UPSTOX_TYPE = {wire: ours for ours, wire in ORDER_TYPES.items()}
# Upstox order statuses -> ours; a working status with fills becomes PARTIALLY_FILLED.
_WORKING = (
    "open",
    "trigger pending",
    "modify validation pending",
    "modify pending",
    "modified",
    "not modified",
    "not cancelled",
    "after market order req received",
    "modify after market order req received",
)
STATUSES: Mapping[str, OrderStatus] = {
    **dict.fromkeys(
        ("put order req received", "validation pending", "open pending"), OrderStatus.SUBMITTED
    ),
    **dict.fromkeys(_WORKING, OrderStatus.ACCEPTED),
    "cancel pending": OrderStatus.PENDING_CANCEL,
    "complete": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "cancelled after market order": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}


@dataclass(frozen=True, slots=True)
class UpstoxOrder:
    """One order as the order book, order details or order history report it."""

    order_id: str
    tag: str | None
    instrument_token: str
    trading_symbol: str
    side: Side
    order_type: OrderType
    product: str
    validity: str
    quantity: Decimal
    price: Decimal
    trigger_price: Decimal
    average_price: Decimal
    filled_quantity: Decimal
    pending_quantity: Decimal
    venue_status: str
    status_message: str | None
    exchange_order_id: str | None
    order_ts: int | None
    exchange_ts: int | None

    @property
    def status(self) -> OrderStatus:
        """Our status; an Upstox status we do not know is UNKNOWN, never a guess."""
        status = STATUSES.get(self.venue_status.lower(), OrderStatus.UNKNOWN)
        if status is OrderStatus.ACCEPTED and self.filled_quantity > 0:
            return OrderStatus.PARTIALLY_FILLED
        return status

    @property
    def rejection_reason(self) -> str | None:
        """Our reason code for a rejected order, read from the RMS/exchange message."""
        if self.status is not OrderStatus.REJECTED:
            return None
        return reason_for_message(self.status_message)

    def snapshot(self) -> OrderSnapshot:
        """The `Venue.query_order` answer; our client order id is the order's tag."""
        return OrderSnapshot(
            client_order_id=self.tag or "",
            venue_order_id=self.order_id,
            status=self.status,
            filled_quantity=self.filled_quantity,
            avg_fill_price=self.average_price if self.filled_quantity > 0 else None,
        )


def parse_order(item: object) -> UpstoxOrder:
    if not isinstance(item, dict):
        raise PayloadError(f"an order should be an object, got {type(item).__name__}")
    wire_type = item.get("order_type")
    if wire_type not in _FROM_UPSTOX_TYPE:
        raise PayloadError(f"unknown order_type {wire_type!r}")
    tag = item.get("tag")
    return UpstoxOrder(
        order_id=string(item, "order_id"),
        tag=tag if isinstance(tag, str) and tag else None,
        instrument_token=string(item, "instrument_token"),
        trading_symbol=symbol_of(item),
        side=side_of(item),
        order_type=_FROM_UPSTOX_TYPE[wire_type],
        product=str(item.get("product") or ""),
        validity=str(item.get("validity") or ""),
        quantity=dec(item, "quantity"),
        price=dec(item, "price", ZERO),
        trigger_price=dec(item, "trigger_price", ZERO),
        average_price=dec(item, "average_price", ZERO),
        filled_quantity=dec(item, "filled_quantity", ZERO),
        pending_quantity=dec(item, "pending_quantity", ZERO),
        venue_status=string(item, "status"),
        status_message=item.get("status_message") or None,
        exchange_order_id=item.get("exchange_order_id") or None,
        order_ts=ist_ns(item.get("order_timestamp")),
        exchange_ts=ist_ns(item.get("exchange_timestamp")),
    )


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    """One intraday DAY order; `tag` is our client order id (idempotency key)."""

    tag: str
    instrument_token: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    product: str = INTRADAY

    @classmethod
    def from_order(cls, order: Order, instrument_token: str) -> PlaceRequest:
        return cls(
            order.client_order_id,
            instrument_token,
            order.side,
            order.order_type,
            order.quantity,
            order.limit_price,
            order.trigger_price,
        )

    def body(self) -> bytes:
        """The v3 place-order body. `slice` is off: one request must be one order, or a tag
        would name several and idempotency by tag would break."""
        if not self.tag:
            raise Rejected(INVALID_ORDER, "a tag (our client order id) is required")
        limit, trigger = _prices(self.order_type, self.price, self.trigger_price)
        return dumps(
            {
                "quantity": _whole(self.quantity),
                "product": self.product,
                "validity": "DAY",
                "price": limit,
                "tag": self.tag,
                "instrument_token": self.instrument_token,
                "order_type": ORDER_TYPES[self.order_type],
                "transaction_type": self.side.value,
                "disclosed_quantity": 0,
                "trigger_price": trigger,
                "is_amo": False,
                "slice": False,
            }
        )


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    """The whole working order restated with new prices: v3 modify requires every field."""

    order_id: str
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None

    def body(self) -> bytes:
        limit, trigger = _prices(self.order_type, self.price, self.trigger_price)
        return dumps(
            {
                "quantity": _whole(self.quantity),
                "validity": "DAY",
                "price": limit,
                "order_id": self.order_id,
                "order_type": ORDER_TYPES[self.order_type],
                "disclosed_quantity": 0,
                "trigger_price": trigger,
            }
        )


def _whole(quantity: Decimal) -> int:
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise Rejected(INVALID_QUANTITY, f"quantity must be a positive whole number: {quantity}")
    return int(quantity)


def _prices(
    order_type: OrderType, price: Decimal | None, trigger: Decimal | None
) -> tuple[Decimal | int, Decimal | int]:
    """(price, trigger_price) on the wire: 0 where the order type takes none."""
    needs_price = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_trigger = order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for needed, value, name in ((needs_price, price, "price"), (needs_trigger, trigger, "trigger")):
        if needed and (value is None or value <= 0):
            raise Rejected(INVALID_PRICE, f"{order_type} needs a positive {name}, got {value}")
        if not needed and value is not None:
            raise Rejected(INVALID_PRICE, f"{order_type} takes no {name}, got {value}")
    return (price if needs_price and price else 0), (trigger if needs_trigger and trigger else 0)


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The venue took the request (not that the order traded); `latency_ms` is Upstox's
    own processing time from the v3 `metadata`."""

    order_id: str
    latency_ms: int | None = None


def parse_ack(payload: Mapping[str, Any], order_id: str | None = None) -> OrderAck:
    """A v3 answer: place gives `data.order_ids` (exactly one, slicing is off), modify and
    cancel give `data.order_id` (`order_id`, the one we asked about, if it is missing)."""
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    ids = data.get("order_ids", [data.get("order_id") or order_id])
    if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str) or not ids[0]:
        raise PayloadError(f"expected exactly one order id, got {ids!r}")
    metadata = payload.get("metadata")
    latency = metadata.get("latency") if isinstance(metadata, dict) else None
    ok = isinstance(latency, int) and not isinstance(latency, bool)
    return OrderAck(ids[0], latency if ok else None)
