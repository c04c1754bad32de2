"""Paper venue settings: how realistic (and how pessimistic) the simulation is."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class PaperVenueConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: int = Field(default=0, ge=0, description="submit->ack and cancel->confirm")
    half_spread_bps: Decimal = Field(default=Decimal(0), ge=0, description="paid by takers")
    impact_bps_per_pct_volume: Decimal = Field(default=Decimal(0), ge=0)
    participation_cap: Decimal | None = Field(default=None, gt=0, le=1)
    queue_position: bool = Field(default=False, description="limits fill only on trade-through")
    reject_rate: Decimal = Field(default=Decimal(0), ge=0, le=1)
    reject_reasons: tuple[str, ...] = ("RISK_REJECT",)
    seed: int = 0
    fee_bps: Decimal = Field(default=Decimal(0), ge=0)
    tick_size: Decimal = Field(default=Decimal("0.05"), gt=0)
    starting_cash: Decimal = Decimal(1_000_000)
    slippage_model: dict[str, Decimal] = Field(
        default_factory=dict, description="'SYMBOL:SIDE' -> extra bps (storage.slippage)"
    )
