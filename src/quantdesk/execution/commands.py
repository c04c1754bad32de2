"""What execution logic asks the order manager to do. Pure logic returns these."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.order import Order


@dataclass(frozen=True, slots=True)
class Place:
    order: Order


@dataclass(frozen=True, slots=True)
class Cancel:
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MoveStop:
    client_order_id: str
    trigger_price: Decimal


Command = Place | Cancel | MoveStop
