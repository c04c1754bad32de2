"""End of a finite data source: close whatever is still open at the last close."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.desk import Desk
from quantdesk.domain.market import Bar

END_OF_DATA = "end_of_data"
_UNLIMITED = Decimal(10) ** 18


def close_out(desk: Desk, last: dict[str, Bar]) -> None:
    """Flatten every symbol at its last bar's close; the trade's exit reason is end_of_data."""
    engine, oms = desk.engine, desk.oms
    if desk.feed_watch is not None:
        desk.feed_watch.stop()
    for symbol in sorted(last):
        if oms.book.quantity(symbol) != 0 or oms.open_orders(symbol):
            oms.flatten(symbol, END_OF_DATA)
    engine.drain(None)  # acks (venue latency) and whatever else is still queued
    for symbol, bar in sorted(last.items()):
        if oms.book.quantity(symbol) != 0:
            close = bar.close
            engine.settle(Bar(symbol, engine.now(), close, close, close, close, _UNLIMITED, 0))
    engine.drain(None)
