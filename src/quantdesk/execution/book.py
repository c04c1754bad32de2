"""Positions and round trips, from fills: exact P&L, slippage and latency per trade."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from quantdesk.domain.fill import Fill
from quantdesk.domain.money import BPS, EXACT
from quantdesk.domain.position import Position
from quantdesk.domain.signal import Decision
from quantdesk.domain.time import NS_PER_MS
from quantdesk.domain.trade import Trade

SLIPPAGE_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    trade: Trade
    plan_id: str | None
    slippage_bps: Decimal | None
    latency_ms: float | None


@dataclass(slots=True)
class _TripSource:
    plan_id: str | None
    decision: Decision | None
    reference_price: Decimal | None
    first_fill_ts: int


class Book:
    """Net positions per symbol; knows which plan opened each round trip."""

    def __init__(self) -> None:
        self.positions: dict[str, Position] = {}
        self._sources: dict[str, _TripSource] = {}  # open trade id -> where it came from

    def quantity(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return position.quantity if position is not None else Decimal(0)

    def position(self, symbol: str) -> Position:
        position = self.positions.get(symbol)
        if position is None:
            position = self.positions[symbol] = Position(symbol)
        return position

    def apply(
        self,
        fill: Fill,
        decision: Decision | None,
        reference_price: Decimal | None,
        exit_reason: str,
    ) -> tuple[str | None, list[ClosedTrade]]:
        """Book a fill. Returns the trade id the fill belongs to and any closed trades."""
        position = self.position(fill.symbol)
        before = position.open_trade_id
        trades = position.apply(fill)
        closed = [self._close(t, exit_reason) for t in trades]
        after = position.open_trade_id
        if after is not None and after != before:
            plan = decision.plan_id if decision is not None else None
            self._sources[after] = _TripSource(plan, decision, reference_price, fill.ts)
        return before or after, closed

    def restore(
        self, position: Position, plan_id: str | None, decisions: dict[str, Decision]
    ) -> None:
        self.positions[position.symbol] = position
        trade_id = position.open_trade_id
        if trade_id is not None:
            decision = decisions.get(plan_id) if plan_id else None
            reference = decision.entry_price if decision else None
            opened = position.opened_ts or 0
            self._sources[trade_id] = _TripSource(plan_id, decision, reference, opened)

    def plan_of_open_trade(self, symbol: str) -> str | None:

        trade_id = self.position(symbol).open_trade_id
        source = self._sources.get(trade_id) if trade_id else None
        return source.plan_id if source else None

    def _close(self, trade: Trade, exit_reason: str) -> ClosedTrade:
        source = self._sources.pop(trade.trade_id, None)
        trade = replace(trade, exit_reason=exit_reason)
        if source is None:
            return ClosedTrade(trade, None, None, None)
        return ClosedTrade(trade, source.plan_id, _slippage(trade, source), _latency(source))


def _slippage(trade: Trade, source: _TripSource) -> Decimal | None:
    """Entry fill vs decision price in bps; positive = worse for us."""
    reference = source.reference_price
    if reference is None or reference == 0:
        return None
    adverse = (trade.entry_price - reference) * trade.side.sign
    return EXACT.divide(adverse * BPS, reference).quantize(SLIPPAGE_QUANTUM)


def _latency(source: _TripSource) -> float | None:
    if source.decision is None:
        return None
    return (source.first_fill_ts - source.decision.ts) / NS_PER_MS
