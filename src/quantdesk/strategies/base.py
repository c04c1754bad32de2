"""The strategy API. Subclass `Strategy`, declare `Params`, override the hooks you need.

A strategy sees market data and its own fills and emits Signals; it never talks to a
venue. The same instance runs unchanged in backtest, replay, paper and live.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from quantdesk.domain.enums import Side
from quantdesk.domain.fill import Fill
from quantdesk.domain.market import Bar, Quote
from quantdesk.domain.signal import Signal


class StrategyContext(Protocol):
    """What the engine offers a strategy."""

    id_scope: str  # namespaces signal ids (see `Signal.scope`)

    def now(self) -> int: ...

    def position(self, symbol: str) -> Decimal: ...

    def submit_signal(self, signal: Signal) -> None: ...

    def exit(self, symbol: str, reason: str) -> None: ...

    def set_timer(self, ts: int, name: str, strategy: Strategy) -> None: ...


class NoParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy:
    name: ClassVar[str] = "strategy"
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, symbol: str, params: BaseModel | None = None) -> None:
        self.symbol = symbol
        self.params = params if params is not None else self.Params()
        self._ctx: StrategyContext | None = None

    @property
    def ctx(self) -> StrategyContext:
        if self._ctx is None:
            raise RuntimeError(f"strategy {self.name} is not attached to an engine")
        return self._ctx

    def attach(self, ctx: StrategyContext) -> None:
        self._ctx = ctx

    # -- hooks ---------------------------------------------------------------------
    def on_start(self) -> None:
        """Called once before the first event."""

    def on_bar(self, bar: Bar) -> None:
        """A completed bar of `self.symbol` (called at the bar's end time)."""

    def on_quote(self, quote: Quote) -> None:
        """A new top of book of `self.symbol`."""

    def on_fill(self, fill: Fill) -> None:
        """One of this symbol's orders filled (entries, targets, stops, exits)."""

    def on_timer(self, name: str, ts: int) -> None:
        """A timer set with `set_timer` fired."""

    # -- helpers -------------------------------------------------------------------
    def now(self) -> int:
        return self.ctx.now()

    def position(self) -> Decimal:
        return self.ctx.position(self.symbol)

    def buy(self, quantity: Decimal | None = None, **details: object) -> None:
        self._signal(Side.BUY, quantity, details)

    def sell(self, quantity: Decimal | None = None, **details: object) -> None:
        self._signal(Side.SELL, quantity, details)

    def close(self, reason: str) -> None:
        """Flatten this symbol at market; exits are never blocked by entry gates."""
        self.ctx.exit(self.symbol, reason)

    def set_timer(self, ts: int, name: str) -> None:
        self.ctx.set_timer(ts, name, self)

    def _signal(self, side: Side, quantity: Decimal | None, details: dict[str, object]) -> None:
        signal = Signal(
            strategy=self.name,
            symbol=self.symbol,
            side=side,
            ts=self.ctx.now(),
            quantity=quantity,
            scope=self.ctx.id_scope,
            **details,
        )  # type: ignore[arg-type]
        self.ctx.submit_signal(signal)
