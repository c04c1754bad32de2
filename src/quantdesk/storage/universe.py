"""The trading universe: instruments with their broker key, grid, cap tier and sector.

One row per (venue, symbol) in the `instruments` table; the risk gate reads sectors for
its exposure caps and the decider reads tick and lot sizes from here. Imports accept our
own CSV (`symbol,venue,tick_size,lot_size,token,cap_tier,sector`) and the NSE index
constituent lists (`Company Name,Industry,Symbol,Series,ISIN Code`, as niftyindices.com
publishes them), whose ISIN gives the Upstox instrument key `NSE_EQ|<ISIN>`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine, delete, select

from quantdesk.domain.enums import CapTier
from quantdesk.domain.instrument import Instrument
from quantdesk.storage.db import session_factory
from quantdesk.storage.models import InstrumentRow

NSE_TICK = Decimal("0.05")
OURS = ("symbol", "venue", "tick_size", "lot_size", "token", "cap_tier", "sector")
NSE_LIST = ("Company Name", "Industry", "Symbol", "Series", "ISIN Code")


class UniverseError(ValueError):
    """A row or file that cannot be trusted; the message names the line and the field."""


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)  # "line N: why"


def _instrument(row: InstrumentRow) -> Instrument:
    return Instrument(
        symbol=row.symbol,
        venue=row.venue,
        tick_size=row.tick_size,
        lot_size=row.lot_size,
        token=row.token,
        cap_tier=CapTier(row.cap_tier) if row.cap_tier else None,
        sector=row.sector,
        currency=row.currency,
    )


class UniverseStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def list(
        self, venue: str | None = None, sector: str | None = None, cap_tier: str | None = None
    ) -> list[Instrument]:
        query = select(InstrumentRow).order_by(InstrumentRow.venue, InstrumentRow.symbol)
        if venue:
            query = query.where(InstrumentRow.venue == venue)
        if sector:
            query = query.where(InstrumentRow.sector == sector)
        if cap_tier:
            query = query.where(InstrumentRow.cap_tier == cap_tier)
        with self._sessions() as db:
            return [_instrument(r) for r in db.scalars(query)]

    def get(self, venue: str, symbol: str) -> Instrument | None:
        with self._sessions() as db:
            row = db.scalars(self._one(venue, symbol)).first()
            return _instrument(row) if row else None

    def upsert(self, instruments: list[Instrument]) -> tuple[int, int]:
        """(added, updated), in one transaction."""
        added = updated = 0
        with self._sessions.begin() as db:
            for item in instruments:
                row = db.scalars(self._one(item.venue, item.symbol)).first()
                if row is None:
                    row = InstrumentRow(symbol=item.symbol, venue=item.venue)
                    db.add(row)
                    added += 1
                else:
                    updated += 1
                row.token, row.tick_size, row.lot_size = item.token, item.tick_size, item.lot_size
                row.cap_tier = item.cap_tier.value if item.cap_tier else None
                row.sector, row.currency = item.sector, item.currency
        return added, updated

    def delete(self, venue: str, symbol: str) -> bool:
        with self._sessions.begin() as db:
            done = db.execute(
                delete(InstrumentRow).where(
                    InstrumentRow.venue == venue, InstrumentRow.symbol == symbol
                )
            )
            return bool(getattr(done, "rowcount", 0))

    def import_csv(
        self, text: str, venue: str = "NSE", cap_tier: CapTier | None = None
    ) -> ImportResult:
        """Every good row is imported; every bad one is skipped with its line and reason.
        `cap_tier` labels an NSE index list (NIFTY 50: LARGE); our own CSV has a column."""
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = tuple(h.strip() for h in reader.fieldnames or ())
        if set(NSE_LIST) <= set(header):
            parse = _nse_row
        elif {"symbol", "tick_size"} <= set(header):
            parse = _our_row
        else:
            raise UniverseError(
                f"unknown CSV header {list(header)}; expected {list(OURS)} or {list(NSE_LIST)}"
            )
        result = ImportResult()
        good: list[Instrument] = []
        for line, raw in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
            try:
                good.append(parse(row, venue, cap_tier))
            except (UniverseError, ValueError, InvalidOperation) as exc:
                result.skipped.append(f"line {line}: {exc}")
        result.added, result.updated = self.upsert(good)
        return result

    @staticmethod
    def _one(venue: str, symbol: str):  # type: ignore[no-untyped-def]
        return select(InstrumentRow).where(
            InstrumentRow.venue == venue, InstrumentRow.symbol == symbol
        )


def _our_row(row: dict[str, str], venue: str, cap_tier: CapTier | None) -> Instrument:
    tier = row.get("cap_tier", "").upper()
    if tier and tier not in CapTier.__members__:
        raise UniverseError(f"cap_tier {tier!r} is not one of {list(CapTier.__members__)}")
    return Instrument(
        symbol=row["symbol"].upper(),
        venue=row.get("venue") or venue,
        tick_size=Decimal(row["tick_size"]),
        lot_size=Decimal(row.get("lot_size") or 1),
        token=row.get("token", ""),
        cap_tier=CapTier(tier) if tier else cap_tier,
        sector=row.get("sector") or None,
    )


def _nse_row(row: dict[str, str], venue: str, cap_tier: CapTier | None) -> Instrument:
    if row["Series"] != "EQ":
        raise UniverseError(f"series {row['Series']!r} is not EQ")
    isin = row["ISIN Code"]
    if len(isin) != 12 or not isin.isalnum():
        raise UniverseError(f"ISIN {isin!r} is not 12 letters and digits")
    return Instrument(
        symbol=row["Symbol"].upper(),
        venue=venue,
        tick_size=NSE_TICK,
        token=f"NSE_EQ|{isin}",
        cap_tier=cap_tier,
        sector=row["Industry"] or None,
    )
