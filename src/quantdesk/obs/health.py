"""When a health record is worth writing (the seed's QW1: ~85% fewer lines, nothing lost).

A record goes out on a heartbeat every `every_ns` of engine time (an hour: 60 one-minute
bars) and whenever something an
operator would want to see changed: equity moved more than `equity_move` (0.1%) since the
last record, the feed's staleness flipped, the websocket reconnected, the trading state,
a breaker or the kill switch changed. Pure: the caller supplies the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class HealthFacts:
    equity: Decimal
    stale: bool
    reconnects: int
    state: int  # a version bumped on every trading-state, breaker or kill-switch event


@dataclass
class HealthGate:
    every_ns: int = 3600 * 10**9
    equity_move: Decimal = Decimal("0.001")
    last_ts: int | None = None
    _last: HealthFacts | None = None

    def __post_init__(self) -> None:
        if self.every_ns <= 0:
            raise ValueError(f"every_ns must be positive, got {self.every_ns}")

    def reason(self, facts: HealthFacts, now: int) -> str | None:
        """Why a record is due at engine time `now` (remembered as emitted), else None."""
        last = self._last
        why = None
        if last is None:
            why = "start"
        elif facts.state != last.state:
            why = "state"
        elif facts.stale != last.stale:
            why = "staleness"
        elif facts.reconnects > last.reconnects:
            why = "reconnect"
        elif last.equity and abs(facts.equity - last.equity) > abs(last.equity) * self.equity_move:
            why = "equity_move"
        elif self.last_ts is not None and now - self.last_ts >= self.every_ns:
            why = "heartbeat"
        if why is not None:
            self.last_ts, self._last = now, facts
        return why
