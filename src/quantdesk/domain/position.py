"""Net position per instrument with average-cost accounting, long or short.

`cost` is the signed cost basis of the open quantity. Closing part of a position
removes a pro-rata share of it, quantized to `COST_QUANTUM` so that every figure stays
a finite decimal (1/3 of a cost has no exact decimal form); closing all of it removes
exactly what is left. Hence realised + unrealised always equals the fills' cash flow
plus the marked quantity, exactly, and a round trip's P&L is its cash flow exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.enums import Side
from quantdesk.domain.fill import Fill
from quantdesk.domain.ids import trade_id
from quantdesk.domain.money import EXACT, ZERO, add, mul, sub
from quantdesk.domain.trade import OpenTrade, Trade

COST_QUANTUM = Decimal("1e-12")


@dataclass(slots=True)
class _RoundTrip:
    side: Side
    opened_ts: int
    first_fill_id: str
    entry_qty: Decimal = ZERO
    entry_notional: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_notional: Decimal = ZERO
    pnl: Decimal = ZERO
    fees: Decimal = ZERO
    trade_id: str = ""  # derived once per round trip (see Position._trip_id)

    def close(self, symbol: str, ts: int) -> Trade:
        return Trade(
            symbol=symbol,
            side=self.side,
            quantity=self.entry_qty,
            entry_price=self.entry_notional / self.entry_qty,
            exit_price=self.exit_notional / self.exit_qty,
            entry_ts=self.opened_ts,
            exit_ts=ts,
            pnl=self.pnl,
            fees=self.fees,
            first_fill_id=self.first_fill_id,
        )


@dataclass(slots=True)
class Position:
    symbol: str
    quantity: Decimal = ZERO  # signed: > 0 long, < 0 short
    cost: Decimal = ZERO  # signed cost basis of the open quantity
    realised_pnl: Decimal = ZERO  # gross, over the position's life
    fees: Decimal = ZERO
    _trip: _RoundTrip | None = None

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def side(self) -> Side | None:
        if self.quantity == 0:
            return None
        return Side.BUY if self.quantity > 0 else Side.SELL

    @property
    def avg_price(self) -> Decimal | None:
        if self.quantity == 0:
            return None
        return self.cost / self.quantity

    @property
    def opened_ts(self) -> int | None:
        return self._trip.opened_ts if self._trip else None

    @property
    def open_trade_id(self) -> str | None:
        """Id of the round trip in progress (the Trade it will close as)."""
        return self._trip_id() if self._trip else None

    @property
    def open_trade(self) -> OpenTrade | None:
        trip = self._trip
        if trip is None:
            return None
        return OpenTrade(
            trade_id=self._trip_id(),
            symbol=self.symbol,
            side=trip.side,
            quantity=trip.entry_qty,
            entry_price=trip.entry_notional / trip.entry_qty,
            entry_ts=trip.opened_ts,
            pnl=trip.pnl,
            fees=trip.fees,
            first_fill_id=trip.first_fill_id,
        )

    @classmethod
    def restore(
        cls,
        symbol: str,
        quantity: Decimal,
        cost: Decimal,
        realised_pnl: Decimal,
        fees: Decimal,
        trade: OpenTrade | None,
    ) -> Position:
        """Rebuild a position saved by the journal (restart recovery)."""
        position = cls(symbol, quantity, cost, realised_pnl, fees)
        if trade is not None and quantity != 0:
            position._trip = _RoundTrip(
                trade.side,
                trade.entry_ts,
                trade.first_fill_id,
                trade.quantity,
                mul(trade.entry_price, trade.quantity),
                trade.quantity - abs(quantity),
                ZERO,
                trade.pnl,
                trade.fees,
            )
        return position

    def _trip_id(self) -> str:
        trip = self._trip
        assert trip is not None
        if not trip.trade_id:
            trip.trade_id = trade_id(self.symbol, trip.opened_ts, trip.first_fill_id)
        return trip.trade_id

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        return sub(mul(self.quantity, mark), self.cost)

    def apply(self, fill: Fill) -> list[Trade]:
        """Book a fill; returns the round trip it closed, if any (a flip closes one)."""
        if fill.symbol != self.symbol:
            raise ValueError(f"fill for {fill.symbol} applied to position {self.symbol}")
        self.fees = add(self.fees, fill.fee)
        if self.quantity == 0 or (self.quantity > 0) == (fill.side is Side.BUY):
            self._open(fill, fill.quantity, fill.fee)
            return []
        closing = min(fill.quantity, abs(self.quantity))
        closing_fee = fill.fee if closing == fill.quantity else _share(fill.fee, closing, fill)
        trades = self._reduce(fill, closing, closing_fee)
        if closing < fill.quantity:
            self._open(fill, fill.quantity - closing, fill.fee - closing_fee)
        return trades

    def _open(self, fill: Fill, quantity: Decimal, fee: Decimal) -> None:
        signed = quantity if fill.side is Side.BUY else -quantity
        self.quantity = add(self.quantity, signed)
        self.cost = add(self.cost, mul(signed, fill.price))
        if self._trip is None:
            self._trip = _RoundTrip(fill.side, fill.ts, fill.fill_id)
        trip = self._trip
        trip.entry_qty = add(trip.entry_qty, quantity)
        trip.entry_notional = add(trip.entry_notional, mul(quantity, fill.price))
        trip.fees = add(trip.fees, fee)

    def _reduce(self, fill: Fill, closing: Decimal, fee: Decimal) -> list[Trade]:
        open_qty = abs(self.quantity)
        removed = self.cost if closing == open_qty else _pro_rata(self.cost, closing, open_qty)
        direction = 1 if self.quantity > 0 else -1
        realised = sub(mul(direction * closing, fill.price), removed)
        self.quantity = sub(self.quantity, direction * closing)
        self.cost = sub(self.cost, removed)
        self.realised_pnl = add(self.realised_pnl, realised)
        trip = self._trip
        assert trip is not None, "an open position always has a round trip"
        trip.exit_qty = add(trip.exit_qty, closing)
        trip.exit_notional = add(trip.exit_notional, mul(closing, fill.price))
        trip.pnl = add(trip.pnl, realised)
        trip.fees = add(trip.fees, fee)
        if self.quantity != 0:
            return []
        self._trip = None
        return [trip.close(self.symbol, fill.ts)]


def _pro_rata(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    return EXACT.divide(mul(amount, part), whole).quantize(COST_QUANTUM)


def _share(fee: Decimal, part: Decimal, fill: Fill) -> Decimal:
    """Fee share of the closing part of a flipping fill (the rest goes to the new trip)."""
    return _pro_rata(fee, part, fill.quantity)
