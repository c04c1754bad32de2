"""Sizing inside the desk: risk to stop under the account's caps, shrinking after losses."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config import RiskLimits
from quantdesk.desk import Desk, build_desk
from quantdesk.domain.enums import Mode, Side
from quantdesk.domain.signal import Signal
from quantdesk.engine.clock import SimulatedClock
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig
from tests.testkit.paper import T0, quote

D = Decimal


def desk(**limits: object) -> Desk:
    config = PaperVenueConfig(latency_ms=1)
    return build_desk(
        clock=SimulatedClock(T0),
        mode=Mode.PAPER,
        limits=RiskLimits(**limits),  # type: ignore[arg-type]
        venue_factory=lambda ctx, sink: PaperVenue(ctx, sink, config),
        strategies=[],
    )


def decide(d: Desk, stop: str, strength: float = 0.0, symbol: str = "INFY"):
    quote(d, symbol, "100")
    price = D(100)
    return d.engine.decider.decide(
        Signal(
            "s",
            symbol,
            Side.BUY,
            d.engine.now(),
            stop_loss=D(stop),
            targets=(price + 3 * (price - D(stop)),),
            strength=strength,
        )
    )


def test_risk_to_stop_sizes_the_entry() -> None:
    # 0.5% of 1,000,000 = 5,000 over 2.00 of risk per share = 2,500 shares; exposure room
    # 300,000 / 100 = 3,000 and buying power 1,000,000 / 100 do not bind
    assert decide(desk(), "98").quantity == 2500


def test_the_symbol_exposure_room_caps_a_tight_stop() -> None:
    # 5,000 / 0.50 = 10,000 shares would be 1,000,000 of INFY; the room is 300,000
    assert decide(desk(), "99.50").quantity == 3000


def test_the_per_trade_loss_cap_scales_with_confidence() -> None:
    limits = {"max_loss_per_trade": D(2000)}
    assert decide(desk(**limits), "98").quantity == 1000  # 2,000 / 2.00 at full confidence
    assert decide(desk(**limits), "98", strength=0.5).quantity == 500  # half as sure
    assert decide(desk(**limits), "98", strength=0.1).quantity == 250  # floor: 25%


def test_buying_power_binds_when_the_account_is_small() -> None:
    d = desk(capital=D(50_000), heat_cap=D(5_000), daily_loss_limit=D(5_000))
    # 0.5% of 50,000 = 250 / 0.20 = 1,250 shares = 125,000 rupees > 50,000 of equity
    assert decide(d, "99.80").quantity == 500


def test_size_shrinks_after_a_drawdown_and_recovers_step_by_step() -> None:
    d = desk()
    decider = d.engine.decider
    decider.on_trade_closed(D(1_000_000))
    decider.on_trade_closed(D(950_000))  # 5% down of a 10% de-risk range
    assert decider.drawdown.multiplier < 1
    shrunk = decide(d, "98").quantity
    assert shrunk < 2500
    assert shrunk == int(2500 * decider.drawdown.multiplier)
    decider.on_trade_closed(D(1_000_000))  # back at the peak: one step back, not all
    assert decider.drawdown.multiplier < 1
    assert decide(d, "98", symbol="TCS").quantity > shrunk


def test_a_small_loss_inside_the_grace_does_not_shrink_a_fixed_size() -> None:
    d = desk()
    d.engine.decider.on_trade_closed(D(1_000_000))
    d.engine.decider.on_trade_closed(D(999_950))  # 50 rupees down: noise
    quote(d, "INFY", "100")
    signal = Signal("s", "INFY", Side.BUY, d.engine.now(), quantity=D(10))
    assert d.engine.decider.decide(signal).quantity == 10
