"""Quotes that cannot be true are refused, and the desk stops entering on them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.data.quote_firewall import QuoteFirewall
from quantdesk.domain.enums import Side
from quantdesk.domain.market import Quote
from quantdesk.domain.signal import Signal
from tests.testkit.paper import paper_desk, quote

D = Decimal


def q(bid: str | None, ask: str | None, size: str = "100", ts: int = 0) -> Quote:
    return Quote("INFY", ts, D(bid) if bid else None, D(ask) if ask else None, D(size), D(size))


@pytest.mark.parametrize(
    ("bid", "ask", "size", "reason"),
    [
        (None, "100", "100", "MISSING_SIDE"),
        ("0", "100", "100", "NON_POSITIVE"),
        ("-1", "100", "100", "NON_POSITIVE"),
        ("100.10", "100", "100", "CROSSED"),
        ("100", "100.05", "0", "ZERO_SIZE"),
    ],
)
def test_impossible_quotes_are_refused(bid, ask, size, reason) -> None:
    assert QuoteFirewall().check(q(bid, ask, size)) == reason


def test_a_jump_far_outside_recent_volatility_is_refused_and_not_learnt() -> None:
    wall = QuoteFirewall(warmup=20)
    for i in range(40):  # a calm market: 0.05 wiggles around 100
        price = D(100) + (D("0.05") if i % 2 else 0)
        assert wall.check(q(str(price), str(price + D("0.05")))) is None
    assert wall.check(q("110", "110.05")) == "JUMP"
    assert wall.check(q("110", "110.05")) == "JUMP"  # the fault did not widen the band
    assert wall.check(q("100.05", "100.10")) is None


def test_no_jump_test_before_warmup() -> None:
    wall = QuoteFirewall(warmup=20)
    assert wall.check(q("100", "100.05")) is None
    assert wall.check(q("110", "110.05")) is None


def test_a_refused_quote_blocks_entries_until_a_clean_one_and_is_not_matched() -> None:
    desk = paper_desk()
    engine = desk.engine
    quote(desk, "INFY", "100")
    events, decisions = [], []
    engine.bus.subscribe("risk", events.append)
    engine.bus.subscribe("decision", decisions.append)
    engine.on_quote(Quote("INFY", engine.now() + 1, D("101"), D("100"), D(10), D(10)))
    assert engine.firewall == {"INFY": "CROSSED"}
    assert engine.last_price("INFY") == D(100)  # the last good quote stays in force
    stop, target = D(95), D(110)
    signal = Signal("s", "INFY", Side.BUY, engine.now(), stop_loss=stop, targets=(target,))
    engine.submit_signal(signal)
    assert not desk.oms.orders
    assert "BAD_QUOTE" in decisions[0].reasons
    assert [e.code for e in events] == ["QUOTE_REFUSED"]
    quote(desk, "INFY", "100")
    assert engine.firewall == {}
    assert [e.code for e in events] == ["QUOTE_REFUSED", "QUOTE_CLEAN"]
