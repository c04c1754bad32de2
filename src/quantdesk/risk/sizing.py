"""How many units a signal trades: the strategy's own size, or risk to stop.

Fixed-fractional: quantity = (capital x risk %) / |entry - stop|, rounded down to the lot,
then held under every cap that applies (confidence-scaled max loss, buying power, exposure
room). The caller learns which constraint bound the size, so a small fill can be explained
in the decision log ("capped by sector room") instead of looking like a sizing bug.

Every division here rounds toward zero at 60 digits before flooring to the lot: a quotient
rounded *up* by the context could otherwise floor to one lot too many and break the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Literal

from quantdesk.domain.money import BPS, EXACT, ONE, ZERO, mul
from quantdesk.domain.signal import Signal

HUNDRED = Decimal(100)
# Rounds toward -inf: a floored quotient never claims more units than the amount pays for.
_FLOOR = Context(prec=60, rounding=ROUND_FLOOR)

Binding = Literal["signal", "risk", "max_loss", "buying_power", "exposure", "no_stop"]


@dataclass(frozen=True, slots=True)
class Sizing:
    """A size and the constraint that set it, for the decision log and the operator."""

    quantity: Decimal
    binding: Binding


def size_entry(
    signal: Signal,
    price: Decimal,
    capital: Decimal,
    risk_pct: Decimal,
    lot: Decimal = ONE,
    slippage_bps: Decimal = ZERO,
    *,
    buying_power: Decimal | None = None,
    exposure_room: Decimal | None = None,
    max_loss: Decimal | None = None,
    risk_scale: Decimal = ONE,
) -> Sizing:
    """Largest lot multiple that every applicable constraint allows.

    `risk_scale` (in [0, 1]) is the de-risk multiplier, e.g. a drawdown guard's; it shrinks
    the strategy's own size too, because de-risking must not depend on who chose the size.
    `max_loss` caps the loss at the stop (slippage included) whenever a stop is known, even
    for the strategy's own size: a hard per-trade cap has no exemptions. `buying_power` and
    `exposure_room` are rupee amounts the caller computed; `None` means no such cap.
    """
    if lot <= 0:
        raise ValueError(f"lot must be positive, got {lot}")
    if not ZERO <= risk_scale <= ONE:
        raise ValueError(f"risk scale must be within [0, 1], got {risk_scale}")
    per_unit = risk_per_unit(signal, price, slippage_bps)
    if signal.quantity is not None:
        sizing = Sizing(units_within(mul(signal.quantity, risk_scale), ONE, lot), "signal")
    elif per_unit is None:
        return Sizing(ZERO, "no_stop")
    else:
        budget = mul(EXACT.divide(mul(capital, risk_pct), HUNDRED), risk_scale)
        sizing = Sizing(units_within(budget, per_unit, lot), "risk")
    if max_loss is not None and per_unit is not None:
        sizing = _tighter(sizing, units_within(max_loss, per_unit, lot), "max_loss")
    return _within_account(sizing, price, lot, buying_power, exposure_room)


def risk_per_unit(signal: Signal, price: Decimal, slippage_bps: Decimal = ZERO) -> Decimal | None:
    """Loss per unit if the stop is hit, or `None` when the stop cannot bound the loss.

    A stop at the entry price is treated as no stop: sizing off the slippage alone would
    turn a few basis points of expected cost into an enormous position.
    """
    if signal.stop_loss is None or signal.stop_loss == price:
        return None
    slippage = EXACT.divide(mul(price, max(slippage_bps, ZERO)), BPS)
    return EXACT.add(abs(EXACT.subtract(price, signal.stop_loss)), slippage)


def units_within(amount: Decimal, per_unit: Decimal, lot: Decimal) -> Decimal:
    """Most whole lots whose cost at `per_unit` each stays within `amount` (never negative)."""
    if amount <= 0:
        return ZERO
    if per_unit <= 0:
        raise ValueError(f"cost per unit must be positive, got {per_unit}")
    lots = _FLOOR.divide(amount, mul(per_unit, lot)).to_integral_value(rounding=ROUND_FLOOR)
    return mul(lots, lot)


def confidence_max_loss(
    base_max_loss: Decimal, confidence: Decimal, *, min_confidence: Decimal = Decimal("0.25")
) -> Decimal:
    """Per-trade loss cap scaled by how sure the strategy is.

    The floor keeps a weak but approved signal tradable at a small size, so its outcomes
    keep informing the statistics; a confidence above 1 earns nothing extra.
    """
    if not ZERO < min_confidence <= ONE:
        raise ValueError(f"min confidence must be within (0, 1], got {min_confidence}")
    return mul(base_max_loss, min(max(confidence, min_confidence), ONE))


def _within_account(
    sizing: Sizing,
    price: Decimal,
    lot: Decimal,
    buying_power: Decimal | None,
    exposure_room: Decimal | None,
) -> Sizing:
    if buying_power is not None:
        sizing = _tighter(sizing, _notional_cap(buying_power, price, lot), "buying_power")
    if exposure_room is not None:
        sizing = _tighter(sizing, _notional_cap(exposure_room, price, lot), "exposure")
    return sizing


def _notional_cap(room: Decimal, price: Decimal, lot: Decimal) -> Decimal:
    if price <= 0:
        raise ValueError(f"a notional cap needs a positive price, got {price}")
    return units_within(room, price, lot)


def _tighter(current: Sizing, cap: Decimal, binding: Binding) -> Sizing:
    # on a tie the earlier constraint keeps the credit: it would have bound on its own
    return Sizing(cap, binding) if cap < current.quantity else current
