"""An execution: part or all of an order traded at one price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.enums import Side
from quantdesk.domain.money import mul


@dataclass(frozen=True, slots=True)
class Fill:
    """`fill_id` is the venue's execution id: a fill seen twice is applied once."""

    fill_id: str
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    ts: int
    fee: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"fill {self.fill_id}: quantity must be positive, got {self.quantity}")
        if self.price <= 0:
            raise ValueError(f"fill {self.fill_id}: price must be positive, got {self.price}")
        if self.fee < 0:
            raise ValueError(f"fill {self.fill_id}: fee must not be negative, got {self.fee}")

    @property
    def notional(self) -> Decimal:
        return mul(self.quantity, self.price)

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is Side.BUY else -self.quantity
