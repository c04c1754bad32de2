"""How much of the risk budget a strategy has earned: its edge (Kelly) and its recent pain.

Both return exact Decimals meant to scale the fixed-fractional budget in `sizing`:
`kelly_fraction` is a fraction of capital to put at risk to the stop (pass
`min(risk_per_trade_pct, 100 x kelly)` as the risk %), and `DrawdownGuard.multiplier`
is the `risk_scale` for `size_entry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from quantdesk.domain.money import EXACT, ONE, ZERO, floor_to_step, mul, sub

HALF = Decimal("0.5")
HUNDRED = Decimal(100)
# Kelly fractions are floored to a millionth of capital: conservative, and readable in logs.
FRACTION_STEP = Decimal("0.000001")


def raw_kelly(win_rate: Decimal, payoff: Decimal) -> Decimal:
    """f* = W - (1 - W) / R: the growth-optimal stake when a loss costs the whole stake.

    With a stop, the stake is the risk to the stop and R is average win / average loss.
    """
    _check_win_rate(win_rate)
    if payoff <= 0:
        raise ValueError(f"payoff ratio must be positive, got {payoff}")
    return sub(win_rate, EXACT.divide(sub(ONE, win_rate), payoff))


def haircut_win_rate(win_rate: Decimal, trades: int, z: Decimal) -> Decimal:
    """Win rate lowered by z standard errors, because a measured edge is mostly luck at small n.

    Uses the binomial standard error sqrt(W(1 - W) / n); never below zero.
    """
    _check_win_rate(win_rate)
    if trades <= 0:
        raise ValueError(f"trades must be positive, got {trades}")
    variance = EXACT.divide(mul(win_rate, sub(ONE, win_rate)), Decimal(trades))
    return max(sub(win_rate, mul(z, EXACT.sqrt(variance))), ZERO)


def kelly_fraction(
    win_rate: Decimal,
    payoff: Decimal,
    trades: int,
    *,
    fraction: Decimal = Decimal("0.25"),
    max_fraction: Decimal = Decimal("0.02"),
    z: Decimal = ONE,
    min_trades: int = 30,
) -> Decimal:
    """Fraction of capital to risk on the next trade; zero until the edge is real.

    Full Kelly on an estimated edge overbets: the estimate is noisy and the optimum is
    a cliff on the high side. So the win rate is haircut by its standard error, the result
    scaled by `fraction` (quarter Kelly keeps ~44% of the growth at a quarter of the
    volatility) and clamped to [0, max_fraction]; below `min_trades` the error is itself
    too unreliable to haircut with, so the answer is zero.
    """
    if not ZERO <= fraction <= ONE:
        raise ValueError(f"Kelly fraction must be within [0, 1], got {fraction}")
    if not ZERO <= max_fraction <= ONE:
        raise ValueError(f"max fraction must be within [0, 1], got {max_fraction}")
    if z < 0:
        raise ValueError(f"z must be non-negative, got {z}")
    if trades < max(min_trades, 1) or payoff <= 0:
        return ZERO
    edge = raw_kelly(haircut_win_rate(win_rate, trades, z), payoff)
    if edge <= 0:
        return ZERO
    return floor_to_step(min(mul(edge, fraction), max_fraction), FRACTION_STEP)


def drawdown_target(
    drawdown_pct: Decimal, max_drawdown_pct: Decimal, floor: Decimal, grace_pct: Decimal = ZERO
) -> Decimal:
    """Multiplier a drawdown calls for: 1 within the grace, then linear down to `floor` at
    the max (the grace keeps a fixed size of 10 from trading 9 after a one-rupee loss)."""
    if drawdown_pct <= grace_pct:
        return ONE
    span = sub(max_drawdown_pct, grace_pct)
    depth = min(max(EXACT.divide(sub(drawdown_pct, grace_pct), span), ZERO), ONE)
    return sub(ONE, mul(sub(ONE, floor), depth))


@dataclass(slots=True)
class DrawdownGuard:
    """Shrinks size as equity falls from its peak; gives it back only step by step.

    Cutting is immediate, because losses compound while the strategy may be broken;
    recovery is capped at `recovery_step` per update (call `update` once a day or trade),
    because one good day after a drawdown is weak evidence the strategy works again.
    The default max drawdown (10%) matches the default equity floor (90% of capital), so
    size reaches its floor about when that breaker would halt trading.
    """

    max_drawdown_pct: Decimal = Decimal(10)
    floor: Decimal = Decimal("0.25")
    recovery_step: Decimal = Decimal("0.05")
    grace_pct: Decimal = ZERO
    peak: Decimal | None = field(default=None, init=False)
    drawdown_pct: Decimal = field(default=ZERO, init=False)
    multiplier: Decimal = field(default=ONE, init=False)

    def __post_init__(self) -> None:
        if not ZERO < self.max_drawdown_pct <= HUNDRED:
            raise ValueError(f"max drawdown must be within (0, 100], got {self.max_drawdown_pct}")
        if not ZERO <= self.floor <= ONE:
            raise ValueError(f"floor must be within [0, 1], got {self.floor}")
        if not ZERO <= self.grace_pct < self.max_drawdown_pct:
            raise ValueError(f"grace must be within [0, max drawdown), got {self.grace_pct}")
        if not ZERO < self.recovery_step <= ONE:
            raise ValueError(f"recovery step must be within (0, 1], got {self.recovery_step}")

    def update(self, equity: Decimal) -> Decimal:
        """Record the latest equity and return the multiplier to size with from now on."""
        if self.peak is None:
            if equity <= 0:
                raise ValueError(f"drawdown needs a positive starting equity, got {equity}")
            self.peak = equity
        self.peak = max(self.peak, equity)
        self.drawdown_pct = EXACT.divide(mul(sub(self.peak, equity), HUNDRED), self.peak)
        target = drawdown_target(
            self.drawdown_pct, self.max_drawdown_pct, self.floor, self.grace_pct
        )
        if target <= self.multiplier:
            self.multiplier = target
        else:
            self.multiplier = min(target, EXACT.add(self.multiplier, self.recovery_step))
        return self.multiplier


def _check_win_rate(win_rate: Decimal) -> None:
    if not ZERO <= win_rate <= ONE:
        raise ValueError(f"win rate must be within [0, 1], got {win_rate}")
