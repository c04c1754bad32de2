"""Kill switch: entries stop, every order cancelled, every position flat — verified."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.enums import Mode, Side
from quantdesk.domain.order import OrderStatus
from quantdesk.domain.signal import Signal
from tests.testkit.paper import open_brackets, paper_desk, quote

SYMBOLS = [f"S{n:02d}" for n in range(50)]


def test_kill_switch_flattens_fifty_bracketed_positions_and_leaves_no_orphans() -> None:
    desk = paper_desk()
    open_brackets(desk, SYMBOLS)
    assert all(desk.oms.book.quantity(s) == Decimal(10) for s in SYMBOLS)
    working = [o for o in desk.oms.open_orders() if o.leg != "entry"]
    assert len(working) == 150  # stop + TP1 + TP2 each

    desk.kill_switch.engage("test", actor="ops")
    assert desk.engine.risk.trading_state.value == "HALTED"
    for symbol in SYMBOLS:
        quote(desk, symbol, "99")  # market exits fill at the bid
    desk.engine.drain(None)

    assert desk.kill_switch.is_flat()
    assert desk.kill_switch.flat_after_ms is not None
    assert all(desk.oms.book.quantity(s) == 0 for s in SYMBOLS)
    assert desk.venue.open_orders() == []  # the venue agrees: nothing left working
    assert not any(o.status.is_open for o in desk.oms.orders.values())


def test_no_entry_passes_while_the_kill_switch_is_engaged_and_after_release_it_does() -> None:
    desk = paper_desk()
    quote(desk, "INFY")
    desk.kill_switch.engage("test")
    signal = Signal(
        strategy="t", symbol="INFY", side=Side.BUY, ts=desk.engine.now(), quantity=Decimal(1)
    )
    desk.engine.submit_signal(signal)
    assert desk.oms.open_orders() == []
    assert desk.engine.log.lines[-1].split("|")[5] == "REFUSED"

    desk.kill_switch.release()
    quote(desk, "INFY")
    again = Signal(
        strategy="t", symbol="INFY", side=Side.BUY, ts=desk.engine.now(), quantity=Decimal(1)
    )
    desk.engine.submit_signal(again)
    assert [o.status for o in desk.oms.open_orders()] == [OrderStatus.SUBMITTED]
    assert desk.engine.mode is Mode.PAPER


def test_engaging_twice_is_one_engagement() -> None:
    desk = paper_desk()
    open_brackets(desk, ["INFY"])
    desk.kill_switch.engage("first")
    exits = [o for o in desk.oms.orders.values() if o.leg.startswith("exit")]
    quote(desk, "TCS")  # time moves on: a second flatten would mint a new exit id
    desk.kill_switch.engage("second")
    assert [o for o in desk.oms.orders.values() if o.leg.startswith("exit")] == exits
    engaged = [line for line in desk.engine.log.lines if "kill_switch.engage" in line]
    assert len(engaged) == 1
