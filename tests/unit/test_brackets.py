"""Brackets through the order manager: children follow fills, OCO holds, stops trail."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.order import OrderStatus
from quantdesk.domain.time import NS_PER_S
from tests.testkit.desk import decision, scripted_desk

S = OrderStatus
D = Decimal


def working(oms, role: str):
    """The working child order for a role (stop, tp1, tp2), if any."""
    found = [o for o in oms.open_orders() if o.leg.split(".")[0] == role]
    assert len(found) <= 1, found
    return found[0] if found else None


def open_bracket(qty="10", side=Side.BUY, stop="95", targets=("105", "110"), trail=None):
    engine, venue, oms = scripted_desk()
    trades = []
    engine.bus.subscribe("trade", trades.append)
    entry = oms.execute(
        decision(qty=qty, side=side, stop=stop, targets=targets, trail=trail), D("100")
    )
    engine.drain(None)
    return engine, venue, oms, entry, trades


def test_entry_fill_places_stop_and_two_targets() -> None:
    engine, venue, oms, entry, _ = open_bracket()
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    stop, tp1, tp2 = working(oms, "stop"), working(oms, "tp1"), working(oms, "tp2")
    assert (stop.order_type, stop.side, stop.quantity, stop.trigger_price) == (
        OrderType.STOP,
        Side.SELL,
        10,
        95,
    )
    assert (tp1.order_type, tp1.quantity, tp1.limit_price) == (OrderType.LIMIT, 5, 105)
    assert (tp2.quantity, tp2.limit_price) == (5, 110)
    assert all(o.reduce_only for o in (stop, tp1, tp2))


def test_tp1_then_tp2_with_stop_resized_and_moved_to_entry() -> None:
    engine, venue, oms, entry, trades = open_bracket()
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    first_stop, tp1, tp2 = working(oms, "stop"), working(oms, "tp1"), working(oms, "tp2")
    venue.fill(tp1.client_order_id, "5", "105")
    engine.drain(None)
    stop = working(oms, "stop")
    assert first_stop.status is S.CANCELLED
    assert (stop.quantity, stop.trigger_price) == (5, 100)  # rest of position, at entry
    assert working(oms, "tp2") is tp2 and tp2.quantity == 5
    venue.fill(tp2.client_order_id, "5", "110")
    engine.drain(None)
    assert stop.status is S.CANCELLED
    assert oms.open_orders() == []
    [closed] = trades
    assert closed.trade.pnl == D(75) and closed.trade.exit_reason == "target"


def test_stop_after_tp1_closes_the_rest_at_entry_and_cancels_tp2() -> None:
    engine, venue, oms, entry, trades = open_bracket()
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    venue.fill(working(oms, "tp1").client_order_id, "5", "105")
    engine.drain(None)
    tp2, stop = working(oms, "tp2"), working(oms, "stop")
    venue.fill(stop.client_order_id, "5", "100")
    engine.drain(None)
    assert tp2.status is S.CANCELLED and oms.open_orders() == []
    assert oms.book.quantity("INFY") == 0
    assert trades[0].trade.pnl == D(25) and trades[0].trade.exit_reason == "stop"


def test_stop_fill_cancels_both_targets() -> None:
    engine, venue, oms, entry, trades = open_bracket()
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    tp1, tp2 = working(oms, "tp1"), working(oms, "tp2")
    venue.fill(working(oms, "stop").client_order_id, "10", "94.5")
    engine.drain(None)
    assert tp1.status is S.CANCELLED and tp2.status is S.CANCELLED
    assert trades[0].trade.pnl == D(-55)


def test_partial_entry_fills_resize_children() -> None:
    engine, venue, oms, entry, _ = open_bracket(qty="10")
    venue.fill(entry.client_order_id, "4", "100")
    engine.drain(None)
    assert working(oms, "stop").quantity == 4
    assert (working(oms, "tp1").quantity, working(oms, "tp2").quantity) == (2, 2)
    venue.fill(entry.client_order_id, "6", "100")
    engine.drain(None)
    assert working(oms, "stop").quantity == 10
    assert (working(oms, "tp1").quantity, working(oms, "tp2").quantity) == (5, 5)
    live = sum(o.remaining for o in oms.open_orders() if o.leg.startswith("stop"))
    assert live == 10  # exactly one stop covering the position: no stale stop left


def test_partial_target_fill_shrinks_the_stop() -> None:
    engine, venue, oms, entry, _ = open_bracket()
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    venue.fill(working(oms, "tp1").client_order_id, "2", "105")
    engine.drain(None)
    assert working(oms, "stop").quantity == 8
    assert working(oms, "tp1").remaining == 3


def test_stopped_out_while_entry_still_working_cancels_the_entry() -> None:
    engine, venue, oms, entry, _ = open_bracket()
    venue.fill(entry.client_order_id, "4", "100")
    engine.drain(None)
    venue.fill(working(oms, "stop").client_order_id, "4", "95")
    engine.drain(None)
    assert entry.status is S.CANCELLED and oms.open_orders() == []


def test_trailing_stop_long_only_ratchets_up() -> None:
    engine, venue, oms, entry, _ = open_bracket(trail="3")
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    stop = working(oms, "stop")
    oms.on_price("INFY", D("104"), D("99"))  # 104 - 3 = 101 > 95
    oms.on_price("INFY", D("102"), D("97"))  # 99 < 101: no loosening
    oms.on_price("INFY", D("106.5"), D("103"))
    engine.drain(None)
    assert venue.modified == [(stop.client_order_id, D("101")), (stop.client_order_id, D("103.5"))]
    assert stop.trigger_price == D("103.5")


def test_trailing_stop_short_only_ratchets_down() -> None:
    engine, venue, oms, entry, _ = open_bracket(
        side=Side.SELL, stop="105", targets=("95",), trail="2"
    )
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    stop = working(oms, "stop")
    assert stop.side is Side.BUY and working(oms, "tp1").quantity == 10
    oms.on_price("INFY", D("101"), D("97"))  # 97 + 2 = 99 < 105
    oms.on_price("INFY", D("103"), D("99.5"))  # 101.5 > 99: ignored
    engine.drain(None)
    assert venue.modified == [(stop.client_order_id, D("99"))]


def test_time_stop_exits_after_the_holding_period() -> None:
    engine, venue, oms = scripted_desk()
    trades = []
    engine.bus.subscribe("trade", trades.append)
    entry = oms.execute(decision(qty="10", stop="95", time_stop_ns=600 * NS_PER_S), D("100"))
    engine.drain(None)
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(engine.now())
    start = engine.now()
    engine.drain(start + 599 * NS_PER_S)
    assert oms.book.quantity("INFY") == 10
    engine.drain(start + 600 * NS_PER_S)
    [exit_order] = [o for o in oms.orders.values() if o.leg.startswith("exit")]
    assert working(oms, "stop") is None  # the bracket was cancelled first
    venue.fill(exit_order.client_order_id, "10", "101")
    engine.drain(None)
    assert trades[0].trade.exit_reason == "time_stop" and trades[0].trade.pnl == 10


def test_watcher_replaces_a_stop_the_venue_refused() -> None:
    from quantdesk.domain.errors import Rejected

    engine, venue, oms, entry, _ = open_bracket()
    risk = []
    engine.bus.subscribe("risk", risk.append)
    venue.submit_script.append(Rejected("SL_REFUSED", "stop orders disabled for this scrip"))
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    codes = [e.code for e in risk]
    assert codes == ["ORDER_REJECTED", "NAKED_POSITION"]
    stop = working(oms, "stop")
    assert stop is not None and stop.quantity == 10 and stop.leg == "stop.2"


def test_watcher_flattens_a_double_exit() -> None:
    engine, venue, oms, entry, trades = open_bracket()
    risk = []
    engine.bus.subscribe("risk", risk.append)
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    # the venue fills the stop and TP1 in the same instant: OCO broken at the venue
    venue.fill(working(oms, "stop").client_order_id, "10", "95")
    venue.fill(working(oms, "tp1").client_order_id, "5", "105")
    engine.drain(None)
    assert [e.code for e in risk] == ["DOUBLE_EXIT"]
    assert oms.book.quantity("INFY") == -5
    [repair] = [o for o in oms.open_orders() if o.leg.startswith("exit")]
    assert (repair.side, repair.quantity) == (Side.BUY, 5)
    venue.fill(repair.client_order_id, "5", "105")
    engine.drain(None)
    assert oms.book.quantity("INFY") == 0
    assert [t.trade.pnl for t in trades] == [D(-50), D(0)]  # stop loss; the accidental short
