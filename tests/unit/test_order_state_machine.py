"""Every (state, event) pair: the legal ones land where the design says, the rest raise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.domain import OrderStatus
from quantdesk.domain.errors import IllegalTransition
from quantdesk.domain.order import (
    OrderAccepted,
    OrderAmbiguous,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderExpired,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
)
from tests.testkit.builders import fill_for, filled, order, order_in

S = OrderStatus
EVENTS = {
    "submitted": lambda o: OrderSubmitted(2),
    "accepted": lambda o: OrderAccepted(2, "V9"),
    "rejected": lambda o: OrderRejected(2, "RMS", "margin shortfall"),
    "partial_fill": lambda o: filled(o, "1"),
    "cancel_requested": lambda o: OrderCancelRequested(2),
    "cancel_rejected": lambda o: OrderCancelRejected(2, "too late"),
    "cancelled": lambda o: OrderCancelled(2, "operator"),
    "expired": lambda o: OrderExpired(2),
    "ambiguous": lambda o: OrderAmbiguous(2, "timeout after send"),
    "updated": lambda o: OrderUpdated(2, trigger_price=Decimal("2400")),
}

# Written out by hand from DESIGN.md § Order state machine (+ PENDING_CANCEL and UNKNOWN).
LEGAL = {
    S.NEW: {"submitted": S.SUBMITTED, "rejected": S.REJECTED, "cancelled": S.CANCELLED},
    S.SUBMITTED: {
        "accepted": S.ACCEPTED,
        "rejected": S.REJECTED,
        "partial_fill": S.PARTIALLY_FILLED,
        "cancel_requested": S.PENDING_CANCEL,
        "cancelled": S.CANCELLED,
        "expired": S.EXPIRED,
        "ambiguous": S.UNKNOWN,
    },
    S.ACCEPTED: {
        "partial_fill": S.PARTIALLY_FILLED,
        "cancel_requested": S.PENDING_CANCEL,
        "cancelled": S.CANCELLED,
        "expired": S.EXPIRED,
        "updated": S.ACCEPTED,
    },
    S.PARTIALLY_FILLED: {
        "partial_fill": S.PARTIALLY_FILLED,
        "cancel_requested": S.PENDING_CANCEL,
        "cancelled": S.CANCELLED,
        "expired": S.EXPIRED,
        "updated": S.PARTIALLY_FILLED,
    },
    S.PENDING_CANCEL: {
        "accepted": S.PENDING_CANCEL,
        "partial_fill": S.PENDING_CANCEL,
        "cancel_rejected": S.ACCEPTED,
        "cancelled": S.CANCELLED,
        "expired": S.EXPIRED,
        "ambiguous": S.UNKNOWN,
    },
    S.UNKNOWN: {
        "submitted": S.SUBMITTED,
        "accepted": S.ACCEPTED,
        "rejected": S.REJECTED,
        "partial_fill": S.PARTIALLY_FILLED,
        "cancelled": S.CANCELLED,
        "expired": S.EXPIRED,
    },
    S.FILLED: {},
    S.CANCELLED: {},
    S.REJECTED: {},
    S.EXPIRED: {},
}

PAIRS = [(status, name) for status in S for name in EVENTS]


@pytest.mark.parametrize(("status", "event_name"), PAIRS)
def test_transition(status: OrderStatus, event_name: str) -> None:
    o = order_in(status)
    history = list(o.events)
    event = EVENTS[event_name](o)
    expected = LEGAL[status].get(event_name)
    if expected is None:
        with pytest.raises(IllegalTransition):
            o.apply(event)
        assert o.status is status, "an illegal event must not change the order"
        assert o.events == history
    else:
        assert o.apply(event) is True
        assert o.status is expected
        assert o.events[-1] is event


def test_every_state_is_covered() -> None:
    assert set(LEGAL) == set(S)


@pytest.mark.parametrize(
    "status", [S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.UNKNOWN]
)
def test_fill_of_the_remainder_completes(status: OrderStatus) -> None:
    o = order_in(status)
    o.apply(filled(o, str(o.remaining)))
    assert o.status is S.FILLED
    assert o.remaining == 0


def test_cancel_race_fill_after_cancel_request_is_kept() -> None:
    o = order_in(S.PENDING_CANCEL)
    o.apply(filled(o, "4", "100"))
    assert o.status is S.PENDING_CANCEL
    o.apply(OrderCancelled(3, "cancelled remainder"))
    assert o.status is S.CANCELLED
    assert o.filled_quantity == 4


def test_cancel_rejected_after_partial_fill_returns_to_partially_filled() -> None:
    o = order_in(S.PARTIALLY_FILLED)
    o.apply(OrderCancelRequested(2))
    o.apply(OrderCancelRejected(3, "already matching"))
    assert o.status is S.PARTIALLY_FILLED
    assert o.last_reason == "already matching"


def test_duplicate_fill_is_applied_once() -> None:
    o = order_in(S.ACCEPTED)
    f = fill_for(o, "3", "100")
    from quantdesk.domain.order import OrderFilled

    assert o.apply(OrderFilled(2, f)) is True
    assert o.apply(OrderFilled(3, f)) is False
    assert o.filled_quantity == 3
    assert len(o.events) == 3


def test_overfill_raises_and_changes_nothing() -> None:
    o = order_in(S.ACCEPTED)
    with pytest.raises(IllegalTransition):
        o.apply(filled(o, "11"))
    assert o.filled_quantity == 0
    assert o.status is S.ACCEPTED


def test_fill_of_another_order_is_refused() -> None:
    o = order_in(S.ACCEPTED)
    other = order(cid="q-other")
    with pytest.raises(ValueError, match="does not belong"):
        o.apply(filled(other, "1"))


def test_average_fill_price_and_fees_are_exact() -> None:
    o = order_in(S.ACCEPTED, quantity="3")
    from quantdesk.domain.order import OrderFilled

    o.apply(OrderFilled(2, fill_for(o, "1", "100.10", fee="0.03")))
    o.apply(OrderFilled(3, fill_for(o, "2", "100.25", fee="0.06")))
    assert o.filled_notional == Decimal("300.60")
    assert o.avg_fill_price == Decimal("100.20")
    assert o.fees == Decimal("0.09")


def test_reasons_and_venue_id_are_kept() -> None:
    o = order_in(S.SUBMITTED)
    o.apply(OrderAccepted(2, "UPX-1"))
    assert o.venue_order_id == "UPX-1"
    r = order_in(S.SUBMITTED)
    r.apply(OrderRejected(2, "RMS", "margin shortfall"))
    assert r.last_reason == "RMS"


def test_order_validation() -> None:
    from quantdesk.domain import Order, OrderType, Side

    with pytest.raises(ValueError, match="quantity"):
        Order("q1", "X", Side.BUY, OrderType.MARKET, Decimal(0))
    with pytest.raises(ValueError, match="limit price"):
        Order("q1", "X", Side.BUY, OrderType.LIMIT, Decimal(1))
    with pytest.raises(ValueError, match="trigger"):
        Order("q1", "X", Side.BUY, OrderType.STOP, Decimal(1))
    stop_limit = Order(
        "q1",
        "X",
        Side.BUY,
        OrderType.STOP_LIMIT,
        Decimal(1),
        limit_price=Decimal("101"),
        trigger_price=Decimal("100"),
    )
    assert stop_limit.status is S.NEW
