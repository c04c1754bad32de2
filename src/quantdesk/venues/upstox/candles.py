"""Upstox historical candles as a backfill `CandleSource` (data/backfill.py)."""

from __future__ import annotations

from datetime import date

from quantdesk.domain.instrument import Instrument
from quantdesk.domain.market import Bar
from quantdesk.venues.upstox.client import UpstoxClient

UNITS = {"1m": ("minutes", 1), "1d": ("days", 1)}


class UpstoxCandles:
    """One v3 historical-candle request per chunk, through the client's request budget."""

    def __init__(self, client: UpstoxClient) -> None:
        self.client = client

    async def candles(
        self, instrument: Instrument, timeframe: str, first: date, last: date
    ) -> list[Bar]:
        if not instrument.token:
            raise ValueError(f"{instrument.symbol} has no Upstox instrument key (universe)")
        unit, interval = UNITS[timeframe]
        return await self.client.historical_candles(
            instrument.token,
            symbol=instrument.symbol,
            unit=unit,
            interval=interval,
            to_date=last,
            from_date=first,
        )
