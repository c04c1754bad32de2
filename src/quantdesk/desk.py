"""Assembly: one engine, one venue, one order manager, the strategies, the journal.

Every runner (backtest, replay, paper, live) builds its desk here, so the modes differ
only in the clock and the venue they pass in — the one path of DESIGN.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode
from quantdesk.domain.instrument import Instrument
from quantdesk.engine.clock import SimulatedClock, WallClock
from quantdesk.engine.engine import Engine
from quantdesk.engine.feed_watch import FeedWatch
from quantdesk.execution.kill_switch import KillSwitch
from quantdesk.execution.order_manager import OrderManager
from quantdesk.execution.retry import RetryPolicy
from quantdesk.execution.square_off import SquareOff
from quantdesk.risk.controls import RiskControls
from quantdesk.risk.gate import Gate, can_enter
from quantdesk.storage.journal import Journal
from quantdesk.strategies.base import Strategy
from quantdesk.venues.base import OrderUpdate, Venue, VenueContext

if TYPE_CHECKING:
    from quantdesk.risk.calendar import TradingCalendar

VenueFactory = Callable[[VenueContext, Callable[[OrderUpdate], None]], Venue]


@dataclass
class Desk:
    engine: Engine
    venue: Venue
    oms: OrderManager
    journal: Journal | None
    kill_switch: KillSwitch
    square_off: SquareOff | None = None
    feed_watch: FeedWatch | None = None


def build_desk(
    *,
    clock: SimulatedClock | WallClock,
    mode: Mode,
    limits: RiskLimits,
    venue_factory: VenueFactory,
    strategies: Iterable[Strategy],
    journal: Journal | None = None,
    gate: Gate = can_enter,
    calendar: TradingCalendar | None = None,
    safe_mode: bool = True,
    squared_off_days: set[str] | None = None,
    instruments: Iterable[Instrument] = (),
    retry: RetryPolicy | None = None,
    keep_log_lines: bool = True,
) -> Desk:
    engine = Engine(
        clock,
        mode=mode,
        limits=limits,
        gate=gate,
        risk=RiskControls(limits, calendar=calendar, safe_mode=safe_mode),
        journal=journal,
        instruments=instruments,
        keep_log_lines=keep_log_lines,
    )
    venue = venue_factory(engine, engine.on_venue_update)
    oms = OrderManager(venue, engine, engine.log, journal, retry)
    engine.connect(venue, oms)
    for strategy in strategies:
        engine.add_strategy(strategy)
    kill = KillSwitch(oms, engine.risk, engine.now, engine.record_action, engine.risk_event)
    engine.bus.subscribe("order", kill.on_order)
    square_off = None
    if calendar is not None:
        square_off = SquareOff(
            oms, calendar, engine.record_action, limits.square_off, squared_off_days
        )
        engine.clock_hooks.append(square_off)
    return Desk(engine, venue, oms, journal, kill, square_off)
