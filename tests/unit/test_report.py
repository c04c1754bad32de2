"""Report figures against hand computations."""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from decimal import Decimal

import numpy as np

from quantdesk.backtest.report import (
    build_report,
    equity_curve,
    write_report_json,
    write_trades_csv,
)
from quantdesk.domain import Side, Trade

D = Decimal
DAY = 86_400 * 10**9


def trade(pnl: str, fees: str = "0", side: Side = Side.BUY, n: int = 0) -> Trade:
    return Trade(
        "X",
        side,
        D(10),
        D(100),
        D(100) + D(pnl) / 10,
        n * DAY,
        n * DAY + 60 * 10**9,
        D(pnl),
        D(fees),
        f"f{n}",
        exit_reason="target",
    )


def test_exact_totals_and_win_rate() -> None:
    trades = [trade("100", "1.5", n=0), trade("-40", "1.5", n=1), trade("0.10", "0.2", n=2)]
    curve_ts = np.array([0, DAY, 2 * DAY], dtype=np.int64)
    report = build_report(trades, D(10_000), curve_ts, np.array([1e4, 1e4, 1e4]))
    assert (report.trades, report.wins, report.losses) == (3, 1, 2)  # 0.10 - 0.2 < 0
    assert report.gross_pnl == D("60.10") and report.fees == D("3.2")
    assert report.net_pnl == D("56.90") and report.win_rate == 1 / 3
    assert report.best_trade == D("98.5") and report.worst_trade == D("-41.5")


def test_max_drawdown_on_a_hand_made_curve() -> None:
    curve = np.array([100.0, 120.0, 90.0, 130.0, 104.0, 125.0])
    report = build_report([], D(100), np.arange(6, dtype=np.int64), curve)
    assert report.max_drawdown == 30.0 and math.isclose(report.max_drawdown_pct, 25.0)


def test_sharpe_from_daily_closes_matches_an_independent_computation() -> None:
    daily = [100.0, 101.0, 100.5, 102.0, 103.0]
    ts = np.array([d * DAY + h for d in range(5) for h in (0, 3600 * 10**9)], dtype=np.int64)
    curve = np.array([v for d in daily for v in (d - 0.3, d)])  # last value of each day = d
    returns = [b / a - 1 for a, b in itertools.pairwise(daily)]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    report = build_report([], D(100), ts, curve)
    assert math.isclose(report.sharpe, expected, rel_tol=1e-12)


def test_equity_curve_marks_the_position_at_every_close() -> None:
    bar_ts = np.array([10, 20, 30, 40], dtype=np.int64)
    close = np.array([100.0, 102.0, 101.0, 105.0])
    changes = [(15, D(2), D(1000) - D(201)), (35, D(0), D(1000) - D(201) + D(202))]
    _ts, equity = equity_curve(bar_ts, close, changes, D(1000))
    assert equity.tolist() == [1000.0, 799 + 204.0, 799 + 202.0, 1001.0]


def test_trades_csv_rows(tmp_path) -> None:
    short = Trade(
        "X",
        Side.SELL,
        D(3),
        D("101.50"),
        D("100.25"),
        0,
        90 * 10**9,
        D("3.75"),
        D("0.10"),
        "f1",
        exit_reason="stop",
    )
    path = tmp_path / "trades.csv"
    write_trades_csv(path, [short])
    rows = list(csv.reader(path.open()))
    assert rows[0][:7] == [
        "entry_time",
        "exit_time",
        "side",
        "quantity",
        "entry_price",
        "exit_price",
        "pnl",
    ]
    assert rows[1] == [
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:01:30Z",
        "SHORT",
        "3",
        "101.5",
        "100.25",
        "3.75",
        "0.10",
        "3.65",
        "stop",
    ]
    report = build_report([short], D(1000), np.array([0], dtype=np.int64), np.array([1e3]))
    write_report_json(tmp_path / "r.json", report)
    assert '"net_pnl": "3.65"' in (tmp_path / "r.json").read_text()
