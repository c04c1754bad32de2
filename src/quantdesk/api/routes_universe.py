"""Universe endpoints: list, read, upsert, delete, import a CSV (mutations need the key)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import BaseModel, Field

from quantdesk.api.deps import Operator, Service
from quantdesk.domain.enums import CapTier
from quantdesk.domain.instrument import Instrument
from quantdesk.storage.universe import UniverseError, UniverseStore

router = APIRouter(prefix="/universe", tags=["universe"])
SYMBOL = Field(pattern=r"^[A-Z0-9&_.-]{1,32}$")


class InstrumentOut(BaseModel):
    symbol: str
    venue: str
    token: str
    tick_size: Decimal
    lot_size: Decimal
    cap_tier: CapTier | None
    sector: str | None


class InstrumentIn(BaseModel):
    token: str = Field(default="", max_length=128)
    tick_size: Decimal = Field(gt=0)
    lot_size: Decimal = Field(default=Decimal(1), gt=0)
    cap_tier: CapTier | None = None
    sector: str | None = Field(default=None, max_length=64)


class ImportOut(BaseModel):
    added: int
    updated: int
    skipped: list[str]


def _store(service: Service) -> UniverseStore:
    if service.database is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no database")
    return UniverseStore(service.database)


def _out(i: Instrument) -> InstrumentOut:
    return InstrumentOut(
        symbol=i.symbol, venue=i.venue, token=i.token, tick_size=i.tick_size,
        lot_size=i.lot_size, cap_tier=i.cap_tier, sector=i.sector,
    )  # fmt: skip


@router.get("", response_model=list[InstrumentOut])
async def list_universe(
    service: Service,
    venue: Annotated[str | None, Query(max_length=32)] = None,
    sector: Annotated[str | None, Query(max_length=64)] = None,
    cap_tier: CapTier | None = None,
) -> list[InstrumentOut]:
    tier = cap_tier.value if cap_tier else None
    return [_out(i) for i in _store(service).list(venue, sector, tier)]


@router.get("/{venue}/{symbol}", response_model=InstrumentOut)
async def get_instrument(service: Service, venue: str, symbol: str) -> InstrumentOut:
    found = _store(service).get(venue, symbol)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{venue}:{symbol} is not in the universe")
    return _out(found)


@router.put("/{venue}/{symbol}", response_model=InstrumentOut)
async def put_instrument(
    service: Service,
    actor: Operator,
    venue: Annotated[str, SYMBOL],
    symbol: Annotated[str, SYMBOL],
    body: InstrumentIn,
) -> InstrumentOut:
    item = Instrument(symbol, venue, body.tick_size, body.lot_size, body.token,
                      body.cap_tier, body.sector)  # fmt: skip
    _store(service).upsert([item])
    service.desk.engine.record_action("universe.put", {"actor": actor, "instrument": item.key})
    return _out(item)


@router.delete("/{venue}/{symbol}", status_code=204)
async def delete_instrument(service: Service, actor: Operator, venue: str, symbol: str) -> None:
    if not _store(service).delete(venue, symbol):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{venue}:{symbol} is not in the universe")
    service.desk.engine.record_action(
        "universe.delete", {"actor": actor, "instrument": f"{venue}:{symbol}"}
    )


@router.post("/import", response_model=ImportOut)
async def import_universe(
    service: Service,
    actor: Operator,
    csv_text: Annotated[str, Body(media_type="text/csv", max_length=5_000_000)],
    venue: Annotated[str, Query(min_length=1, max_length=32)] = "NSE",
    cap_tier: CapTier | None = None,
) -> ImportOut:
    """Our CSV (symbol,venue,tick_size,lot_size,token,cap_tier,sector) or an NSE index list."""
    try:
        result = _store(service).import_csv(csv_text, venue, cap_tier)
    except UniverseError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    service.desk.engine.record_action(
        "universe.import",
        {"actor": actor, "added": str(result.added), "updated": str(result.updated)},
    )
    return ImportOut(added=result.added, updated=result.updated, skipped=result.skipped)
