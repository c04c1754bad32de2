"""Small trackers the streams report: feature freshness, volatility regime, position age.

Statistics only (floats are fine): they describe the desk, they never size or price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from quantdesk.domain.time import NS_PER_S


@dataclass
class FeatureStaleness:
    """Last update per feature name; a feature not refreshed within `stale_after_s` is stale.
    `crossed` says when the stale count went over `alert_over` (once per crossing)."""

    stale_after_s: float = 300.0
    alert_over: int = 3
    last_update: dict[str, int] = field(default_factory=dict)
    _alerting: bool = False

    def update(self, ts: int, features: Mapping[str, float]) -> None:
        for name in features:
            self.last_update[name] = ts

    def stale(self, now: int) -> list[str]:
        limit = int(self.stale_after_s * NS_PER_S)
        return sorted(n for n, ts in self.last_update.items() if now - ts > limit)

    def crossed(self, now: int) -> bool:
        over = len(self.stale(now)) > self.alert_over
        fired = over and not self._alerting
        self._alerting = over
        return fired


LOW, NORMAL, HIGH = "LOW_VOL", "NORMAL_VOL", "HIGH_VOL"


@dataclass
class _Vol:
    last: float
    fast: float = 0.0
    slow: float = 0.0
    seen: int = 0
    regime: str = NORMAL


@dataclass
class RegimeTracker:
    """Volatility regime per symbol: fast EWMA variance of returns against a slow one.
    Enters HIGH above `high` x the slow level, LOW below `low` x, with a hysteresis band
    so a regime does not flicker on every bar. Returns the transition, if any."""

    fast_decay: float = 0.9
    slow_decay: float = 0.995
    high: float = 2.0
    low: float = 0.5
    band: float = 0.2
    warmup: int = 50
    _state: dict[str, _Vol] = field(default_factory=dict)

    def on_price(self, symbol: str, price: float) -> tuple[str, str] | None:
        state = self._state.get(symbol)
        if state is None or price <= 0:
            if price > 0:
                self._state[symbol] = _Vol(price)
            return None
        move = math.log(price / state.last)
        state.last = price
        state.fast = self.fast_decay * state.fast + (1 - self.fast_decay) * move * move
        state.slow = self.slow_decay * state.slow + (1 - self.slow_decay) * move * move
        state.seen += 1
        if state.seen < self.warmup or state.slow <= 0:
            return None
        ratio = state.fast / state.slow
        regime = state.regime
        if regime != HIGH and ratio > self.high * (1 + self.band):
            regime = HIGH
        elif regime != LOW and ratio < self.low * (1 - self.band):
            regime = LOW
        elif self._back_to_normal(regime, ratio):
            regime = NORMAL
        if regime == state.regime:
            return None
        before, state.regime = state.regime, regime
        return before, regime

    def _back_to_normal(self, regime: str, ratio: float) -> bool:
        if regime == HIGH:
            return ratio < self.high * (1 - self.band)
        return regime == LOW and ratio > self.low * (1 + self.band)
