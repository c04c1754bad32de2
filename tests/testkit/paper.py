"""A full desk on the paper venue with bracketed positions, for risk-control tests."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config import RiskLimits
from quantdesk.desk import Desk, build_desk
from quantdesk.domain.enums import Mode
from quantdesk.domain.market import Quote
from quantdesk.engine.clock import SimulatedClock
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig
from tests.testkit.desk import decision

T0 = 1_764_000_000_000_000_000
D = Decimal


def paper_desk(calendar: object = None, start: int = T0, latency_ms: int = 1) -> Desk:
    config = PaperVenueConfig(latency_ms=latency_ms)
    return build_desk(
        clock=SimulatedClock(start),
        mode=Mode.PAPER,
        limits=RiskLimits(),
        venue_factory=lambda ctx, sink: PaperVenue(ctx, sink, config),
        strategies=[],
        calendar=calendar,  # type: ignore[arg-type]
    )


def quote(desk: Desk, symbol: str, price: str = "100", after_ms: int = 1) -> None:
    ts = desk.engine.now() + after_ms * 1_000_000
    p = D(price)
    desk.engine.on_quote(Quote(symbol, ts, p - D("0.05"), p + D("0.05"), D(10**6), D(10**6)))


def open_brackets(desk: Desk, symbols: list[str]) -> None:
    """A filled long entry with stop + TP1 + TP2 working, for each symbol."""
    for n, symbol in enumerate(symbols):
        plan = f"p{n}"
        desk.oms.execute(
            decision(symbol, qty="10", stop="95", targets=("110", "120"), plan=plan),
            D(100),
        )
    for symbol in symbols:
        quote(desk, symbol)  # acks, then entry fills at the ask
    for symbol in symbols:
        quote(desk, symbol)  # children acked
