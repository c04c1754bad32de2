"""Assembly: one engine, one venue, one order manager, the strategies, the journal.

Every runner (backtest, replay, paper, live) builds its desk here, so the modes differ
only in the clock and the venue they pass in — the one path of DESIGN.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode
from quantdesk.domain.instrument import Instrument
from quantdesk.engine.clock import SimulatedClock, WallClock
from quantdesk.engine.engine import Engine
from quantdesk.execution.order_manager import OrderManager
from quantdesk.execution.retry import RetryPolicy
from quantdesk.risk.gate import Gate, allow_all
from quantdesk.storage.journal import Journal
from quantdesk.strategies.base import Strategy
from quantdesk.venues.base import OrderUpdate, Venue, VenueContext

VenueFactory = Callable[[VenueContext, Callable[[OrderUpdate], None]], Venue]


@dataclass
class Desk:
    engine: Engine
    venue: Venue
    oms: OrderManager
    journal: Journal | None


def build_desk(
    *,
    clock: SimulatedClock | WallClock,
    mode: Mode,
    limits: RiskLimits,
    venue_factory: VenueFactory,
    strategies: Iterable[Strategy],
    journal: Journal | None = None,
    gate: Gate = allow_all,
    instruments: Iterable[Instrument] = (),
    retry: RetryPolicy | None = None,
    keep_log_lines: bool = True,
) -> Desk:
    engine = Engine(
        clock,
        mode=mode,
        limits=limits,
        gate=gate,
        journal=journal,
        instruments=instruments,
        keep_log_lines=keep_log_lines,
    )
    venue = venue_factory(engine, engine.on_venue_update)
    oms = OrderManager(venue, engine, engine.log, journal, retry)
    engine.connect(venue, oms)
    for strategy in strategies:
        engine.add_strategy(strategy)
    return Desk(engine, venue, oms, journal)
