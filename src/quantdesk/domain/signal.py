"""What a strategy wants (Signal) and what the desk decided to do about it (Decision)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.ids import plan_id, stable_id


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's intent with its own stop and targets; `strength` is a statistic (float)."""

    strategy: str
    symbol: str
    side: Side
    ts: int
    entry: Decimal | None = None  # None: at market
    stop_loss: Decimal | None = None
    targets: tuple[Decimal, ...] = ()
    strength: float = 0.0
    rationale: str = ""
    features: Mapping[str, float] = field(default_factory=dict)
    quantity: Decimal | None = None  # the strategy's own size; None = size by risk to stop
    trail_distance: Decimal | None = None  # trailing stop distance in price units
    time_stop_ns: int | None = None  # exit this long after the entry fill
    scope: str = ""  # the run's id namespace: one data file traded twice is two runs

    correlation_id: str = field(init=False, repr=False, compare=False)
    plan_id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the ids are derived once: they are read many times per signal
        keys: tuple[str | int, ...] = (self.strategy, self.symbol, self.ts, self.side.value)
        if self.scope:
            keys = (self.scope, *keys)
        object.__setattr__(self, "correlation_id", "c" + stable_id(*keys, length=23))
        object.__setattr__(self, "plan_id", plan_id(*keys))
        if self.quantity is not None and self.quantity <= 0:
            raise ValueError(f"{self.symbol}: signal quantity must be positive")
        if self.entry is not None and self.stop_loss is not None:
            wrong_side = (
                (self.stop_loss >= self.entry)
                if self.side is Side.BUY
                else (self.stop_loss <= self.entry)
            )
            if wrong_side:
                raise ValueError(
                    f"{self.symbol} {self.side}: stop {self.stop_loss} is not beyond entry "
                    f"{self.entry} on the losing side"
                )

    @property
    def risk_per_unit(self) -> Decimal | None:
        if self.entry is None or self.stop_loss is None:
            return None
        return abs(self.entry - self.stop_loss)

    @property
    def reward_to_risk(self) -> Decimal | None:
        risk = self.risk_per_unit
        if risk is None or risk == 0 or not self.targets or self.entry is None:
            return None
        return abs(self.targets[-1] - self.entry) / risk


class DecisionStatus(StrEnum):
    APPROVED = "APPROVED"
    REFUSED = "REFUSED"


@dataclass(frozen=True, slots=True)
class Decision:
    """A sized plan that passed (or failed) the risk gate; `plan_id` is its idempotency key."""

    plan_id: str
    correlation_id: str
    symbol: str
    side: Side
    quantity: Decimal
    ts: int
    status: DecisionStatus
    order_type: OrderType = OrderType.MARKET
    entry_price: Decimal | None = None  # expected fill: the signal's limit or the last price
    stop_loss: Decimal | None = None
    targets: tuple[Decimal, ...] = ()
    risk_amount: Decimal = Decimal(0)
    reasons: tuple[str, ...] = ()
    trail_distance: Decimal | None = None
    time_stop_ns: int | None = None
    limit_price: Decimal | None = None  # worst fill the entry accepts (risk.protection)

    def __post_init__(self) -> None:
        if self.status is DecisionStatus.APPROVED and self.quantity <= 0:
            raise ValueError(f"approved plan {self.plan_id} needs a positive quantity")
        if self.status is DecisionStatus.REFUSED and not self.reasons:
            raise ValueError(f"refused plan {self.plan_id} must say why")

    @property
    def approved(self) -> bool:
        return self.status is DecisionStatus.APPROVED
