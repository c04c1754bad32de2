"""The desk's Prometheus metrics: one registry per desk, fed by the bus and a sampler.

Two ways in, chosen by cost:

- bus handlers (signal, decision, fill, trade, risk, latency) bump counters and
  histograms inside the engine's event: a label lookup and a lock, no I/O;
- `sample(now_ns)` refreshes the gauges that need state. The runner calls it on the
  engine's thread, between two events, about once a wall second. It costs one
  `engine.risk_state()` and one `engine.equity()`: O(open positions + working orders +
  symbols with market data); about 0.5 ms with 50 bracketed positions (150 working
  orders). Equity's high-water mark for the drawdown also follows the engine's per-bar
  equity while a position is held, and every closed trade.

A scrape (the API's `/metrics`, or `obs.metrics_server` on its own thread) only reads the
registry; it never touches the engine. The registry is the desk's own, never the global
default, so several desks (and tests) coexist in one process.

Label cardinality is bounded: no order, plan, fill or trade id is ever a label value.
Closed vocabularies (side, order type, stage, breaker, trading state) are used as they
are. Open ones (strategy, exit reason, rejection and refusal reasons) pass through a
`LabelVocabulary`: normalised, id-looking values become `other`, and past `limit`
distinct values every newcomer is `other` too. `trader_positions{symbol}` has one series
per symbol the book has held, so it is bounded by the instrument universe the desk trades.

P&L and slippage histograms have negative buckets, so prometheus-client (following
OpenMetrics) writes no `_sum` for them: read them through quantiles.

Once attached and sampled, every family is fed but two: `trader_engine_loop_lag_ms` and
`trader_ws_reconnects_total` wait for their producers (`set_loop_lag` from the runner's
pacer, `ws_reconnected` from a websocket venue). Decision stages come from the engine's
own per-signal clock (the "latency" topic, on while `engine.timing` is set), except
`model`, which the engine reports as 0 until a strategy runs a model and which is not
observed until then; `stage_timer`/`observe_stage` let other code add its own timings.

"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.money import BPS
from quantdesk.domain.order import OrderFilled, OrderSubmitted
from quantdesk.domain.time import NS_PER_MS

if TYPE_CHECKING:
    from quantdesk.desk import Desk
    from quantdesk.domain.fill import Fill
    from quantdesk.domain.order import Order
    from quantdesk.domain.risk_event import RiskEvent
    from quantdesk.domain.signal import Decision, Signal
    from quantdesk.engine.engine import Engine
    from quantdesk.obs.events import ClosedTradeLike

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what `generate_latest` writes
OTHER = "other"
STAGES = ("features", "model", "decision", "risk", "persistence", "execution")
TRADING_STATES = ("ACTIVE", "REDUCING", "HALTED")  # risk.controls.TradingState
_NOT_MEASURED_WHEN_ZERO = frozenset({"features", "model"})  # the engine's placeholders
_CONTROL_EVENTS = ("TRADING_", "BREAKER_", "KILL_SWITCH")
_MAX_PLANS = 4096  # plan id -> strategy, for trades; oldest forgotten first

PNL_BPS = (-500, -200, -100, -50, -25, -10, 0, 10, 25, 50, 100, 200, 500)
SLIPPAGE_BPS = (-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50, 100)
STRENGTH = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
EXECUTION_MS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000, 60000, 300000)
STAGE_MS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")
_ID_LIKE = re.compile(r"[0-9a-fA-F]{12,}|[0-9]{8,}")


class LabelVocabulary:
    """The values one open label may take: at most `limit`, first come first kept.

    A value is normalised (runs of anything but letters, digits and `_.:-` become `_`,
    at most 40 characters); one that looks like an identifier (a long hex or digit run:
    order, plan and trade ids are sha256 hex) is `other`, as is every newcomer once the
    vocabulary is full. Empty is `none`.
    """

    def __init__(self, limit: int = 32) -> None:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        label = _UNSAFE.sub("_", value.strip())[:40].strip("_")
        if not label:
            return "none"
        if label in self.seen:
            return label
        if _ID_LIKE.search(label) or len(self.seen) >= self.limit:
            return OTHER
        self.seen.add(label)
        return label


class DeskMetrics:
    """All `trader_*` families of one desk, in its own `CollectorRegistry`."""

    def __init__(self, *, label_limit: int = 32) -> None:
        self.registry = CollectorRegistry()
        self.strategies = LabelVocabulary(label_limit)
        self.exit_reasons = LabelVocabulary(label_limit)
        self.reject_reasons = LabelVocabulary(label_limit)
        self.refusal_reasons = LabelVocabulary(label_limit)
        self._desk: Desk | None = None
        self._plans: dict[str, str] = {}  # plan id -> strategy name
        self._symbol_strategy: dict[str, str] = {}  # symbols traded by one strategy only
        self._peak = Decimal(0)
        self._events_seen = 0
        self._define_state()
        self._define_activity()

    def _define_state(self) -> None:
        gauge = partial(Gauge, registry=self.registry)
        self.equity = gauge("trader_equity_rupees", "Capital + realised net P&L + open marks")
        self.drawdown = gauge("trader_drawdown_pct", "Equity below its high-water mark, % of it")
        self.daily_pnl = gauge("trader_daily_pnl_rupees", "Realised + unrealised P&L, IST day")
        self.positions = gauge("trader_positions", "Signed net quantity", ["symbol"])
        self.heat = gauge("trader_portfolio_heat_rupees", "Rupees lost if every stop is hit")
        self.heat_pct = gauge("trader_portfolio_heat_pct_of_cap", "Heat as % of the heat cap")
        self.feed_staleness = gauge("trader_feed_staleness_ms", "Engine time since last data")
        self.breaker = gauge("trader_breaker_tripped", "1 while tripped", ["breaker"])
        self.kill_switch = gauge("trader_kill_switch_engaged", "1 while engaged")
        self.trading_state = gauge("trader_trading_state", "1 for the current state", ["state"])
        self.loop_lag = gauge("trader_engine_loop_lag_ms", "How late the runner's loop woke")
        for state in TRADING_STATES:
            self.trading_state.labels(state)

    def _define_activity(self) -> None:
        counter = partial(Counter, registry=self.registry)
        histogram = partial(Histogram, registry=self.registry)
        self.events = counter("trader_events_processed_total", "Events the engine ran")
        self.trades = counter(
            "trader_trades_total", "Closed round trips", ["strategy", "side", "exit_reason"]
        )
        self.trade_pnl = histogram(
            "trader_trade_pnl_bps", "Net P&L, bps of entry notional", buckets=PNL_BPS
        )
        self.signal_strength = histogram(
            "trader_signal_strength", "Signal strength", ["strategy"], buckets=STRENGTH
        )
        self.decisions = counter("trader_decisions_total", "Decisions", ["status"])
        self.refusals = counter("trader_entry_refusals_total", "Entry refusals", ["reason"])
        self.rejections = counter("trader_order_rejections_total", "Rejected orders", ["reason"])
        self.slippage = histogram(
            "trader_slippage_bps", "Entry vs decision price, + = worse", ["side"],
            buckets=SLIPPAGE_BPS,
        )  # fmt: skip
        self.execution_latency = histogram(
            "trader_execution_latency_ms", "Submitted -> first fill, engine clock",
            ["order_type"], buckets=EXECUTION_MS,
        )  # fmt: skip
        self.stage_latency = histogram(
            "trader_decision_stage_latency_ms", "Wall time per decision stage", ["stage"],
            buckets=STAGE_MS,
        )  # fmt: skip
        self.ws_reconnects = counter("trader_ws_reconnects_total", "Venue websocket reconnects")
        for side in Side:
            self.slippage.labels(side.value)
        for order_type in OrderType:
            self.execution_latency.labels(order_type.value)
        for stage in STAGES:
            self.stage_latency.labels(stage)

    # -- wiring ----------------------------------------------------------------------
    def attach(self, desk: Desk, *, stage_timing: bool = True) -> None:
        """Subscribe to the desk's bus. `stage_timing` turns on the engine's per-signal
        stage clock (`engine.timing`: a few `perf_counter_ns` calls per signal)."""
        if self._desk is not None:
            raise RuntimeError("these metrics are already attached to a desk")
        self._desk = desk
        engine = desk.engine
        owners: dict[str, set[str]] = {}
        for strategy in engine.strategies:
            owners.setdefault(strategy.symbol, set()).add(strategy.name)
        self._symbol_strategy = {s: next(iter(n)) for s, n in owners.items() if len(n) == 1}
        bus = engine.bus
        bus.subscribe("signal", self._on_signal)
        bus.subscribe("decision", self._on_decision)
        bus.subscribe("fill", self._on_fill)
        bus.subscribe("trade", self._on_trade)
        bus.subscribe("risk", self._on_risk)
        bus.subscribe("latency", self._on_latency)
        engine.equity_listeners.append(self._on_equity)
        if stage_timing:
            engine.timing = True
        self._peak = engine.equity()
        for breaker in engine.risk.breakers:
            self.breaker.labels(breaker.name)
        self._refresh_controls(engine)

    def sample(self, now_ns: int | None = None) -> None:
        """Refresh the state gauges; `now_ns` is engine time (default: the engine's now).
        Call it on the engine's thread, between events; see the module doc for its cost."""
        engine = self._engine()
        now = engine.now() if now_ns is None else now_ns
        state = engine.risk_state()
        equity = engine.equity()
        self._peak = max(self._peak, equity)
        self.equity.set(float(equity))
        self.drawdown.set(float((self._peak - equity) * 100 / self._peak) if self._peak > 0 else 0)
        self.daily_pnl.set(float(state.daily_pnl))
        heat = state.heat
        cap = state.limits.heat_cap if state.limits is not None else Decimal(0)
        self.heat.set(float(heat))
        self.heat_pct.set(float(heat * 100 / cap) if cap > 0 else 0.0)
        assert engine.oms is not None
        for symbol, position in engine.oms.book.positions.items():
            self.positions.labels(symbol).set(float(position.quantity))
        latest = max((m.last_ts for m in state.market.values()), default=None)
        self.feed_staleness.set(float("nan") if latest is None else (now - latest) / NS_PER_MS)
        self._refresh_controls(engine)
        processed = engine.events_processed
        if processed > self._events_seen:
            self.events.inc(processed - self._events_seen)
        self._events_seen = processed

    def set_loop_lag(self, ms: float) -> None:
        """How late the runner's loop woke for its last event (the paper pacer's lateness)."""
        self.loop_lag.set(ms)

    def ws_reconnected(self) -> None:
        """A venue's market or order websocket reconnected."""
        self.ws_reconnects.inc()

    def observe_stage(self, stage: str, ms: float) -> None:
        """One decision stage's wall time; `stage` is one of `STAGES`."""
        if stage not in STAGES:
            raise ValueError(f"unknown decision stage {stage!r}; one of {', '.join(STAGES)}")
        self.stage_latency.labels(stage).observe(ms)

    @contextmanager
    def stage_timer(self, stage: str) -> Iterator[None]:
        """`with metrics.stage_timer("model"): ...` observes the block's wall time."""
        if stage not in STAGES:
            raise ValueError(f"unknown decision stage {stage!r}; one of {', '.join(STAGES)}")
        start = perf_counter_ns()
        try:
            yield
        finally:
            self.observe_stage(stage, (perf_counter_ns() - start) / NS_PER_MS)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    # -- bus handlers (engine thread: no I/O) -----------------------------------------
    def _on_signal(self, signal: Signal) -> None:
        self.signal_strength.labels(self.strategies(signal.strategy)).observe(signal.strength)
        plans = self._plans
        plans[signal.plan_id] = signal.strategy
        if len(plans) > _MAX_PLANS:
            del plans[next(iter(plans))]

    def _on_decision(self, decision: Decision) -> None:
        self.decisions.labels(decision.status.value).inc()
        if not decision.approved:
            self._plans.pop(decision.plan_id, None)
            for reason in decision.reasons:
                self.refusals.labels(self.refusal_reasons(reason)).inc()

    def _on_fill(self, fill: Fill) -> None:
        order = self._engine().oms.orders.get(fill.client_order_id)  # type: ignore[union-attr]
        if order is None or len(order.fill_ids) != 1 or fill.fill_id not in order.fill_ids:
            return  # only an order's first fill
        latency = first_fill_latency_ms(order)
        if latency is not None:
            self.execution_latency.labels(order.order_type.value).observe(latency)

    def _on_trade(self, closed: ClosedTradeLike) -> None:
        trade = closed.trade
        strategy = self._plans.pop(closed.plan_id or "", None)
        strategy = strategy or self._symbol_strategy.get(trade.symbol, "unknown")
        reason = self.exit_reasons(trade.exit_reason or "unknown")
        self.trades.labels(self.strategies(strategy), trade.side.value, reason).inc()
        notional = trade.entry_price * trade.quantity
        if notional:
            self.trade_pnl.observe(float(trade.net_pnl * BPS / notional))
        if closed.slippage_bps is not None:
            self.slippage.labels(trade.side.value).observe(float(closed.slippage_bps))
        self._peak = max(self._peak, self._engine().equity())

    def _on_risk(self, event: RiskEvent) -> None:
        if event.code == "ORDER_REJECTED":
            reason = self.reject_reasons(event.details.get("reason", "unknown"))
            self.rejections.labels(reason).inc()
        elif event.code.startswith(_CONTROL_EVENTS):
            self._refresh_controls(self._engine())

    def _on_latency(self, sample: Mapping[str, Any]) -> None:
        for stage, ns in sample["stages_ns"].items():
            if stage not in STAGES or (ns == 0 and stage in _NOT_MEASURED_WHEN_ZERO):
                continue
            self.stage_latency.labels(stage).observe(max(ns, 0) / NS_PER_MS)

    def _on_equity(self, ts: int, equity: Decimal) -> None:
        if equity > self._peak:
            self._peak = equity

    # -- helpers ---------------------------------------------------------------------
    def _engine(self) -> Engine:
        if self._desk is None:
            raise RuntimeError("attach(desk) first")
        return self._desk.engine

    def _refresh_controls(self, engine: Engine) -> None:
        risk = engine.risk
        for breaker in risk.breakers:
            self.breaker.labels(breaker.name).set(1 if breaker.tripped else 0)
        self.kill_switch.set(1 if risk.kill_switch else 0)
        current = risk.trading_state.value
        states = TRADING_STATES if current in TRADING_STATES else (*TRADING_STATES, current)
        for state in states:
            self.trading_state.labels(state).set(1 if state == current else 0)


def first_fill_latency_ms(order: Order) -> float | None:
    """From the order's first `OrderSubmitted` to its first `OrderFilled` (engine clock;
    an order re-sent after an ambiguous answer counts from its first send)."""
    submitted = None
    for event in order.events:
        if submitted is None and isinstance(event, OrderSubmitted):
            submitted = event.ts
        elif isinstance(event, OrderFilled):
            return None if submitted is None else max(event.ts - submitted, 0) / NS_PER_MS
    return None
