"""Position sizing: fixed-fractional to the stop, its caps, Kelly, drawdown de-risk."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.domain import Side, Signal
from quantdesk.domain.money import is_multiple
from quantdesk.risk.kelly import (
    DrawdownGuard,
    drawdown_target,
    haircut_win_rate,
    kelly_fraction,
    raw_kelly,
)
from quantdesk.risk.sizing import (
    Sizing,
    confidence_max_loss,
    risk_per_unit,
    size_entry,
    units_within,
)

D = Decimal


def buy(entry: Decimal | None, stop: Decimal | None, quantity: Decimal | None = None) -> Signal:
    return Signal("test", "RELIANCE", Side.BUY, 1, entry=entry, stop_loss=stop, quantity=quantity)


# --- fixed-fractional: hand-computed examples -------------------------------------------


def test_risk_budget_over_stop_distance() -> None:
    signal = buy(D(100), D(98))  # budget 100_000 x 0.5% = 500, 2 a unit
    assert size_entry(signal, D(100), D(100_000), D("0.5")) == Sizing(D(250), "risk")


def test_slippage_widens_the_stop() -> None:
    signal = buy(D(100), D(98))  # 50 bps of 100 = 0.5 more a unit: 500 / 2.5
    assert size_entry(signal, D(100), D(100_000), D("0.5"), slippage_bps=D(50)).quantity == D(200)
    assert risk_per_unit(signal, D(100), D(50)) == D("2.5")


def test_futures_lot_and_each_cap_names_itself() -> None:
    signal = buy(D(2450), D(2430))  # 5_000 / 20 = 250 -> 3 lots of 75
    args = (signal, D(2450), D(1_000_000), D("0.5"), D(75))
    assert size_entry(*args) == Sizing(D(225), "risk")
    # 500_000 / 2450 = 204.08 -> 2 lots
    assert size_entry(*args, buying_power=D(500_000)) == Sizing(D(150), "buying_power")
    # 200_000 / 2450 = 81.6 -> 1 lot, tighter than buying power
    capped = size_entry(*args, buying_power=D(500_000), exposure_room=D(200_000))
    assert capped == Sizing(D(75), "exposure")
    # max loss 4_000 x 0.5 confidence = 2_000 -> 100 units -> 1 lot
    max_loss = confidence_max_loss(D(4_000), D("0.5"))
    assert max_loss == D(2_000)
    assert size_entry(*args, max_loss=max_loss) == Sizing(D(75), "max_loss")
    assert size_entry(*args, exposure_room=D(1_000)) == Sizing(D(0), "exposure")


def test_crypto_step_is_exact() -> None:
    signal = buy(D(65_000), D(64_000))  # 10_000 x 1% = 100, 1_000 a unit
    sizing = size_entry(signal, D(65_000), D(10_000), D(1), D("0.001"))
    assert sizing == Sizing(D("0.1"), "risk")


def test_risk_scale_shrinks_the_budget_and_the_strategys_own_size() -> None:
    args = (D(100), D(100_000), D("0.5"))
    assert size_entry(buy(D(100), D(98)), *args, risk_scale=D("0.5")).quantity == D(125)
    assert size_entry(buy(None, None, D(40)), *args, risk_scale=D("0.25")) == Sizing(
        D(10), "signal"
    )
    with pytest.raises(ValueError, match="risk scale"):
        size_entry(buy(D(100), D(98)), *args, risk_scale=D("1.5"))


def test_no_stop_or_stop_at_the_price_sizes_nothing() -> None:
    assert size_entry(buy(D(100), None), D(100), D(100_000), D("0.5")) == Sizing(D(0), "no_stop")
    # a market signal whose stop sits at the last price: slippage alone must not size it
    at_market = buy(None, D(100))
    sizing = size_entry(at_market, D(100), D(100_000), D("0.5"), slippage_bps=D(5))
    assert sizing == Sizing(D(0), "no_stop")


def test_strategys_own_size_is_floored_and_capped() -> None:
    assert size_entry(buy(None, None, D("7.9")), D(100), D(100_000), D("0.5")).quantity == D(7)
    own = buy(D(100), D(98), D(1_000))
    args = (own, D(100), D(100_000), D("0.5"))
    assert size_entry(*args) == Sizing(D(1_000), "signal")  # the risk % does not apply
    assert size_entry(*args, max_loss=D(1_000)) == Sizing(D(500), "max_loss")
    assert size_entry(*args, buying_power=D(30_000)) == Sizing(D(300), "buying_power")


def test_negative_budget_is_zero_not_negative() -> None:
    assert size_entry(buy(D(100), D(98)), D(100), D(-5_000), D("0.5")).quantity == D(0)


def test_floor_never_rounds_up_at_the_last_digit() -> None:
    # 0.999... (65 nines) rounds to 1 in a 60-digit half-even context
    assert units_within(D("0." + "9" * 65), D(1), D(1)) == D(0)
    assert units_within(D(1), D(3), D("0.001")) == D("0.333")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="lot"):
        size_entry(buy(D(100), D(98)), D(100), D(100_000), D("0.5"), D(0))
    with pytest.raises(ValueError, match="positive price"):
        size_entry(buy(None, None, D(5)), D(0), D(100_000), D("0.5"), buying_power=D(100))


def test_confidence_scales_max_loss_within_bounds() -> None:
    assert confidence_max_loss(D(4_000), D("0.6")) == D(2_400)
    assert confidence_max_loss(D(4_000), D("0.1")) == D(1_000)  # floor 0.25
    assert confidence_max_loss(D(4_000), D("1.5")) == D(4_000)  # no bonus above 1
    assert confidence_max_loss(D(4_000), D(0), min_confidence=D("0.5")) == D(2_000)
    with pytest.raises(ValueError, match="min confidence"):
        confidence_max_loss(D(4_000), D("0.5"), min_confidence=D(0))


@given(
    st.decimals(min_value=D(0), max_value=D(2), places=3),
    st.decimals(min_value=D(0), max_value=D(2), places=3),
)
def test_confidence_max_loss_is_monotone_and_bounded(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    base = D(5_000)
    assert confidence_max_loss(base, low) <= confidence_max_loss(base, high) <= base
    assert confidence_max_loss(base, low) >= base * D("0.25")


# --- fixed-fractional: properties -------------------------------------------------------

money = st.decimals(min_value=D(0), max_value=D(10_000_000), places=2)


@dataclass(frozen=True)
class Case:
    signal: Signal
    price: Decimal
    capital: Decimal
    risk_pct: Decimal
    lot: Decimal
    slippage_bps: Decimal
    buying_power: Decimal | None
    exposure_room: Decimal | None
    max_loss: Decimal | None
    risk_scale: Decimal


@st.composite
def cases(draw: st.DrawFn) -> Case:
    price = draw(st.decimals(min_value=D("0.05"), max_value=D(100_000), places=2))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    distance = draw(st.decimals(min_value=D("0.01"), max_value=price, places=2))
    stop: Decimal | None = price - distance if side is Side.BUY else price + distance
    if stop == 0:
        stop = None
    quantity = draw(st.none() | st.decimals(min_value=D("0.001"), max_value=D(10_000), places=3))
    signal = Signal("test", "X", side, 1, entry=price, stop_loss=stop, quantity=quantity)
    return Case(
        signal,
        price,
        draw(money),
        draw(st.decimals(min_value=D(0), max_value=D(5), places=2)),
        draw(st.sampled_from([D(1), D(75), D("0.001"), D("0.5")])),
        draw(st.decimals(min_value=D(0), max_value=D(100), places=1)),
        draw(st.none() | money),
        draw(st.none() | money),
        draw(st.none() | money),
        draw(st.decimals(min_value=D(0), max_value=D(1), places=2)),
    )


def sized(case: Case) -> Sizing:
    return size_entry(
        case.signal,
        case.price,
        case.capital,
        case.risk_pct,
        case.lot,
        case.slippage_bps,
        buying_power=case.buying_power,
        exposure_room=case.exposure_room,
        max_loss=case.max_loss,
        risk_scale=case.risk_scale,
    )


def limits(case: Case, quantity: Decimal) -> dict[str, bool]:
    """Which constraints `quantity` satisfies, by binding name."""
    per_unit = risk_per_unit(case.signal, case.price, case.slippage_bps)
    loss = quantity * per_unit if per_unit is not None else None
    budget = case.capital * case.risk_pct / 100 * case.risk_scale
    own = case.signal.quantity
    return {
        "signal": own is None or quantity <= own * case.risk_scale,
        "risk": own is not None or loss is None or loss <= budget,
        "max_loss": case.max_loss is None or loss is None or loss <= case.max_loss,
        "buying_power": case.buying_power is None or quantity * case.price <= case.buying_power,
        "exposure": case.exposure_room is None or quantity * case.price <= case.exposure_room,
    }


@given(cases())
def test_size_is_a_lot_multiple_within_every_limit(case: Case) -> None:
    sizing = sized(case)
    assert sizing.quantity >= 0
    assert is_multiple(sizing.quantity, case.lot)
    assert all(limits(case, sizing.quantity).values())


@given(cases())
def test_one_more_lot_breaks_the_named_binding(case: Case) -> None:
    sizing = sized(case)
    if sizing.binding == "no_stop":
        assert sizing.quantity == 0 and case.signal.quantity is None
        return
    assert not limits(case, sizing.quantity + case.lot)[sizing.binding]


# --- Kelly ------------------------------------------------------------------------------


def test_raw_kelly_examples() -> None:
    assert raw_kelly(D("0.5"), D(1)) == 0
    assert raw_kelly(D("0.6"), D(2)) == D("0.4")
    assert raw_kelly(D("0.4"), D(1)) == D("-0.2")
    with pytest.raises(ValueError, match="win rate"):
        raw_kelly(D("1.2"), D(1))


def test_kelly_fraction_hand_computed() -> None:
    # se = sqrt(0.6 x 0.4 / 150) = 0.04 -> W 0.56 -> 0.56 - 0.44/2 = 0.34 -> x 0.25
    assert kelly_fraction(D("0.6"), D(2), 150, max_fraction=D(1)) == D("0.085")
    assert kelly_fraction(D("0.6"), D(2), 150) == D("0.02")  # clamped to the default cap
    # se = sqrt(0.25 / 100) = 0.05 -> W 0.45 -> 0.45 - 0.55/2 = 0.175 -> x 0.25
    assert kelly_fraction(D("0.5"), D(2), 100, max_fraction=D(1)) == D("0.04375")
    # no haircut: 0.5 - 0.5/2 = 0.25 -> x 0.25
    assert kelly_fraction(D("0.5"), D(2), 100, z=D(0), max_fraction=D(1)) == D("0.0625")
    assert haircut_win_rate(D("0.6"), 150, D(1)) == D("0.56")


def test_kelly_is_zero_without_edge_or_sample() -> None:
    assert kelly_fraction(D("0.5"), D(1), 10_000) == 0
    assert kelly_fraction(D("0.3"), D(2), 10_000) == 0
    assert kelly_fraction(D("0.9"), D(0), 10_000) == 0
    assert kelly_fraction(D("0.7"), D(2), 29) == 0  # below the default 30 trades
    assert kelly_fraction(D("0.7"), D(2), 29, min_trades=20) > 0


def test_haircut_lowers_the_fraction_for_small_samples() -> None:
    small = kelly_fraction(D("0.55"), D("1.5"), 40, max_fraction=D(1))
    large = kelly_fraction(D("0.55"), D("1.5"), 4_000, max_fraction=D(1))
    unhaircut = kelly_fraction(D("0.55"), D("1.5"), 40, z=D(0), max_fraction=D(1))
    assert 0 < small < large < unhaircut


win_rates = st.decimals(min_value=D(0), max_value=D(1), places=3)
payoffs = st.decimals(min_value=D("0.1"), max_value=D(10), places=2)
samples = st.integers(min_value=1, max_value=100_000)


@given(win_rates, win_rates, payoffs, samples)
def test_kelly_increases_with_win_rate(a: Decimal, b: Decimal, r: Decimal, n: int) -> None:
    low, high = sorted((a, b))
    assert kelly_fraction(low, r, n) <= kelly_fraction(high, r, n)


@given(win_rates, payoffs, payoffs, samples)
def test_kelly_increases_with_payoff(w: Decimal, a: Decimal, b: Decimal, n: int) -> None:
    low, high = sorted((a, b))
    assert kelly_fraction(w, low, n) <= kelly_fraction(w, high, n)


@given(win_rates, payoffs, samples, samples)
def test_kelly_grows_with_sample(w: Decimal, r: Decimal, a: int, b: int) -> None:
    small, large = sorted((a, b))
    assert kelly_fraction(w, r, small) <= kelly_fraction(w, r, large)
    assert haircut_win_rate(w, small, D(1)) <= haircut_win_rate(w, large, D(1)) <= w


@given(win_rates, payoffs, samples)
def test_kelly_is_zero_at_or_below_breakeven_and_bounded(w: Decimal, r: Decimal, n: int) -> None:
    f = kelly_fraction(w, r, n)
    assert 0 <= f <= D("0.02")
    if w * (1 + r) <= 1:  # W <= 1 / (1 + R): no edge
        assert f == 0


# --- drawdown ---------------------------------------------------------------------------


def test_drawdown_target_is_linear_to_the_floor() -> None:
    floor = D("0.25")
    assert drawdown_target(D(0), D(10), floor) == 1
    assert drawdown_target(D(5), D(10), floor) == D("0.625")
    assert drawdown_target(D(10), D(10), floor) == floor
    assert drawdown_target(D(40), D(10), floor) == floor


def test_guard_cuts_at_once_and_recovers_by_steps() -> None:
    guard = DrawdownGuard()  # 10% max, floor 0.25, step 0.05
    assert guard.update(D(100_000)) == 1
    assert guard.update(D(95_000)) == D("0.625")
    assert guard.drawdown_pct == 5
    assert guard.update(D(100_000)) == D("0.675")  # back at the peak, not back to 1
    assert guard.update(D(100_000)) == D("0.725")
    assert guard.update(D(98_000)) == D("0.775")  # target 0.85 is still above
    assert guard.update(D(90_000)) == D("0.25")  # 10% down: straight to the floor
    assert guard.update(D(120_000)) == D("0.30")  # a new peak still recovers by one step
    assert guard.peak == D(120_000) and guard.drawdown_pct == 0


def test_guard_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="max drawdown"):
        DrawdownGuard(max_drawdown_pct=D(0))
    with pytest.raises(ValueError, match="floor"):
        DrawdownGuard(floor=D("1.5"))
    with pytest.raises(ValueError, match="recovery step"):
        DrawdownGuard(recovery_step=D(0))
    with pytest.raises(ValueError, match="starting equity"):
        DrawdownGuard().update(D(0))


@given(
    st.decimals(min_value=D(0), max_value=D(100), places=2),
    st.decimals(min_value=D(0), max_value=D(100), places=2),
)
def test_drawdown_target_is_monotone(a: Decimal, b: Decimal) -> None:
    shallow, deep = sorted((a, b))
    floor = D("0.25")
    assert floor <= drawdown_target(deep, D(10), floor) <= drawdown_target(shallow, D(10), floor)
    assert drawdown_target(shallow, D(10), floor) <= 1


@given(
    st.lists(st.decimals(min_value=D(-1_000), max_value=D(200_000), places=2), max_size=40),
    st.decimals(min_value=D(0), max_value=D(1), places=2),
    st.decimals(min_value=D("0.01"), max_value=D(1), places=2),
)
def test_guard_never_exceeds_target_and_recovers_by_at_most_a_step(
    path: list[Decimal], floor: Decimal, step: Decimal
) -> None:
    guard = DrawdownGuard(floor=floor, recovery_step=step)
    previous = guard.update(D(100_000))
    for equity in path:
        current = guard.update(equity)
        target = drawdown_target(guard.drawdown_pct, guard.max_drawdown_pct, floor)
        assert floor <= current <= target <= 1
        assert current - previous <= step
        if target < previous:
            assert current == target  # a cut is never delayed
        previous = current


def test_drawdown_target_keeps_full_size_within_the_grace() -> None:
    assert drawdown_target(Decimal("0.5"), Decimal(10), Decimal("0.25"), Decimal(1)) == 1
    assert drawdown_target(Decimal(1), Decimal(10), Decimal("0.25"), Decimal(1)) == 1
    # halfway from the grace (1%) to the max (10%): halfway from 1 to the floor
    assert drawdown_target(Decimal("5.5"), Decimal(10), Decimal("0.25"), Decimal(1)) == Decimal(
        "0.625"
    )
