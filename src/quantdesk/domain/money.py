"""Exact money, price and quantity arithmetic.

Why Decimal and not integer paise: one desk trades NSE rupees (tick 0.05), crypto
perpetuals (steps of 1e-8) and prediction-market probabilities (ticks of 1e-4).
Integers would need a per-venue scale threaded through every formula; Decimal keeps
the exact value of the venue's own text and the code reads like the trading maths.
Floats are for statistics and features only, never for a rupee, a price or a size.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
PAISA = Decimal("0.01")
BPS = Decimal(10_000)

# Wide enough that a price x quantity product is never rounded: P&L sums stay exact.
EXACT = Context(prec=60)

Number = Decimal | int | str


def dec(value: Number) -> Decimal:
    """Build an exact Decimal; floats are refused because they already lost the value."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"exact value needed (Decimal, int or str), got {type(value).__name__}")
    return Decimal(value)


def mul(a: Decimal, b: Decimal) -> Decimal:
    """Product without silent rounding (60 significant digits)."""
    return EXACT.multiply(a, b)


def add(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.add(a, b)


def sub(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.subtract(a, b)


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Nearest multiple of `step` (tick size, lot size, venue step) by `rounding`."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    units = EXACT.divide(value, step).to_integral_value(rounding=rounding)
    return mul(units, step)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_FLOOR)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_CEILING)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return EXACT.remainder(value, step) == 0


def to_paise(amount: Decimal) -> Decimal:
    """Rupee amount rounded to the paisa for display and reports (banker's rounding)."""
    return amount.quantize(PAISA, rounding=ROUND_HALF_EVEN)


def bps(delta: Decimal, reference: Decimal) -> Decimal:
    """`delta` as basis points of `reference`."""
    if reference == 0:
        raise ZeroDivisionError("basis points of a zero reference")
    return EXACT.divide(mul(delta, BPS), reference)
