"""A round trip: from flat to flat (or to a flip), with its exact P&L."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain import ids
from quantdesk.domain.enums import Side


@dataclass(frozen=True, slots=True)
class Trade:
    """`side` is the entry side (BUY = long). `pnl` is gross; fees are separate."""

    symbol: str
    side: Side
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_ts: int
    exit_ts: int
    pnl: Decimal
    fees: Decimal
    first_fill_id: str
    exit_reason: str = ""

    @property
    def trade_id(self) -> str:
        return ids.trade_id(self.symbol, self.entry_ts, self.first_fill_id)

    @property
    def net_pnl(self) -> Decimal:
        return self.pnl - self.fees


@dataclass(frozen=True, slots=True)
class OpenTrade:
    """A round trip still in progress, as recorded before it closes."""

    trade_id: str
    symbol: str
    side: Side
    quantity: Decimal  # entered so far
    entry_price: Decimal
    entry_ts: int
    pnl: Decimal  # realised so far (scale-outs)
    fees: Decimal
    first_fill_id: str = ""
