"""How many units a signal trades: the strategy's own size, or risk to stop.

Fixed-fractional: quantity = (capital x risk %) / |entry - stop|, rounded down to the lot.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.money import floor_to_step
from quantdesk.domain.signal import Signal

HUNDRED = Decimal(100)


def size_signal(
    signal: Signal, price: Decimal, capital: Decimal, risk_pct: Decimal, lot: Decimal = Decimal(1)
) -> Decimal:
    """Units to trade; zero when the signal gives neither a size nor a stop."""
    if signal.quantity is not None:
        return floor_to_step(signal.quantity, lot)
    if signal.stop_loss is None:
        return Decimal(0)
    risk_per_unit = abs(price - signal.stop_loss)
    if risk_per_unit == 0:
        return Decimal(0)
    budget = capital * risk_pct / HUNDRED
    return floor_to_step(budget / risk_per_unit, lot)
