"""The protective limit on a market entry.

The gate approves a market entry at the price it sees; the fill comes later, after the
venue's latency and maybe a gap. Sent as a bare market order, a gap between decision and
fill could buy the position above the price the heat cap was checked at (found by the
risk state machine: 46 x (100 - 70) approved, filled at 114.05, heat 2,026 > 2,000).
So a market entry goes out as a marketable limit at the worst price that still keeps the
heat inside the room it was approved in, and never further than the market-protection
collar from the reference price (what brokers call market protection). A fill at the limit
or better cannot breach the cap; a gap beyond it leaves the order resting instead.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from quantdesk.domain.enums import Side
from quantdesk.domain.money import round_to_step

HUNDRED = Decimal(100)


def protective_limit(
    side: Side,
    price: Decimal,
    stop: Decimal | None,
    quantity: Decimal,
    room: Decimal,
    collar_pct: Decimal,
    tick: Decimal,
) -> Decimal:
    """The limit price for a market entry of `quantity` at reference `price`.

    `room` is the heat cap minus the heat already open (working entries included). With
    a stop the fill may not move further than `room / quantity` from the stop; without
    one the whole notional is heat, so the fill price itself is capped at
    `room / quantity`. Rounded onto the tick grid towards safety (down for buys)."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    per_unit = room / quantity
    if side is Side.BUY:
        worst = price * (HUNDRED + collar_pct) / HUNDRED
        worst = min(worst, stop + per_unit if stop is not None else per_unit)
        return round_to_step(worst, tick, ROUND_FLOOR)
    worst = price * (HUNDRED - collar_pct) / HUNDRED
    if stop is not None:
        worst = max(worst, stop - per_unit)
    return round_to_step(worst, tick, ROUND_CEILING)
