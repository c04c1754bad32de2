"""Order manager: idempotency, retries, UNKNOWN resolution, rejection records."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain import Bar
from quantdesk.domain.errors import Ambiguous, RateLimited, Rejected, TransientError
from quantdesk.domain.order import OrderStatus
from quantdesk.venues.base import OrderSnapshot
from tests.testkit.desk import T0, decision, scripted_desk

S = OrderStatus


def test_duplicate_submission_with_same_client_order_id_is_a_no_op() -> None:
    engine, venue, oms = scripted_desk()
    first = oms.execute(decision(), Decimal("100"))
    again = oms.execute(decision(), Decimal("100"))
    engine.drain(None)
    assert again is first
    assert venue.submitted == [first.client_order_id]
    assert first.status is S.ACCEPTED


def test_transient_errors_are_retried_with_backoff_then_succeed() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.extend([TransientError("502"), RateLimited("429", retry_after_s=3.0), None])
    order = oms.execute(decision(), Decimal("100"))
    assert order.status is S.NEW and len(venue.submitted) == 1
    engine.drain(None)
    assert order.status is S.ACCEPTED
    assert venue.submitted == [order.client_order_id] * 3
    # 0.25 s after the first failure, then Retry-After (3 s) beats the 0.5 s backoff
    assert engine.now() == T0 + 250_000_000 + 3_000_000_000


def test_rejection_retry_give_up() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.extend([TransientError("timeout before send")] * 10)
    risk = []
    engine.bus.subscribe("risk", risk.append)
    order = oms.execute(decision(), Decimal("100"))
    engine.drain(None)
    assert order.status is S.REJECTED
    assert order.last_reason == "RETRIES_EXHAUSTED"
    assert len(venue.submitted) == oms.retry.max_attempts
    [event] = risk
    assert event.code == "ORDER_REJECTED" and event.details["attempt"] == "4"


def test_venue_rejection_is_final_and_recorded_with_market_state() -> None:
    engine, venue, oms = scripted_desk()
    engine.last_bars["INFY"] = Bar(
        "INFY", T0 - 60_000_000_000, *(Decimal("101.5"),) * 4, Decimal(1)
    )
    venue.submit_script.append(Rejected("MARGIN", "insufficient margin"))
    risk = []
    engine.bus.subscribe("risk", risk.append)
    order = oms.execute(decision(), Decimal("100"))
    engine.drain(None)
    assert order.status is S.REJECTED and len(venue.submitted) == 1
    details = risk[0].details
    assert details["reason"] == "MARGIN" and details["venue_message"] == "insufficient margin"
    assert details["last"] == "101.5" and details["attempt"] == "1"


def test_ambiguous_submit_queries_before_any_resend_found() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.append(Ambiguous("read timeout after send"))
    order = oms.execute(decision(), Decimal("100"))
    assert order.status is S.UNKNOWN
    venue.query_script.append(
        OrderSnapshot(order.client_order_id, "V9", S.ACCEPTED, Decimal(0), None)
    )
    engine.drain(None)
    assert order.status is S.ACCEPTED and order.venue_order_id == "V9"
    assert venue.submitted == [order.client_order_id]  # never re-sent


def test_ambiguous_submit_not_found_is_resent_once_with_the_same_id() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.append(Ambiguous("connection reset"))
    order = oms.execute(decision(), Decimal("100"))
    venue.query_script.extend([TransientError("query 503"), None])
    engine.drain(None)
    assert order.status is S.ACCEPTED
    assert venue.submitted == [order.client_order_id, order.client_order_id]


def test_ambiguous_then_venue_reports_fill_while_unknown() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.append(Ambiguous("timeout"))
    order = oms.execute(decision(qty="5"), Decimal("100"))
    venue.known[order.client_order_id] = order
    venue.fill(order.client_order_id, "5", "100.5")
    venue.query_script.append(
        OrderSnapshot(order.client_order_id, "V1", S.FILLED, Decimal(5), Decimal("100.5"))
    )
    engine.drain(None)
    assert order.status is S.FILLED
    assert oms.book.quantity("INFY") == 5
    assert venue.submitted == [order.client_order_id]


def test_cancel_of_an_unsent_order_never_reaches_the_venue() -> None:
    engine, venue, oms = scripted_desk()
    venue.submit_script.append(TransientError("503"))
    order = oms.execute(decision(), Decimal("100"))
    oms.cancel(order.client_order_id, "operator")
    engine.drain(None)
    assert order.status is S.CANCELLED
    assert venue.cancelled == [] and venue.submitted == [order.client_order_id]


def test_flatten_closes_the_position_and_books_the_trade() -> None:
    engine, venue, oms = scripted_desk()
    trades = []
    engine.bus.subscribe("trade", trades.append)
    order = oms.execute(decision(qty="10"), Decimal("100"))
    engine.drain(None)
    venue.fill(order.client_order_id, "10", "100.20", fee="1.00")
    engine.drain(None)
    exit_order = oms.flatten("INFY", "operator_flatten")
    engine.drain(None)
    venue.fill(exit_order.client_order_id, "10", "99.70", fee="1.00")
    engine.drain(None)
    assert oms.book.quantity("INFY") == 0
    [closed] = trades
    assert closed.trade.pnl == Decimal("-5.00") and closed.trade.fees == 2
    assert closed.trade.exit_reason == "operator_flatten"
    assert closed.slippage_bps == Decimal("20.0000")  # 100.20 vs decision price 100
    assert closed.plan_id == "p1"
