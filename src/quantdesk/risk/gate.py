"""The pre-trade gate interface: `can_enter(intent, state) -> Verdict`.

Pure: the verdict depends only on its inputs. Exits, stop moves and flattening never
pass through it. `allow_all` is the placeholder gate until the risk engine lands, and
the `none` risk profile of research backtests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from quantdesk.domain.enums import Mode, Side


@dataclass(frozen=True, slots=True)
class EntryIntent:
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal  # expected entry (limit, or last price for market orders)
    stop_loss: Decimal | None
    targets: tuple[Decimal, ...]
    ts: int
    mode: Mode


@dataclass(frozen=True, slots=True)
class RiskState:
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    trades_today: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reasons: tuple[str, ...] = ()


ALLOWED = Verdict(True)
Gate = Callable[[EntryIntent, RiskState], Verdict]


def allow_all(intent: EntryIntent, state: RiskState) -> Verdict:
    return ALLOWED
