"""The daily slippage model and how sizing uses it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert

from quantdesk.domain import Side, Signal
from quantdesk.domain.time import to_datetime
from quantdesk.risk.sizing import size_entry
from quantdesk.storage import migrate, slippage
from quantdesk.storage.models import TradeRow

NOW = 1_764_000_000_000_000_000
D = Decimal


def _trades(engine, symbol: str, side: str, values: list[str], age_days: int = 1) -> None:
    when = to_datetime(NOW) - timedelta(days=age_days)
    rows = [
        {
            "trade_uid": f"t-{symbol}-{side}-{i}-{age_days}",
            "status": "CLOSED",
            "symbol": symbol,
            "side": side,
            "quantity": D(1),
            "entry_price": D(100),
            "exit_price": D(101),
            "entry_ts": when,
            "exit_ts": when,
            "pnl": D(1),
            "fees": D(0),
            "net_pnl": D(1),
            "exit_reason": "target",
            "first_fill_id": "f",
            "slippage_bps": D(v),
            "session_id": "s",
            "config_sha": "c",
        }
        for i, v in enumerate(values)
    ]
    with engine.begin() as connection:
        connection.execute(insert(TradeRow), rows)


def test_median_by_instrument_and_side_over_the_lookback(any_engine) -> None:
    migrate.upgrade(any_engine)
    _trades(any_engine, "INFY", "BUY", ["1", "2", "3", "4", "50"])
    _trades(any_engine, "INFY", "SELL", ["-1", "0", "1", "2", "2", "9"])
    _trades(any_engine, "INFY", "BUY", ["900"] * 9, age_days=40)  # outside the window
    _trades(any_engine, "TCS", "BUY", ["5", "5"])  # too few samples
    model = slippage.recompute(any_engine, NOW)
    assert model == {("INFY", "BUY"): D("3.00"), ("INFY", "SELL"): D("1.50")}
    assert slippage.load(any_engine) == model
    _trades(any_engine, "INFY", "BUY", ["10", "10", "10", "10"], age_days=0)
    assert slippage.recompute(any_engine, NOW)[("INFY", "BUY")] == D("10.00")


def test_sizing_budgets_the_expected_slippage() -> None:
    signal = Signal("s", "INFY", Side.BUY, 1, entry=D(100), stop_loss=D(98))
    # 0.5% of 100,000 = 500 at risk; 2.00 per unit -> 250 units; +50 bps -> 2.50 -> 200
    assert size_entry(signal, D(100), D(100_000), D("0.5")).quantity == 250
    assert size_entry(signal, D(100), D(100_000), D("0.5"), slippage_bps=D(50)).quantity == 200
