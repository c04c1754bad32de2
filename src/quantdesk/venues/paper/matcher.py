"""Pure matching rules: one working order against one bar or quote.

Bar convention (backtrader's and NautilusTrader's default, so results compare trade
for trade): an order is eligible for a bar only if it was live at the venue at or
before the bar's open; a market order fills at that open; a limit fills at the open if
the open is already through it, else at the limit if the bar touches it; a stop
triggers at the open on a gap, else at its trigger price if the bar reaches it, and
then fills as a market order. A stop-limit, once triggered, fills only if its limit
is marketable at the trigger; otherwise it rests as a limit for the following bars.
When a stop and a target of the same position could both fill in one bar, the stop
is matched first (the path inside a bar is unknown: assume the worse one).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.market import Bar, Quote
from quantdesk.domain.money import BPS, round_to_step

# stops first, then market, then limits: the pessimistic order inside one bar
PRIORITY = {OrderType.STOP: 0, OrderType.STOP_LIMIT: 0, OrderType.MARKET: 1, OrderType.LIMIT: 2}


@dataclass(slots=True)
class Working:
    """The venue's own copy of a live order (never the order manager's object)."""

    cid: str
    venue_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit: Decimal | None
    trigger: Decimal | None
    reduce_only: bool
    live_ts: int
    seq: int
    filled: Decimal = Decimal(0)
    triggered: bool = False
    cancel_at: int | None = None
    queue_required: bool = False  # passive limits fill only when the price trades through

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(frozen=True, slots=True)
class Match:
    price: Decimal  # before slippage for taker fills
    taker: bool


def match_bar(w: Working, bar: Bar) -> Match | None:
    if w.live_ts > bar.ts:
        return None
    buy = w.side is Side.BUY
    if w.order_type is OrderType.MARKET:
        return Match(bar.open, True)
    if w.order_type is OrderType.LIMIT or (w.order_type is OrderType.STOP_LIMIT and w.triggered):
        return _limit(w, bar, buy)
    trigger = w.trigger
    assert trigger is not None
    gap = bar.open >= trigger if buy else bar.open <= trigger
    reached = bar.high >= trigger if buy else bar.low <= trigger
    if not (gap or reached):
        return None
    w.triggered = True
    start = bar.open if gap else trigger
    if w.order_type is OrderType.STOP:
        return Match(start, True)
    limit = w.limit
    assert limit is not None
    marketable = start <= limit if buy else start >= limit
    return Match(start, True) if marketable else None


def _limit(w: Working, bar: Bar, buy: bool) -> Match | None:
    limit = w.limit
    assert limit is not None
    if (bar.open <= limit) if buy else (bar.open >= limit):
        return Match(bar.open, True)
    through = bar.low < limit if buy else bar.high > limit
    touched = bar.low <= limit if buy else bar.high >= limit
    return Match(limit, False) if (through or (touched and not w.queue_required)) else None


def match_quote(w: Working, quote: Quote) -> tuple[Decimal, Decimal] | None:
    """(price, available size; 0 = unknown) against the top of book, or None."""
    if w.live_ts > quote.ts:
        return None
    buy = w.side is Side.BUY
    price, size = (quote.ask, quote.ask_size) if buy else (quote.bid, quote.bid_size)
    if price is None or price <= 0:
        return None
    if w.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not w.triggered:
        trigger = w.trigger
        assert trigger is not None
        if not (price >= trigger if buy else price <= trigger):
            return None
        w.triggered = True
    limit = w.limit if w.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    if limit is not None and not (price <= limit if buy else price >= limit):
        return None
    return price, size


def slipped(
    price: Decimal, side: Side, bps: Decimal, tick: Decimal, limit: Decimal | None
) -> Decimal:
    """Move a taker's price against it by `bps`, onto the tick grid, never past its limit."""
    if bps:
        sign = 1 if side is Side.BUY else -1
        moved = price * (BPS + sign * bps) / BPS
        price = round_to_step(moved, tick, ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)
    if limit is not None:
        price = min(price, limit) if side is Side.BUY else max(price, limit)
    return price
