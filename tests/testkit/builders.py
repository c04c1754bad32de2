from __future__ import annotations

from decimal import Decimal
from itertools import count

from quantdesk.domain import Fill, Order, OrderStatus, OrderType, Side
from quantdesk.domain.order import (
    OrderAccepted,
    OrderAmbiguous,
    OrderCancelled,
    OrderCancelRequested,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)

_fill_ids = count(1)


def order(quantity: str = "10", side: Side = Side.BUY, cid: str = "q-test") -> Order:
    return Order(
        client_order_id=cid,
        symbol="RELIANCE",
        side=side,
        order_type=OrderType.MARKET,
        quantity=Decimal(quantity),
        plan_id="p-test",
    )


def fill_for(o: Order, quantity: str, price: str = "2450.05", fee: str = "0") -> Fill:
    return Fill(
        fill_id=f"f{next(_fill_ids)}",
        client_order_id=o.client_order_id,
        symbol=o.symbol,
        side=o.side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        ts=1,
        fee=Decimal(fee),
    )


def filled(o: Order, quantity: str, price: str = "2450.05") -> OrderFilled:
    return OrderFilled(ts=1, fill=fill_for(o, quantity, price))


def order_in(status: OrderStatus, quantity: str = "10") -> Order:
    """An order brought to `status` through a legal path."""
    o = order(quantity)
    paths = {
        OrderStatus.NEW: [],
        OrderStatus.SUBMITTED: [OrderSubmitted(1)],
        OrderStatus.ACCEPTED: [OrderSubmitted(1), OrderAccepted(1, "V1")],
        OrderStatus.PARTIALLY_FILLED: [OrderSubmitted(1), OrderAccepted(1, "V1"), filled(o, "1")],
        OrderStatus.PENDING_CANCEL: [OrderSubmitted(1), OrderAccepted(1), OrderCancelRequested(1)],
        OrderStatus.UNKNOWN: [OrderSubmitted(1), OrderAmbiguous(1, "timeout")],
        OrderStatus.FILLED: [OrderSubmitted(1), OrderAccepted(1), filled(o, quantity)],
        OrderStatus.CANCELLED: [OrderSubmitted(1), OrderAccepted(1), OrderCancelled(1)],
        OrderStatus.REJECTED: [OrderSubmitted(1), OrderRejected(1, "MARGIN")],
        OrderStatus.EXPIRED: [OrderSubmitted(1), OrderAccepted(1), OrderExpired(1)],
    }
    for event in paths[status]:
        o.apply(event)
    assert o.status is status
    return o
