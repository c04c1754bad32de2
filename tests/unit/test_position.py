"""Position accounting: hand-computed cases and a property test over random fill paths."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.domain import Fill, Position, Side
from quantdesk.domain.money import EXACT

D = Decimal
_ids = count(1)


def fill(
    side: Side, qty: str | Decimal, price: str | Decimal, fee: str | Decimal = "0", ts: int = 0
) -> Fill:
    return Fill(
        fill_id=f"f{next(_ids)}",
        client_order_id="q",
        symbol="INFY",
        side=side,
        quantity=D(qty),
        price=D(price),
        ts=ts,
        fee=D(fee),
    )


def test_long_scaled_out_in_two_parts() -> None:
    p = Position("INFY")
    assert p.apply(fill(Side.BUY, 10, "100", ts=1)) == []
    assert p.apply(fill(Side.SELL, 4, "110", ts=2)) == []
    assert p.realised_pnl == 40
    [trade] = p.apply(fill(Side.SELL, 6, "90", ts=3))
    assert p.is_flat and p.cost == 0 and p.realised_pnl == -20
    assert (trade.side, trade.quantity, trade.entry_price, trade.exit_price) == (
        Side.BUY,
        10,
        100,
        98,
    )
    assert (trade.pnl, trade.entry_ts, trade.exit_ts) == (-20, 1, 3)


def test_short_round_trip_with_fees() -> None:
    p = Position("INFY")
    p.apply(fill(Side.SELL, 5, "200.00", fee="1.20"))
    assert p.side is Side.SELL and p.avg_price == 200
    assert p.unrealised_pnl(D("195")) == 25
    [trade] = p.apply(fill(Side.BUY, 5, "190.00", fee="1.15"))
    assert trade.side is Side.SELL
    assert trade.pnl == 50 and trade.fees == D("2.35") and trade.net_pnl == D("47.65")


def test_flip_closes_one_trip_and_opens_the_next() -> None:
    p = Position("INFY")
    p.apply(fill(Side.BUY, 10, "100", ts=1))
    [first] = p.apply(fill(Side.SELL, 15, "105", fee="15", ts=2))
    assert first.pnl == 50 and first.fees == 10 and first.quantity == 10
    assert p.quantity == -5 and p.avg_price == 105 and p.opened_ts == 2
    [second] = p.apply(fill(Side.BUY, 5, "100", ts=3))
    assert second.side is Side.SELL and second.pnl == 25 and second.fees == 5
    assert p.realised_pnl == 75 and p.fees == 15


def test_average_cost_stays_exact_through_repeating_decimals() -> None:
    p = Position("INFY")
    for price in ("100", "101", "103"):
        p.apply(fill(Side.BUY, 1, price))
    p.apply(fill(Side.SELL, 1, "102"))
    p.apply(fill(Side.SELL, 1, "102"))
    [trade] = p.apply(fill(Side.SELL, 1, "102"))
    assert trade.pnl == 2  # 306 - 304, despite an average of 101.333...
    assert p.cost == 0


def test_flat_position_has_zero_unrealised_at_any_mark() -> None:
    p = Position("INFY")
    p.apply(fill(Side.BUY, 3, "10.05"))
    p.apply(fill(Side.SELL, 3, "10.10"))
    assert p.unrealised_pnl(D("99999.95")) == 0
    assert p.avg_price is None and p.side is None


prices = st.integers(min_value=1, max_value=200_000).map(lambda ticks: D(ticks) * D("0.05"))
quantities = st.one_of(
    st.integers(min_value=1, max_value=500).map(D),
    st.integers(min_value=1, max_value=10**6).map(lambda n: D(n) * D("0.001")),  # crypto steps
)
fees = st.integers(min_value=0, max_value=2_000).map(lambda paise: D(paise) / 100)
fills = st.lists(
    st.tuples(st.sampled_from(Side), quantities, prices, fees), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(path=fills, mark=prices, split=st.integers(min_value=1, max_value=4))
def test_realised_pnl_equals_independent_sum_over_fills(path, mark, split) -> None:
    """Random long/short paths with partial fills (each fill split into parts)."""
    with localcontext(EXACT):  # the check itself must not round
        _check_path(path, mark, split)


def _check_path(path, mark, split) -> None:
    p = Position("INFY")
    trades = []
    cash = D(0)  # independent: sum of -signed quantity x price over every fill
    net_qty = D(0)
    total_fees = D(0)
    for ts, (side, qty, price, fee) in enumerate(path):
        piece = (qty / split).quantize(D("0.0001"), rounding=ROUND_DOWN)  # exact parts
        parts = [piece] * (split - 1)
        parts.append(qty - piece * (split - 1))
        for part in parts:
            if part <= 0:
                continue
            trades += p.apply(fill(side, part, price, fee if part is parts[-1] else "0", ts=ts))
        cash -= side.sign * qty * price
        net_qty += side.sign * qty
        total_fees += fee
        assert p.quantity == net_qty
        # realised + unrealised == cash + quantity x mark, exactly, at every step
        assert p.realised_pnl + p.unrealised_pnl(mark) == cash + net_qty * mark
    assert p.fees == total_fees
    closed = sum((t.pnl for t in trades), D(0))
    if p.is_flat:
        assert p.cost == 0
        assert p.unrealised_pnl(mark) == 0
        assert p.realised_pnl == cash
        assert closed == cash
        assert sum((t.fees for t in trades), D(0)) == total_fees
    else:
        assert p.side is (Side.BUY if net_qty > 0 else Side.SELL)


@settings(max_examples=100, deadline=None)
@given(qty=quantities, entry=prices, exit_=prices, side=st.sampled_from(Side))
def test_round_trip_pnl_matches_price_difference(qty, entry, exit_, side) -> None:
    p = Position("INFY")
    p.apply(fill(side, qty, entry))
    [trade] = p.apply(fill(side.opposite, qty, exit_))
    assert trade.pnl == side.sign * (exit_ - entry) * qty
    assert trade.entry_price == entry and trade.exit_price == exit_
