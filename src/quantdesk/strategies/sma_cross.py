"""SMA crossover: long on a cross up when flat, out on a cross down."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantdesk.domain.market import Bar
from quantdesk.strategies.base import Strategy
from quantdesk.strategies.indicators import Crossover


class SmaCrossParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fast: int = Field(default=10, ge=1)
    slow: int = Field(default=30, ge=2)
    qty: Decimal = Field(default=Decimal(1), gt=0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class SmaCross(Strategy):
    name = "sma_cross"
    Params = SmaCrossParams

    def on_start(self) -> None:
        params = self.params
        assert isinstance(params, SmaCrossParams)
        self._qty = params.qty
        self._cross = Crossover(params.fast, params.slow)

    def on_bar(self, bar: Bar) -> None:
        cross = self._cross.update(bar.close)
        if cross > 0:
            if self.position() == 0:
                self.buy(self._qty, rationale="fast SMA crossed above slow SMA")
        elif cross < 0 and self.position() > 0:
            self.close("cross_down")
