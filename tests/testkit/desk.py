"""A small engine + order manager around any venue, for tests."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode, OrderType, Side
from quantdesk.domain.signal import Decision, DecisionStatus
from quantdesk.engine.clock import SimulatedClock
from quantdesk.engine.engine import Engine
from quantdesk.execution.order_manager import OrderManager
from quantdesk.execution.retry import RetryPolicy
from tests.testkit.scripted_venue import ScriptedVenue

T0 = 1_764_000_000_000_000_000


def scripted_desk(journal=None, retry: RetryPolicy | None = None):
    engine = Engine(SimulatedClock(T0), mode=Mode.PAPER, limits=RiskLimits(), journal=journal)
    venue = ScriptedVenue(engine)
    oms = OrderManager(venue, engine, engine.log, journal, retry)
    engine.connect(venue, oms)
    return engine, venue, oms


def decision(
    symbol: str = "INFY",
    side: Side = Side.BUY,
    qty: str = "10",
    stop: str | None = None,
    targets: tuple[str, ...] = (),
    plan: str = "p1",
    trail: str | None = None,
    time_stop_ns: int | None = None,
) -> Decision:
    return Decision(
        plan_id=plan,
        correlation_id="c-" + plan,
        symbol=symbol,
        side=side,
        quantity=Decimal(qty),
        ts=T0,
        status=DecisionStatus.APPROVED,
        order_type=OrderType.MARKET,
        entry_price=Decimal("100"),
        stop_loss=Decimal(stop) if stop else None,
        targets=tuple(Decimal(t) for t in targets),
        trail_distance=Decimal(trail) if trail else None,
        time_stop_ns=time_stop_ns,
    )
