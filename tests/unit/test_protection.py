"""The protective limit keeps a market entry's fill inside the heat room it was approved in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.domain.enums import Side
from quantdesk.risk.protection import protective_limit

D = Decimal
TICK = D("0.05")


def test_a_buy_is_capped_by_the_heat_room_when_that_is_tighter_than_the_collar() -> None:
    # 65 shares, stop 70, room 2,000: the fill may not exceed 70 + 30.769... = 100.769
    limit = protective_limit(Side.BUY, D(100), D(70), D(65), D(2000), D(2), TICK)
    assert limit == D("100.75")  # rounded down onto the tick: towards safety
    assert 65 * (limit - 70) <= 2000


def test_a_buy_is_capped_by_the_collar_when_the_room_is_wide() -> None:
    assert protective_limit(Side.BUY, D(100), D(95), D(10), D(20000), D(2), TICK) == D(102)


def test_a_sell_is_floored_by_the_room_and_rounded_up() -> None:
    # short 65 with stop 130 and room 2,000: the fill may not be below 130 - 30.769 = 99.23
    limit = protective_limit(Side.SELL, D(100), D(130), D(65), D(2000), D(2), TICK)
    assert limit == D("99.25")
    assert 65 * (130 - limit) <= 2000
    assert protective_limit(Side.SELL, D(100), D(110), D(10), D(20000), D(2), TICK) == D(98)


def test_a_stopless_buy_caps_the_notional_at_the_room() -> None:
    # no stop: the whole notional is heat; 10 shares within 1,010 of room -> at most 101
    assert protective_limit(Side.BUY, D(100), None, D(10), D(1010), D(2), TICK) == D(101)


def test_a_zero_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="quantity"):
        protective_limit(Side.BUY, D(100), D(90), D(0), D(1000), D(2), TICK)
