"""The desk's event streams, fed from the bus and the runner's per-bar hook.

Streams: `health` (throttled, see `obs.health`), `rejections`, `trade_lifecycle`,
`equity_curve` (every closed trade and an hourly heartbeat), `snapshot` (1 h and 24 h
buckets, see `obs.snapshots`), `latency` (per-stage, summing to the total), `regime`
(volatility regime transitions), `features` (values, last update per feature, stale list).
All handlers run on the engine thread and only build a record and queue it
(`obs.stream_writer`). Not here yet, because no venue gives them: funding/carry cost per
position (perpetuals) and order-book depth at decision time (a venue with a book).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from quantdesk.domain.actions import Action
from quantdesk.domain.enums import Severity
from quantdesk.domain.order import OrderStatus
from quantdesk.domain.time import NS_PER_S, iso_utc
from quantdesk.obs.health import HealthFacts, HealthGate
from quantdesk.obs.lifecycle import EntryContext, lifecycle_record
from quantdesk.obs.snapshots import BUCKETS, Snapshots
from quantdesk.obs.stream_writer import StreamWriter
from quantdesk.obs.trackers import FeatureStaleness, RegimeTracker

if TYPE_CHECKING:
    from quantdesk.desk import Desk
    from quantdesk.domain.order import Order
    from quantdesk.domain.risk_event import RiskEvent
    from quantdesk.domain.signal import Decision, Signal

HOUR_NS = 3600 * NS_PER_S


class DeskStreams:
    """Event-driven where the bus speaks, clock-driven for the rest: a timer every
    `tick_s` of engine time (aligned to the clock, so a snapshot boundary is hit exactly)
    closes snapshot buckets, samples regimes, writes the hourly equity heartbeat and the
    health heartbeat; equity moves are caught on the engine's own per-bar equity while a
    position is held. Nothing runs per bar otherwise: the engine's pace comes first."""

    def __init__(
        self,
        desk: Desk,
        writer: StreamWriter,
        session_id: str,
        *,
        tick_s: int = 900,
        health_every_s: int = 3600,
    ) -> None:
        if tick_s <= 0 or HOUR_NS % (tick_s * NS_PER_S):
            raise ValueError(f"tick_s must divide an hour, got {tick_s}")
        self.desk = desk
        self.engine = desk.engine
        self.writer = writer
        self.session_id = session_id
        self.tick_ns = tick_s * NS_PER_S
        self.health = HealthGate(every_ns=health_every_s * NS_PER_S)
        self.snapshots = [Snapshots(width, name) for name, width in BUCKETS.items()]
        self.features = FeatureStaleness()
        self.regimes = RegimeTracker(warmup=20)
        self.reconnects = 0  # venues with websockets report through `reconnected`
        self._entries: dict[str, EntryContext] = {}
        self._signals: dict[str, Signal] = {}
        self._exit_refs: dict[str, Decimal] = {}  # plan id -> level the exit asked for
        self._last_equity: Decimal | None = None
        self._last_equity_ts = 0
        self._peak: Decimal | None = None
        self._state_version = 0
        self._band: tuple[Decimal, Decimal] | None = None  # equity inside: no health due
        self._sampled: dict[str, int] = {}  # symbol -> bar ts the regime last saw
        self._data_seen = 0  # market data time at the last tick
        self.running = False

    def attach(self) -> None:
        bus = self.engine.bus
        bus.subscribe("signal", self._on_signal)
        bus.subscribe("decision", self._on_decision)
        bus.subscribe("order", self._on_order)
        bus.subscribe("action", self._on_action)
        bus.subscribe("trade", self._on_trade)
        bus.subscribe("risk", self._on_risk)
        bus.subscribe("latency", self._on_latency)
        self.engine.equity_listeners.append(self._on_equity)
        self.engine.timing = True
        self.running = True
        now = self.engine.now()
        self.engine.schedule(now - now % self.tick_ns + self.tick_ns, self._tick, None)

    def stop(self) -> None:
        """The queued tick runs once more and does not come back (so a drain can end)."""
        self.running = False

    def close(self) -> None:
        """Stop the timer; write the buckets in progress, marked incomplete."""
        self.running = False
        now = self.engine.now()
        for snapshots in self.snapshots:
            last = snapshots.close()
            if last is not None:
                self._emit("snapshot", now, last)

    def reconnected(self) -> None:
        """A venue's websocket reconnected: counted, and health is written at once."""
        self.reconnects += 1
        self._maybe_health(self.engine.now(), self.engine.equity())

    # -- the clock ------------------------------------------------------------------------
    def _tick(self, _: object) -> None:
        if not self.running:
            return
        engine = self.engine
        now = engine.now()
        engine.schedule(now + self.tick_ns, self._tick, None)
        seen = engine.risk.data.last_data or 0
        if seen == self._data_seen:
            return  # no market data since the last tick (market shut): nothing to say
        self._data_seen = seen
        equity = engine.equity()
        for snapshots in self.snapshots:
            done = snapshots.observe(now, equity)
            if done is not None:
                self._emit("snapshot", now, done)
        for symbol, bar in engine.last_bars.items():
            if self._sampled.get(symbol) != bar.ts:
                self._sampled[symbol] = bar.ts
                change = self.regimes.on_price(symbol, float(bar.close))
                if change is not None:
                    record = {"symbol": symbol, "from": change[0], "to": change[1]}
                    self._emit("regime", now, record)
        if now - self._last_equity_ts >= HOUR_NS:
            self._equity_point("heartbeat")
        self._maybe_health(now, equity)

    def _on_equity(self, ts: int, equity: Decimal) -> None:
        """The engine's per-bar equity while holding: two comparisons unless it moved."""
        band = self._band
        if band is not None and band[0] <= equity <= band[1]:
            return
        self._maybe_health(ts, equity)

    def _maybe_health(self, now: int, equity: Decimal) -> None:
        engine = self.engine
        risk = engine.risk
        stale = risk.data.tripped
        facts = HealthFacts(equity, stale, self.reconnects, self._state_version)
        why = self.health.reason(facts, now)
        if why is None:
            return
        move = abs(equity) * self.health.equity_move
        self._band = (equity - move, equity + move)
        self._peak = equity if self._peak is None else max(self._peak, equity)
        drawdown = (self._peak - equity) * 100 / self._peak if self._peak else Decimal(0)
        summary = engine.risk_state()
        ages = {
            symbol: (now - p.opened_ts) // NS_PER_S
            for symbol, p in self.desk.oms.book.positions.items()
            if p.quantity and p.opened_ts is not None
        }
        self._emit(
            "health",
            now,
            {
                "reason": why,
                "equity": str(equity),
                "drawdown_pct": str(drawdown.quantize(Decimal("0.0001"))),
                "daily_pnl": str(summary.daily_pnl),
                "heat": str(summary.heat),
                "trading_state": risk.trading_state.value,
                "paused": list(risk.paused),
                "kill_switch": risk.kill_switch,
                "stale": stale,
                "ws_reconnects": self.reconnects,
                "open_positions": len(ages),
                "open_orders": len(self.desk.oms.open_orders()),
                "position_age_s": ages,
                "stream_drops": sum(self.writer.dropped.values()),
                "events_processed": engine.events_processed,
            },
        )

    # -- bus --------------------------------------------------------------------------
    def _on_signal(self, signal: Signal) -> None:
        self._signals[signal.plan_id] = signal
        if signal.features:
            self.features.update(signal.ts, signal.features)
            self._emit(
                "features",
                signal.ts,
                {
                    "plan_id": signal.plan_id,
                    "symbol": signal.symbol,
                    "features": dict(signal.features),
                    "last_update": {n: iso_utc(ts) for n, ts in self.features.last_update.items()},
                    "stale": self.features.stale(signal.ts),
                },
            )
            if self.features.crossed(signal.ts):
                stale = self.features.stale(signal.ts)
                self.engine.risk_event(
                    "FEATURES_STALE", Severity.WARNING, f"{len(stale)} features stale: {stale}"
                )

    def _on_decision(self, decision: Decision) -> None:
        signal = self._signals.pop(decision.plan_id, None)
        if signal is not None and decision.approved:
            self._entries[decision.plan_id] = EntryContext(signal, decision)
        elif not decision.approved:
            for snapshots in self.snapshots:
                snapshots.on_risk_block()

    def _on_order(self, order: Order) -> None:
        if order.status is not OrderStatus.SUBMITTED or order.leg == "entry":
            return
        reference = order.trigger_price or order.limit_price
        if reference is None:  # a market exit: the mark when it was sent
            reference = self.engine.last_price(order.symbol)
        if reference is not None and order.plan_id:
            self._exit_refs[order.plan_id] = reference

    def _on_trade(self, closed: Any) -> None:
        plan = closed.plan_id or ""
        entry, exit_ref = self._entries.pop(plan, None), self._exit_refs.pop(plan, None)
        self._emit(
            "trade_lifecycle",
            closed.trade.exit_ts,
            lambda: lifecycle_record(closed, entry, exit_ref),  # built on the writer thread
        )
        for snapshots in self.snapshots:
            snapshots.on_trade(closed.trade.net_pnl, closed.trade.fees)
        self._equity_point("trade")

    def _on_action(self, action: Action) -> None:
        if action.name.startswith(("risk.", "kill_switch.", "operator.")):
            self._state_change()

    def _on_risk(self, event: RiskEvent) -> None:
        if event.code.startswith(("TRADING_", "BREAKER_", "KILL_SWITCH")):
            self._state_change()
        if event.severity is not Severity.INFO:
            for snapshots in self.snapshots:
                snapshots.on_error()
        if event.code != "ORDER_REJECTED":
            return
        self._emit(
            "rejections",
            event.ts,
            {"symbol": event.symbol, "message": event.message, **dict(event.details)},
        )

    def _state_change(self) -> None:
        """Trading state, breakers, kill switch: health goes out at once."""
        self._state_version += 1
        self._maybe_health(self.engine.now(), self.engine.equity())

    def _on_latency(self, sample: dict[str, Any]) -> None:
        self._emit("latency", sample["ts"], lambda: _latency_record(sample))

    def _equity_point(self, why: str) -> None:
        engine = self.engine
        now, equity = engine.now(), engine.equity()
        if equity == self._last_equity and why != "heartbeat":
            return
        self._last_equity, self._last_equity_ts = equity, now
        self._emit("equity_curve", now, {"equity": str(equity), "reason": why})

    def _emit(self, stream: str, ts: int, record: Any) -> None:
        self.writer.emit(stream, ts, record)


def _latency_record(sample: dict[str, Any]) -> dict[str, Any]:
    stages = sample["stages_ns"]
    return {
        "plan_id": sample["plan_id"],
        "symbol": sample["symbol"],
        "status": sample["status"],
        "stages_ms": {k: v / 1e6 for k, v in stages.items()},
        "total_ms": sample["total_ns"] / 1e6,
        "stages_ns": stages,
        "total_ns": sample["total_ns"],
    }
