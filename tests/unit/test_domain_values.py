from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from quantdesk.domain import Decision, DecisionStatus, Instrument, Mode, Side, Signal
from quantdesk.domain.ids import CLIENT_ORDER_ID_LENGTH, client_order_id, plan_id
from quantdesk.domain.money import bps, ceil_to_step, dec, floor_to_step, round_to_step, to_paise
from quantdesk.domain.time import from_datetime, session_id, to_datetime

D = Decimal


def test_floats_are_refused_as_money() -> None:
    with pytest.raises(TypeError):
        dec(0.1)  # type: ignore[arg-type]
    assert dec("0.1") + dec("0.2") == dec("0.3")


def test_rounding_to_tick() -> None:
    assert round_to_step(D("2450.07"), D("0.05")) == D("2450.05")
    assert ceil_to_step(D("2450.01"), D("0.05")) == D("2450.05")
    assert floor_to_step(D("2450.04"), D("0.05")) == D("2450.00")
    assert to_paise(D("10.005")) == D("10.00") and to_paise(D("10.015")) == D("10.02")
    assert bps(D("0.25"), D("100")) == 25


def test_instrument_grid() -> None:
    reliance = Instrument("RELIANCE", "NSE", tick_size=D("0.05"), lot_size=D(1))
    assert reliance.round_price(D("1234.56")) == D("1234.55")
    assert reliance.is_valid_price(D("1234.55")) and not reliance.is_valid_price(D("1234.56"))
    assert reliance.round_quantity_down(D("7.9")) == 7
    nifty_fut = Instrument("NIFTY-FUT", "NSE", tick_size=D("0.05"), lot_size=D(75))
    assert nifty_fut.round_quantity_down(D(149)) == 75
    with pytest.raises(ValueError, match="tick_size"):
        Instrument("X", "NSE", tick_size=D(0))


def test_ids_are_deterministic_and_short() -> None:
    plan = plan_id("sma_cross", "INFY", 1_700_000_000_000_000_000, "BUY")
    assert plan == plan_id("sma_cross", "INFY", 1_700_000_000_000_000_000, "BUY")
    assert plan != plan_id("sma_cross", "INFY", 1_700_000_000_000_000_001, "BUY")
    entry, stop = client_order_id(plan, "entry"), client_order_id(plan, "stop")
    assert entry == client_order_id(plan, "entry") and entry != stop
    assert len(entry) == CLIENT_ORDER_ID_LENGTH and entry.isalnum()


def test_session_id_uses_the_ist_date() -> None:
    # 20:00 UTC on the 24th is 01:30 IST on the 25th.
    ts = from_datetime(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    assert session_id(ts, Mode.LIVE, "CANARY") == "2026-11-25-LIVE-CANARY"
    ts = from_datetime(datetime(2026, 11, 24, 18, 29, tzinfo=UTC))
    assert session_id(ts, Mode.PAPER, "SESSION") == "2026-11-24-PAPER-SESSION"


def test_time_round_trip_and_naive_refusal() -> None:
    moment = datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert to_datetime(from_datetime(moment)) == moment
    with pytest.raises(ValueError, match="naive"):
        from_datetime(datetime(2026, 3, 2, 9, 15))


def test_signal_refuses_stop_on_the_wrong_side() -> None:
    with pytest.raises(ValueError, match="stop"):
        Signal("s", "INFY", Side.BUY, 1, entry=D(100), stop_loss=D(101))
    with pytest.raises(ValueError, match="stop"):
        Signal("s", "INFY", Side.SELL, 1, entry=D(100), stop_loss=D(99))
    short = Signal(
        "s", "INFY", Side.SELL, 1, entry=D(100), stop_loss=D(102), targets=(D(97), D(94))
    )
    assert short.risk_per_unit == 2 and short.reward_to_risk == 3


def test_decision_invariants() -> None:
    with pytest.raises(ValueError, match="positive quantity"):
        Decision("p", "c", "INFY", Side.BUY, D(0), 1, DecisionStatus.APPROVED)
    with pytest.raises(ValueError, match="say why"):
        Decision("p", "c", "INFY", Side.BUY, D(0), 1, DecisionStatus.REFUSED)
