"""The engine: one single-threaded loop for every mode.

It pops events in (timestamp, sequence) order and runs each to completion. For a bar:
due events first (acks, timers), then the venue matches resting orders against the bar,
fills that produces reach the order manager, and only then do strategies see the bar —
so a strategy always sees the position its earlier orders produced. Signals go through
sizing and the risk gate to the order manager synchronously, inside the same event.

The engine is also the venues' `VenueContext`, the order manager's `ExecutionContext`
and the strategies' `StrategyContext`: one clock, one queue, one bus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from quantdesk.config import RiskLimits
from quantdesk.data.quote_firewall import QuoteFirewall
from quantdesk.domain import actions
from quantdesk.domain.enums import Mode, Severity
from quantdesk.domain.errors import DuplicatePlan
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.market import Bar, Quote
from quantdesk.domain.order import OrderStatus
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.signal import Decision, Signal
from quantdesk.engine.bus import Bus
from quantdesk.engine.clock import SimulatedClock, WallClock
from quantdesk.engine.decider import Decider
from quantdesk.engine.decision_log import DecisionLog
from quantdesk.engine.exposure import open_risk
from quantdesk.engine.queue import EventQueue
from quantdesk.obs.logging import correlation
from quantdesk.risk.controls import RiskControls
from quantdesk.risk.gate import Gate, MarketHealth, RiskState, can_enter

if TYPE_CHECKING:
    from quantdesk.domain.fill import Fill
    from quantdesk.domain.order import Order
    from quantdesk.execution.order_manager import OrderManager
    from quantdesk.storage.journal import Journal
    from quantdesk.strategies.base import Strategy
    from quantdesk.venues.base import Venue

Clock = SimulatedClock | WallClock


NSE_TICK = Decimal("0.05")  # an unlisted symbol: the NSE equity tick
EXECUTION_FAILURES = frozenset({"CANCEL_FAILED", "UNRESOLVED_ORDER", "MODIFY_FAILED"})
MarketHook = Callable[[Any], None]


class Engine:
    def __init__(
        self,
        clock: Clock,
        *,
        mode: Mode,
        limits: RiskLimits,
        gate: Gate = can_enter,
        risk: RiskControls | None = None,
        journal: Journal | None = None,
        instruments: Iterable[Instrument] = (),
        keep_log_lines: bool = True,
    ) -> None:
        self.clock = clock
        self.mode = mode
        self.limits = limits
        self.gate = gate
        self.risk = risk or RiskControls(limits)
        self.risk.emit = self.risk_event
        self.clock_hooks: list[Callable[[int], None]] = []  # EOD square-off, feed checks
        self.journal = journal
        self.queue = EventQueue()
        self.bus = Bus()
        self.log = DecisionLog(keep_lines=keep_log_lines)
        self.instruments = {i.symbol: i for i in instruments}
        self.venue: Venue | None = None
        self.oms: OrderManager | None = None
        self.strategies: list[Strategy] = []
        self._by_symbol: dict[str, list[Strategy]] = {}
        self.last_bars: dict[str, Bar] = {}
        self._heap = self.queue._heap
        self._advance = clock.advance_to
        self._trailing: dict[str, object] = {}
        self._quotes: dict[str, Quote] = {}
        self.quote_firewall = QuoteFirewall()
        self.firewall: dict[str, str] = {}  # symbol -> why its latest quote was refused
        self._on_bar_venue: MarketHook | None = None
        self._on_quote_venue: MarketHook | None = None
        self._oms_on_price: Callable[[str, Decimal, Decimal], None] = lambda *_: None
        self.events_processed = 0
        self.decider = Decider(self)
        self.timing = False  # per-stage latency of each signal (set by the event streams)
        self.equity_listeners: list[Callable[[int, Decimal], None]] = []  # per bar, if holding
        self._strategy_t0 = 0
        self.id_scope = ""  # paper runs set their own, so a data file can be traded twice
        self._holding = False  # any open position: marks move equity
        self.slippage_model: dict[tuple[str, str], Decimal] = {}  # see storage.slippage

    # -- wiring ----------------------------------------------------------------------
    def connect(self, venue: Venue, oms: OrderManager) -> None:
        self.venue = venue
        self.oms = oms
        self._on_bar_venue = getattr(venue, "on_bar", None)
        self._on_quote_venue = getattr(venue, "on_quote", None)
        oms.fill_listeners.append(self._notify_fill)
        oms.fill_listeners.append(self._risk_on_fill)
        self.bus.subscribe("trade", self._risk_on_trade)
        self.bus.subscribe("risk", self._risk_on_event)
        self.bus.subscribe("order", self._risk_on_order)
        self._oms_on_price = oms.on_price
        self._trailing = oms.trailing  # type: ignore[assignment]

    def add_strategy(self, strategy: Strategy) -> None:
        strategy.attach(self)
        self.strategies.append(strategy)
        self._by_symbol.setdefault(strategy.symbol, []).append(strategy)

    def start(self) -> None:
        for strategy in self.strategies:
            strategy.on_start()

    # -- contexts (venue, order manager, strategies) ---------------------------------
    def now(self) -> int:
        return self.clock.now()

    def schedule(self, ts: int, callback: Callable[[Any], None], payload: object) -> None:
        self.queue.push(ts, callback, payload)

    def publish(self, topic: str, event: object) -> None:
        self.bus.publish(topic, event)

    def market_state(self, symbol: str) -> dict[str, str]:
        quote = self._quotes.get(symbol)
        last = self.last_price(symbol)
        state = {"last": "" if last is None else str(last)}
        if quote is not None:
            state.update(bid=str(quote.bid), ask=str(quote.ask), spread=str(quote.spread))
        return state

    def last_price(self, symbol: str) -> Decimal | None:
        """The latest of the last bar's close and the last quote's mid."""
        bar = self.last_bars.get(symbol)
        quote = self._quotes.get(symbol)
        fresher = quote is not None and (bar is None or quote.ts >= bar.ts + bar.duration)
        if fresher and quote is not None and quote.mid is not None:
            return quote.mid
        return bar.close if bar is not None else None

    def position(self, symbol: str) -> Decimal:
        assert self.oms is not None
        return self.oms.book.quantity(symbol)

    def exit(self, symbol: str, reason: str) -> None:
        assert self.oms is not None
        self.log.add("exit", self.clock.now(), symbol, reason)
        self.oms.flatten(symbol, reason)

    def set_timer(self, ts: int, name: str, strategy: Strategy) -> None:
        self.queue.push(ts, self._fire_timer, (strategy, name))

    def on_venue_update(self, update: object) -> None:
        assert self.oms is not None
        self.oms.on_update(update)

    # -- the loop --------------------------------------------------------------------
    def run_feed(
        self,
        bars: Iterable[Bar],
        progress: Callable[[int], None] | None = None,
        every: int = 16_384,
    ) -> int:
        """Backtest/replay: merge a time-ordered bar feed with the queue; returns the
        number of bars. Events queued beyond the last bar stay queued: the runner closes
        out, then drains."""
        dispatch = self.on_bar
        count = 0
        for bar in bars:
            dispatch(bar)
            count += 1
            if progress is not None and not count % every:
                progress(count)
        if progress is not None:
            progress(count)
        return count

    def drain(self, until: int | None) -> None:
        """Run queued events with ts <= until (all of them when until is None)."""
        heap = self.queue._heap
        clock = self.clock
        while heap and (until is None or heap[0][0] <= until):
            ts, callback, payload = self.queue.pop()
            clock.advance_to(ts)
            callback(payload)
            self.events_processed += 1

    def on_bar(self, bar: Bar) -> None:
        self.events_processed += 1  # every caller's bar counts (backtest, replay, paper)
        end = bar.ts + bar.duration
        heap = self._heap
        if heap and heap[0][0] <= end:
            self.drain(end)
        self._advance(end)
        self.last_bars[bar.symbol] = bar
        venue_on_bar = self._on_bar_venue
        if venue_on_bar is not None:
            venue_on_bar(bar)
            if heap and heap[0][0] <= end:  # fills at this bar's prices first
                self.drain(end)
        if self._trailing:
            self._oms_on_price(bar.symbol, bar.high, bar.low)
        risk = self.risk
        risk.on_market_data(end)
        if self._holding:
            equity = self.equity()
            risk.on_equity(end, equity)
            for listener in self.equity_listeners:
                listener(end, equity)
        for hook in self.clock_hooks:
            hook(end)
        if self.timing:
            self._strategy_t0 = perf_counter_ns()
        for strategy in self._by_symbol.get(bar.symbol, ()):
            strategy.on_bar(bar)

    def settle(self, bar: Bar) -> None:
        """Let the venue match resting orders against `bar` without strategies seeing it
        (closing out at the end of a backtest)."""
        self.clock.advance_to(bar.ts)
        if self._on_bar_venue is not None:
            self._on_bar_venue(bar)
        self.drain(bar.ts)

    def on_quote(self, quote: Quote) -> None:
        if self.queue._heap and self.queue._heap[0][0] <= quote.ts:
            self.drain(quote.ts)
        self.clock.advance_to(quote.ts)
        self.risk.on_market_data(quote.ts)  # the feed is alive, even when the quote is bad
        if not self._quote_passes(quote):
            self.events_processed += 1
            return
        self._quotes[quote.symbol] = quote
        if self._on_quote_venue is not None:
            self._on_quote_venue(quote)
            self.drain(quote.ts)
        if self.timing:
            self._strategy_t0 = perf_counter_ns()
        for strategy in self._by_symbol.get(quote.symbol, ()):
            strategy.on_quote(quote)
        self.events_processed += 1

    def _quote_passes(self, quote: Quote) -> bool:
        """The quote firewall's verdict; a change of verdict is a risk event, once."""
        reason = self.quote_firewall.check(quote)
        before = self.firewall.get(quote.symbol)
        if reason is None:
            if before is not None:
                del self.firewall[quote.symbol]
                self.risk_event("QUOTE_CLEAN", Severity.INFO, f"{quote.symbol}: quotes clean")
            return True
        if reason != before:
            self.firewall[quote.symbol] = reason
            self.risk_event(
                "QUOTE_REFUSED",
                Severity.WARNING,
                f"{quote.symbol}: quote refused ({reason}) bid {quote.bid} ask {quote.ask}",
            )
        return False

    def _fire_timer(self, payload: object) -> None:
        strategy, name = payload  # type: ignore[misc]
        strategy.on_timer(name, self.clock.now())

    def _notify_fill(self, order: Order, fill: Fill) -> None:
        for strategy in self._by_symbol.get(fill.symbol, ()):
            strategy.on_fill(fill)

    # -- signal -> decision -> order -------------------------------------------------
    def submit_signal(self, signal: Signal) -> None:
        assert self.oms is not None
        if self.oms.knows_plan(signal.plan_id):
            return  # the same signal again (replayed event, restart): already acted on
        with correlation(signal.correlation_id, plan_id=signal.plan_id):  # on every log line
            self._act_on(signal)

    def _act_on(self, signal: Signal) -> None:
        assert self.oms is not None
        t1 = perf_counter_ns() if self.timing else 0
        if self.journal is not None:
            self.journal.record_signal(signal)
        self.publish("signal", signal)
        ta = perf_counter_ns() if self.timing else 0
        decision = self.decider.decide(signal)
        t2 = perf_counter_ns() if self.timing else 0
        self.log.add(
            "decision",
            decision.ts,
            decision.plan_id,
            decision.side.value,
            decision.quantity,
            decision.status.value,
            ",".join(decision.reasons),
        )
        if self.journal is not None:
            try:
                self.journal.record_decision(decision, self.mode.value)
            except DuplicatePlan:
                self.risk_event(
                    "DUPLICATE_PLAN",
                    Severity.INFO,
                    f"plan {decision.plan_id} was already acted on; skipped",
                )
                return

        self.publish("decision", decision)
        t3 = perf_counter_ns() if self.timing else 0
        if decision.approved:
            self.risk.on_entry(decision.ts)  # counted when sent: a pending entry is a trade
            self.oms.execute(decision, decision.entry_price, self.lot(signal.symbol))
        if self.timing:
            self._publish_latency(decision, t1, ta, t2, t3, perf_counter_ns())

    def _publish_latency(
        self, decision: Decision, t1: int, ta: int, t2: int, t3: int, t4: int
    ) -> None:
        """Consecutive stages from the strategy's call to the order's send: they sum to the
        total exactly. `model` is 0 until a strategy runs a model (the ML issue)."""
        risk = self.decider.risk_ns
        stages = {
            "features": t1 - self._strategy_t0 if self._strategy_t0 else 0,
            "model": 0,
            "decision": t2 - ta - risk,
            "risk": risk,
            "persistence": (ta - t1) + (t3 - t2),
            "execution": t4 - t3,
        }
        self.publish(
            "latency",
            {"plan_id": decision.plan_id, "symbol": decision.symbol, "ts": decision.ts,
             "status": decision.status.value, "stages_ns": stages,
             "total_ns": sum(stages.values())},
        )  # fmt: skip

    def lot(self, symbol: str) -> Decimal:
        instrument = self.instruments.get(symbol)
        return instrument.lot_size if instrument else Decimal(1)

    def tick(self, symbol: str) -> Decimal:
        instrument = self.instruments.get(symbol)
        return instrument.tick_size if instrument else NSE_TICK

    def sector(self, symbol: str) -> str | None:
        instrument = self.instruments.get(symbol)
        return instrument.sector if instrument else None

    def risk_state(self) -> RiskState:
        """What the gate judges (see `engine.exposure`)."""
        assert self.oms is not None
        positions, unrealised = open_risk(self.oms, self.last_price, self.sector)
        market = {}
        for symbol, bar in self.last_bars.items():
            market[symbol] = MarketHealth(bar.ts + bar.duration)
        for symbol, quote in self._quotes.items():
            seen = market.get(symbol)
            if seen is None or quote.ts > seen.last_ts:
                market[symbol] = MarketHealth(quote.ts, self.firewall.get(symbol))
        return self.risk.snapshot(positions, unrealised, market)

    def equity(self) -> Decimal:
        """Capital + realised P&L net of fees + open positions marked to market."""
        assert self.oms is not None
        equity = self.limits.capital
        for symbol, position in self.oms.book.positions.items():
            equity += position.realised_pnl - position.fees
            if position.quantity:
                mark = self.last_price(symbol) or position.avg_price or Decimal(0)
                equity += position.unrealised_pnl(mark)
        return equity

    # -- risk bookkeeping (what happened -> risk controls) ----------------------------
    def _risk_on_fill(self, order: Order, fill: Fill) -> None:
        assert self.oms is not None
        self._holding = any(p.quantity for p in self.oms.book.positions.values())

    def _risk_on_trade(self, closed: object) -> None:
        trade = getattr(closed, "trade", closed)
        self.risk.on_trade_closed(trade.exit_ts, trade.net_pnl)  # type: ignore[attr-defined]
        self.decider.on_trade_closed(self.equity())

    def _risk_on_event(self, event: object) -> None:
        assert isinstance(event, RiskEvent)
        if event.code.startswith("TRADING_"):  # persisted, so a restart recalls it
            self.record_action(actions.RISK_STATE, self.risk.memory())
        elif event.code == "ORDER_REJECTED":
            self.risk.on_rejection(event.ts)
            if event.details.get("reason") == "RETRIES_EXHAUSTED":
                self.risk.on_execution(event.ts, failed=True)
        elif event.code in EXECUTION_FAILURES:
            self.risk.on_execution(event.ts, failed=True)

    def _risk_on_order(self, order: object) -> None:
        if getattr(order, "status", None) is OrderStatus.ACCEPTED:
            self.risk.on_execution(self.clock.now(), failed=False)

    def record_action(self, action: str, payload: dict[str, str], actor: str = "risk") -> None:
        """Operator and safety actions (kill switch, square-off, mode) to the audit log."""
        self.log.add("action", self.clock.now(), action, *sorted(payload.items()))
        if self.journal is not None:
            self.journal.record_action(
                ts=self.clock.now(), actor=actor, action=action, payload=payload
            )
        self.publish("action", actions.Action(action, payload, self.clock.now()))

    def risk_event(self, code: str, severity: Severity, message: str) -> None:
        event = RiskEvent(self.clock.now(), code, severity, message)
        if self.journal is not None:
            self.journal.record_risk_event(event)
        self.publish("risk", event)
