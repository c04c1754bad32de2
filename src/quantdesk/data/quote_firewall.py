"""The quote firewall: a quote that cannot be true never reaches matching or strategies.

A non-positive or crossed price, a missing side, an empty side or a jump far outside the
symbol's recent volatility is far more often a feed fault than a market: trading on it
buys at prices that never existed. A refused quote leaves the last good one in force and
marks the symbol, so the gate refuses entries (`BAD_QUOTE`) until a clean quote arrives;
exits keep working on the last good price.

The jump test compares the mid's log return with an exponentially weighted volatility of
past returns; statistics, so floats are fine here (prices themselves stay exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from quantdesk.domain.market import Quote

MISSING_SIDE = "MISSING_SIDE"
NON_POSITIVE = "NON_POSITIVE"
CROSSED = "CROSSED"
ZERO_SIZE = "ZERO_SIZE"
JUMP = "JUMP"


@dataclass(slots=True)
class _Volatility:
    last_mid: float
    variance: float = 0.0
    samples: int = 0


@dataclass
class QuoteFirewall:
    jump_sigmas: float = 8.0
    warmup: int = 20  # returns seen before the jump test may refuse anything
    decay: float = 0.94  # RiskMetrics' daily lambda, applied per quote
    min_move: float = 0.002  # a jump must also move the mid this much (ticks on calm days)
    _state: dict[str, _Volatility] = field(default_factory=dict)

    def check(self, quote: Quote) -> str | None:
        """None for a clean quote (and learn from it), else the reason it was refused."""
        bid, ask = quote.bid, quote.ask
        if bid is None or ask is None:
            return MISSING_SIDE
        if bid <= 0 or ask <= 0:
            return NON_POSITIVE
        if bid > ask:
            return CROSSED
        if quote.bid_size <= 0 or quote.ask_size <= 0:
            return ZERO_SIZE
        mid = float(bid + ask) / 2
        state = self._state.get(quote.symbol)
        if state is None:
            self._state[quote.symbol] = _Volatility(mid)
            return None
        move = math.log(mid / state.last_mid)
        if state.samples >= self.warmup and abs(move) > self.min_move:
            sigma = math.sqrt(state.variance)
            if abs(move) > self.jump_sigmas * sigma:
                return JUMP  # not learnt: a fault must not widen the band for the next one
        state.variance = self.decay * state.variance + (1 - self.decay) * move * move
        state.samples += 1
        state.last_mid = mid
        return None
