"""How many units a signal trades: the strategy's own size, or risk to stop.

Fixed-fractional: quantity = (capital x risk %) / |entry - stop|, rounded down to the lot.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.money import floor_to_step
from quantdesk.domain.signal import Signal

HUNDRED = Decimal(100)
BPS = Decimal(10_000)


def size_signal(
    signal: Signal,
    price: Decimal,
    capital: Decimal,
    risk_pct: Decimal,
    lot: Decimal = Decimal(1),
    slippage_bps: Decimal = Decimal(0),
) -> Decimal:
    """Units to trade; zero when the signal gives neither a size nor a stop.

    Expected slippage (the instrument's median, in bps) widens the risk per unit: the
    stop is paid from a worse entry than the signal's price.
    """
    if signal.quantity is not None:
        return floor_to_step(signal.quantity, lot)
    if signal.stop_loss is None:
        return Decimal(0)
    risk_per_unit = abs(price - signal.stop_loss) + price * max(slippage_bps, Decimal(0)) / BPS

    if risk_per_unit == 0:
        return Decimal(0)
    budget = capital * risk_pct / HUNDRED
    return floor_to_step(budget / risk_per_unit, lot)
