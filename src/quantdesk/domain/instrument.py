"""What can be traded, and the venue's grid for its prices and sizes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from quantdesk.domain.enums import CapTier
from quantdesk.domain.money import floor_to_step, is_multiple, round_to_step


@dataclass(frozen=True, slots=True)
class Instrument:
    """`token` is the broker's key (Upstox instrument key, exchange symbol id)."""

    symbol: str
    venue: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    token: str = ""
    cap_tier: CapTier | None = None
    sector: str | None = None
    currency: str = "INR"

    def __post_init__(self) -> None:
        if not self.symbol or not self.venue:
            raise ValueError("instrument needs a symbol and a venue")
        if self.tick_size <= 0:
            raise ValueError(f"{self.symbol}: tick_size must be positive, got {self.tick_size}")
        if self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: lot_size must be positive, got {self.lot_size}")

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        return round_to_step(price, self.tick_size, rounding)

    def round_quantity_down(self, quantity: Decimal) -> Decimal:
        """Whole lots only; never rounds up into more risk than was sized."""
        return floor_to_step(quantity, self.lot_size)

    def is_valid_price(self, price: Decimal) -> bool:
        return price > 0 and is_multiple(price, self.tick_size)

    def is_valid_quantity(self, quantity: Decimal) -> bool:
        return quantity > 0 and is_multiple(quantity, self.lot_size)
