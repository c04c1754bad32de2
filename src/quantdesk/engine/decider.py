"""Signal -> Decision: size the signal, judge it at the gate, protect a market entry.

Sizing is fixed-fractional risk to the stop (or the strategy's own size), held under the
confidence-scaled per-trade loss cap, the buying power left and the symbol's exposure
room, and shrunk by the drawdown guard after losses (see `risk.sizing`, `risk.kelly`).
The research profile (`allow_all`) sizes by risk alone: no account, no protection.
"""

from __future__ import annotations

from decimal import Decimal
from time import perf_counter_ns
from typing import TYPE_CHECKING

from quantdesk.domain.enums import OrderType
from quantdesk.domain.signal import Decision, DecisionStatus, Signal
from quantdesk.risk.gate import EntryIntent, RiskState, allow_all
from quantdesk.risk.kelly import DrawdownGuard
from quantdesk.risk.protection import protective_limit
from quantdesk.risk.sizing import Sizing, confidence_max_loss, size_entry

if TYPE_CHECKING:
    from quantdesk.engine.engine import Engine

ZERO = Decimal(0)


class Decider:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.limits = engine.limits
        self.risk_ns = 0
        self.drawdown = DrawdownGuard(
            max_drawdown_pct=self.limits.derisk_drawdown_pct,
            grace_pct=self.limits.derisk_grace_pct,
        )

    def on_trade_closed(self, equity: Decimal) -> None:
        """Step the drawdown guard: size shrinks at once, recovers step by step."""
        self.drawdown.update(equity)

    def decide(self, signal: Signal) -> Decision:
        engine = self.engine
        self.risk_ns = 0  # risk state + gate, for the latency stream
        research = engine.gate is allow_all
        price = signal.entry if signal.entry is not None else engine.last_price(signal.symbol)
        reasons: tuple[str, ...] = ()
        quantity = ZERO
        limit = signal.entry
        if price is None:
            reasons = ("NO_PRICE",)
        else:
            started = perf_counter_ns()
            state = None if research else engine.risk_state()
            sizing = self._size(signal, price, state)
            quantity = sizing.quantity
            if quantity <= 0:
                reasons = (f"NO_SIZE_{sizing.binding.upper()}",)
            elif state is not None:
                intent = EntryIntent(
                    signal.symbol,
                    signal.side,
                    quantity,
                    price,
                    signal.stop_loss,
                    signal.targets,
                    signal.ts,
                    engine.mode,
                    engine.sector(signal.symbol),
                )
                reasons = engine.gate(intent, state).reasons
                self.risk_ns = perf_counter_ns() - started
                if not reasons and limit is None:
                    limit = protective_limit(
                        signal.side,
                        price,
                        signal.stop_loss,
                        quantity,
                        self.limits.heat_cap - state.heat,
                        self.limits.market_protection_pct,
                        engine.tick(signal.symbol),
                    )
        return Decision(
            plan_id=signal.plan_id,
            correlation_id=signal.correlation_id,
            symbol=signal.symbol,
            side=signal.side,
            quantity=quantity if not reasons else ZERO,
            ts=signal.ts,
            status=DecisionStatus.REFUSED if reasons else DecisionStatus.APPROVED,
            order_type=OrderType.LIMIT if limit is not None else OrderType.MARKET,
            entry_price=price,
            stop_loss=signal.stop_loss,
            targets=signal.targets,
            risk_amount=abs(price - signal.stop_loss) * quantity
            if price is not None and signal.stop_loss is not None
            else ZERO,
            reasons=reasons,
            trail_distance=signal.trail_distance,
            time_stop_ns=signal.time_stop_ns,
            limit_price=limit,
        )

    def _size(self, signal: Signal, price: Decimal, state: RiskState | None) -> Sizing:
        engine, limits = self.engine, self.limits
        lot = engine.lot(signal.symbol)
        slippage = engine.slippage_model.get((signal.symbol, signal.side.value), ZERO)
        if state is None:
            return size_entry(
                signal, price, limits.capital, limits.risk_per_trade_pct, lot, slippage
            )
        held = state.positions.get(signal.symbol)
        exposure = sum((p.exposure for p in state.positions.values()), ZERO)
        confidence = Decimal(str(signal.strength)) if signal.strength > 0 else Decimal(1)
        return size_entry(
            signal,
            price,
            limits.capital,
            limits.risk_per_trade_pct,
            lot,
            slippage,
            buying_power=max(ZERO, engine.equity() - exposure),
            exposure_room=max(ZERO, limits.max_symbol_exposure - (held.exposure if held else 0)),
            max_loss=confidence_max_loss(limits.max_loss_per_trade, confidence),
            risk_scale=self.drawdown.multiplier,
        )
