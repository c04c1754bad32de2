"""The JSON form of bus events: exact decimals, enum values, UTC times, redaction."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.domain import OrderStatus, Side, Signal
from quantdesk.domain.actions import Action
from quantdesk.domain.enums import Mode, Severity
from quantdesk.domain.order import OrderAccepted, OrderSubmitted
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.signal import Decision, DecisionStatus
from quantdesk.domain.time import to_datetime
from quantdesk.domain.trade import Trade
from quantdesk.execution.book import ClosedTrade
from quantdesk.obs.events import encode, heartbeat, iso_time, to_message
from tests.testkit.builders import fill_for, filled, order, order_in
from tests.testkit.desk import T0, decision

D = Decimal
FLOAT_FIELDS = {"strength", "features", "latency_ms"}  # statistics, never money


def wire(message: dict) -> dict:
    """What a subscriber reads: the message through JSON and back."""
    return json.loads(encode(message))


def closed_trade() -> ClosedTrade:
    trade = Trade(
        symbol="BTCUSDT",
        side=Side.SELL,
        quantity=D("0.00000001"),
        entry_price=D("98765.43210987"),
        exit_price=D("98000.5"),
        entry_ts=T0,
        exit_ts=T0 + 90_000_000_123,
        pnl=D("0.0000076493210987"),
        fees=D("0.00000002"),
        first_fill_id="f-entry",
        exit_reason="target",
    )
    return ClosedTrade(trade, "p1", D("1.2345"), 12.5)


def assert_no_float_money(message: dict) -> None:
    for key, value in message.items():
        if isinstance(value, float):
            assert key in FLOAT_FIELDS, f"{key} is a float"


def test_signal_message() -> None:
    signal = Signal(
        "sma_cross",
        "BTCUSDT",
        Side.BUY,
        T0,
        entry=D("98765.43210987"),
        stop_loss=D("0.00000001"),
        targets=(D("100000"), D("1E+5")),
        strength=0.75,
        features={"z": 1.5},
        quantity=D("0.5"),
    )
    msg = wire(to_message("signal", signal))
    assert msg["type"] == "signal" and msg["side"] == "BUY"
    assert msg["entry"] == "98765.43210987" and D(msg["entry"]) == signal.entry
    assert msg["stop_loss"] == "0.00000001"  # plain notation, not 1E-8
    assert msg["targets"] == ["100000", "100000"]
    assert msg["quantity"] == "0.5" and msg["trail_distance"] is None
    assert msg["strength"] == 0.75 and msg["features"] == {"z": 1.5}
    assert (msg["plan_id"], msg["correlation_id"]) == (signal.plan_id, signal.correlation_id)
    assert msg["ts"] == T0 and datetime.fromisoformat(msg["time"]) == to_datetime(T0)
    assert_no_float_money(msg)


def test_decision_messages_approved_and_refused() -> None:
    approved = decision(stop="95.05", targets=("110", "120.5"), trail="2.5")
    msg = wire(to_message("decision", approved))
    assert msg["type"] == "decision" and msg["status"] == "APPROVED"
    assert msg["order_type"] == "MARKET" and msg["side"] == "BUY"
    assert D(msg["quantity"]) == approved.quantity and msg["stop_loss"] == "95.05"
    assert msg["targets"] == ["110", "120.5"] and msg["trail_distance"] == "2.5"
    assert msg["risk_amount"] == "0" and msg["reasons"] == []
    refused = Decision(
        "p2", "c2", "INFY", Side.SELL, D(0), T0, DecisionStatus.REFUSED, reasons=("HEAT_CAP",)
    )
    msg = wire(to_message("decision", refused))
    assert msg["status"] == "REFUSED" and msg["reasons"] == ["HEAT_CAP"]
    assert msg["side"] == "SELL" and msg["entry_price"] is None


def test_order_message_is_a_snapshot_of_that_status() -> None:
    o = order_in(OrderStatus.PARTIALLY_FILLED, quantity="10")
    msg = to_message("order", o)
    o.apply(filled(o, "9", "2450.10"))
    assert msg["status"] == "PARTIALLY_FILLED" and o.status is OrderStatus.FILLED
    msg = wire(msg)
    assert msg["type"] == "order" and msg["last_event"] == "OrderFilled"
    assert msg["filled_quantity"] == "1" and msg["quantity"] == "10"
    assert D(msg["filled_notional"]) == D("2450.05")
    assert msg["venue_order_id"] == "V1" and msg["time_in_force"] == "DAY"
    assert msg["ts"] == 1 and msg["time"] == "1970-01-01T00:00:00.000000001Z"
    assert_no_float_money(msg)


def test_order_without_events_has_no_time() -> None:
    msg = wire(to_message("order", order()))
    assert msg["status"] == "NEW" and msg["ts"] is None and msg["time"] is None
    o = order()
    o.apply(OrderSubmitted(T0))
    o.apply(OrderAccepted(T0 + 5, "V9"))
    msg = to_message("order", o)
    assert msg["ts"] == T0 + 5 and msg["status"] == "ACCEPTED"


def test_fill_message_keeps_exact_decimals() -> None:
    fill = fill_for(order(side=Side.SELL), "0.00000001", price="98765.43210987", fee="0.0001")
    msg = wire(to_message("fill", fill))
    assert msg["type"] == "fill" and msg["side"] == "SELL"
    assert D(msg["price"]) == fill.price and msg["price"] == "98765.43210987"
    assert msg["quantity"] == "0.00000001" and D(msg["fee"]) == fill.fee
    assert D(msg["notional"]) == fill.notional
    assert msg["client_order_id"] == fill.client_order_id and msg["fill_id"] == fill.fill_id
    assert_no_float_money(msg)


@given(
    st.decimals(min_value=D("1E-12"), max_value=D("1E+12"), allow_nan=False, places=None).filter(
        lambda d: d > 0
    )
)
def test_any_price_survives_the_wire(price: Decimal) -> None:
    fill = fill_for(order(), "1", price=str(price))
    assert D(wire(to_message("fill", fill))["price"]) == fill.price


def test_trade_message() -> None:
    closed = closed_trade()
    msg = wire(to_message("trade", closed))
    t = closed.trade
    assert msg["type"] == "trade" and msg["trade_id"] == t.trade_id and msg["plan_id"] == "p1"
    assert msg["ts"] == t.exit_ts and msg["exit_ts"] == t.exit_ts and msg["entry_ts"] == T0
    assert msg["exit_time"] == msg["time"] == iso_time(t.exit_ts)
    assert msg["time"].endswith(".000000123Z")  # nanoseconds kept
    for field in ("quantity", "entry_price", "exit_price", "pnl", "fees", "net_pnl"):
        assert D(msg[field]) == getattr(t, field), field
    assert msg["net_pnl"] == "0.0000076293210987"
    assert msg["slippage_bps"] == "1.2345" and msg["latency_ms"] == 12.5
    assert msg["side"] == "SELL" and msg["exit_reason"] == "target"
    assert_no_float_money(msg)
    bare = wire(to_message("trade", t))  # a plain Trade is accepted too
    assert bare["plan_id"] is None and bare["slippage_bps"] is None and bare["pnl"] == msg["pnl"]


def test_risk_message_redacts_secrets() -> None:
    event = RiskEvent(
        T0,
        "LIVE_GATE",
        Severity.CRITICAL,
        "refused",
        symbol="INFY",
        details={"password": "pw-77a1", "limit": "5"},
    )
    msg = wire(to_message("risk", event))
    assert msg["type"] == "risk" and msg["severity"] == "CRITICAL" and msg["code"] == "LIVE_GATE"
    assert msg["details"] == {"password": "****", "limit": "5"} and msg["symbol"] == "INFY"
    assert "pw-77a1" not in encode(to_message("risk", event)).decode()


def test_action_message() -> None:
    action = Action("risk.state", {"state": "HALTED", "api_key": "s3cret"}, T0)
    msg = wire(to_message("action", action))
    assert msg == {
        "type": "action",
        "ts": T0,
        "time": iso_time(T0),
        "action": "risk.state",
        "payload": {"state": "HALTED", "api_key": "****"},
    }


def test_heartbeat() -> None:
    msg = wire(heartbeat(T0, queued=3, equity=D("1000000.50"), mode=Mode.PAPER, lag=[D("0.1")]))
    assert msg["type"] == "heartbeat" and msg["ts"] == T0 and msg["time"] == iso_time(T0)
    assert msg["queued"] == 3 and msg["equity"] == "1000000.50" and msg["mode"] == "PAPER"
    assert msg["lag"] == ["0.1"]
    with pytest.raises(ValueError, match="reserved"):
        heartbeat(T0, type="x")


def test_iso_time_is_utc_with_nanoseconds() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000000000Z"
    assert iso_time(T0 + 7) == to_datetime(T0).strftime("%Y-%m-%dT%H:%M:%S.%f") + "007Z"
    assert datetime.fromisoformat(iso_time(T0)) == to_datetime(T0)


def test_unknown_events_raise_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="no message form for bus topic 'bar'"):
        to_message("bar", object())
    with pytest.raises(TypeError, match="'fill' carries Fill, got Order"):
        to_message("fill", order())
    with pytest.raises(TypeError, match="'action' carries Action"):
        to_message("action", ("only-a-name",))
