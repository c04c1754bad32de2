"""Market data events. NamedTuples: immutable and cheap, because millions flow per run."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from quantdesk.domain.time import NS_PER_S

ONE_MINUTE_NS = 60 * NS_PER_S


class Bar(NamedTuple):
    """OHLCV over [ts, ts + duration). `ts` is the bar's open time in epoch ns.

    The bar is only knowable at `end`: the engine must not act on it earlier.
    """

    symbol: str
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    duration: int = ONE_MINUTE_NS

    @property
    def end(self) -> int:
        return self.ts + self.duration


class Quote(NamedTuple):
    """Top of book. A missing side is None, never a zero price."""

    symbol: str
    ts: int
    bid: Decimal | None
    ask: Decimal | None
    bid_size: Decimal = Decimal(0)
    ask_size: Decimal = Decimal(0)

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return self.ask - self.bid
