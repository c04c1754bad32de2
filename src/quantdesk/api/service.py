"""The running desk as the API sees it: read models, operator commands, recent history.

Everything here runs on the engine's own thread: the API is served by uvicorn inside the
same asyncio loop as the paper/live pacer and its endpoints are `async def`, so a request
runs between two engine events and never sees a half-applied fill. Reads are O(positions +
open orders); history (signals, equity points) is bounded.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from quantdesk.domain.enums import Mode
from quantdesk.domain.time import ist_date
from quantdesk.execution.book import ClosedTrade
from quantdesk.risk.live_gate import LiveVerdict, ModeSwitch
from quantdesk.risk.summary import RiskSummary, summarise

if TYPE_CHECKING:
    from sqlalchemy import Engine as Database

    from quantdesk.config import Settings
    from quantdesk.desk import Desk
    from quantdesk.domain.market import Bar
    from quantdesk.domain.signal import Decision, Signal

MAX_SIGNALS = 200
MAX_TRADES = 500
MAX_EQUITY_POINTS = 2_000


@dataclass
class SeenSignal:
    signal: Signal
    decision: Decision | None = None


@dataclass
class Agent:
    """Whether strategies see market data. Stopped, bars still reach the venue (resting
    orders fill, stops protect) and the risk controls; only new signals stop."""

    running: bool = True
    once: bool = False  # run-once: stop again after the next bar
    bars_seen: int = 0
    signals_seen: int = 0
    last_signal_ts: int | None = None


@dataclass
class DeskService:
    desk: Desk
    settings: Settings
    session_id: str
    database: Database | None = None
    live_capable: bool = False  # the paper venue cannot trade live
    wall: Callable[[], float] = time.monotonic
    signals: deque[SeenSignal] = field(default_factory=lambda: deque(maxlen=MAX_SIGNALS))
    trades: deque[ClosedTrade] = field(default_factory=lambda: deque(maxlen=MAX_TRADES))
    equity_curve: deque[tuple[int, Decimal]] = field(
        default_factory=lambda: deque(maxlen=MAX_EQUITY_POINTS)
    )
    agent: Agent = field(default_factory=Agent)
    loop_lag_ms: float = 0.0
    last_data_wall: float | None = None
    _by_plan: dict[str, SeenSignal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        engine = self.desk.engine
        self.mode_switch = ModeSwitch(engine.mode, engine.record_action)
        bus = engine.bus
        bus.subscribe("signal", self._on_signal)
        bus.subscribe("decision", self._on_decision)
        bus.subscribe("trade", self._on_trade)
        bus.subscribe("fill", lambda _: self._mark_equity())
        self._strategy_bars = dict(engine._by_symbol)
        self.equity_curve.append((engine.now(), engine.equity()))

    # -- feeding -------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> None:
        """The runner calls this for every bar it hands the engine."""
        self.agent.bars_seen += 1
        self.last_data_wall = self.wall()
        if self.agent.once:
            self.agent.once = False
            self.stop_agent("agent.run_once")
        if self.desk.engine._holding:
            self._mark_equity()

    def _on_signal(self, signal: Signal) -> None:
        seen = SeenSignal(signal)
        if len(self.signals) == self.signals.maxlen:
            self._by_plan.pop(self.signals[0].signal.plan_id, None)
        self.signals.append(seen)
        self._by_plan[signal.plan_id] = seen
        self.agent.signals_seen += 1
        self.agent.last_signal_ts = signal.ts

    def _on_decision(self, decision: Decision) -> None:
        seen = self._by_plan.get(decision.plan_id)
        if seen is not None:
            seen.decision = decision

    def _on_trade(self, closed: ClosedTrade) -> None:
        self.trades.append(closed)
        self._mark_equity()

    def _mark_equity(self) -> None:
        engine = self.desk.engine
        point = (engine.now(), engine.equity())
        if self.equity_curve and self.equity_curve[-1][0] == point[0]:
            self.equity_curve[-1] = point
        elif not self.equity_curve or self.equity_curve[-1][1] != point[1]:
            self.equity_curve.append(point)

    # -- reads -----------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self.mode_switch.mode

    def risk(self) -> RiskSummary:
        engine = self.desk.engine
        return summarise(engine.risk, engine.risk_state())

    def ranked_signals(self) -> list[SeenSignal]:
        """The latest scan first, strongest first within one timestamp."""
        return sorted(self.signals, key=lambda s: (-s.signal.ts, -s.signal.strength))

    def feed_age_ms(self) -> float | None:
        if self.last_data_wall is None:
            return None
        return (self.wall() - self.last_data_wall) * 1000

    # -- operator commands (every one audited by the engine's record_action) ------------
    def pause(self, reason: str, actor: str) -> tuple[str, ...]:
        self.desk.engine.risk.pause(reason)
        self.desk.engine.record_action("operator.pause", {"actor": actor, "reason": reason})
        return self.desk.engine.risk.paused

    def resume(self, actor: str, release_kill_switch: bool) -> tuple[str, ...]:
        engine = self.desk.engine
        if release_kill_switch:
            self.desk.kill_switch.release(actor)
        still = engine.risk.resume(engine.now())
        engine.record_action("operator.resume", {"actor": actor, "still_blocking": ",".join(still)})
        return still

    def flatten(self, reason: str, actor: str) -> None:
        self.desk.kill_switch.engage(reason, actor)

    def cancel_all(self, actor: str) -> int:
        oms = self.desk.oms
        working = len(oms.open_orders())
        oms.cancel_all(None, "operator cancel-all")
        self.desk.engine.record_action(
            "operator.cancel_all", {"actor": actor, "orders": str(working)}
        )
        return working

    def request_mode(self, mode: str, confirmation: str, given_key: str | None) -> LiveVerdict:
        engine = self.desk.engine
        if mode == Mode.PAPER.value:
            self.mode_switch.to_paper()
            engine.mode = Mode.PAPER
            return LiveVerdict(True)
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        verdict = self.mode_switch.request_live(
            safe_mode=self.settings.safe_mode,
            configured_key=key,
            given_key=given_key,
            phrase=confirmation,
            session_day=ist_date(engine.now()),
        )
        if verdict.granted and not self.live_capable:
            self.mode_switch.to_paper("system")
            return LiveVerdict(False, ("this desk runs the paper venue: start `quantdesk live`",))
        if verdict.granted:
            engine.mode = Mode.LIVE
        return verdict

    # -- the agent -------------------------------------------------------------------
    def stop_agent(self, actor: str) -> None:
        if self.agent.running:
            self.desk.engine._by_symbol = {}
            self.agent.running = False
            self.desk.engine.record_action("agent.stop", {"actor": actor})

    def start_agent(self, actor: str) -> None:
        if not self.agent.running:
            self.desk.engine._by_symbol = dict(self._strategy_bars)
            self.agent.running = True
            self.desk.engine.record_action("agent.start", {"actor": actor})

    def run_once(self, actor: str) -> None:
        """One scan: strategies see the next bar, then stop again (feeding them an old bar
        twice would corrupt their indicators)."""
        if self.agent.running:
            return
        self.start_agent(actor)
        self.agent.once = True
