"""Report figures against hand computations."""

from __future__ import annotations

import itertools
import json
import math
import re
import statistics
from decimal import Decimal

import numpy as np
from rich.console import Console

from quantdesk.backtest.report import (
    build_report,
    equity_curve,
    exposure_of,
    load_close_series,
    render_report_table,
    write_equity_html,
    write_report_json,
    write_trades_csv,
)
from quantdesk.domain import Side, Trade

D = Decimal
DAY = 86_400 * 10**9
MINUTE = 60 * 10**9


def trade(pnl: str, fees: str = "0", side: Side = Side.BUY, n: int = 0) -> Trade:
    return Trade(
        "X",
        side,
        D(10),
        D(100),
        D(100) + D(pnl) / 10,
        n * DAY,
        n * DAY + MINUTE,
        D(pnl),
        D(fees),
        f"f{n}",
        exit_reason="target",
    )


def flat(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(len(values), dtype=np.int64), np.array(values)


def test_exact_totals_and_win_rate() -> None:
    trades = [trade("100", "1.5", n=0), trade("-40", "1.5", n=1), trade("0.10", "0.2", n=2)]
    curve_ts = np.array([0, DAY, 2 * DAY], dtype=np.int64)
    report = build_report(trades, D(10_000), curve_ts, np.array([1e4, 1e4, 1e4]))
    assert (report.trades, report.wins, report.losses) == (3, 1, 2)  # 0.10 - 0.2 < 0
    assert report.gross_pnl == D("60.10") and report.fees == D("3.2")
    assert report.net_pnl == D("56.90") and report.win_rate == 1 / 3
    assert report.best_trade == D("98.5") and report.worst_trade == D("-41.5")
    assert report.avg_trade_net == D("18.97")  # 56.90 / 3, to the paisa
    assert math.isclose(report.return_pct, 0.569)
    assert (report.start_ts, report.end_ts) == (0, 2 * DAY)


def test_no_trades_is_a_valid_report() -> None:
    report = build_report([], D(1000), *flat([]))
    assert (report.trades, report.win_rate, report.net_pnl, report.sharpe) == (0, 0.0, 0, 0.0)
    assert report.start_ts is None and report.max_drawdown == 0.0


def test_max_drawdown_on_a_hand_made_curve() -> None:
    report = build_report([], D(100), *flat([100.0, 120.0, 90.0, 130.0, 104.0, 125.0]))
    assert report.max_drawdown == 30.0 and math.isclose(report.max_drawdown_pct, 25.0)
    # the deepest fall in money (400 -> 340) is not the deepest in percent (200 -> 150)
    rising = build_report([], D(100), *flat([100.0, 200.0, 150.0, 400.0, 340.0]))
    assert rising.max_drawdown == 60.0 and math.isclose(rising.max_drawdown_pct, 25.0)


def test_sharpe_from_daily_closes_matches_an_independent_computation() -> None:
    daily = [100.0, 101.0, 100.5, 102.0, 103.0]
    ts = np.array([d * DAY + h for d in range(5) for h in (0, 3600 * 10**9)], dtype=np.int64)
    curve = np.array([v for d in daily for v in (d - 0.3, d)])  # last value of each day = d
    returns = [b / a - 1 for a, b in itertools.pairwise(daily)]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    report = build_report([], D(100), ts, curve)
    assert math.isclose(report.sharpe, expected, rel_tol=1e-12)


def test_sharpe_is_zero_without_two_daily_returns_or_variance() -> None:
    two_days = np.array([0, DAY], dtype=np.int64)
    assert build_report([], D(100), two_days, np.array([100.0, 110.0])).sharpe == 0.0
    same_day = np.array([0, MINUTE, 2 * MINUTE], dtype=np.int64)
    assert build_report([], D(100), same_day, np.array([100.0, 90.0, 120.0])).sharpe == 0.0
    steady = np.array([0, DAY, 2 * DAY, 3 * DAY], dtype=np.int64)
    assert build_report([], D(100), steady, np.array([100.0] * 4)).sharpe == 0.0


def test_equity_curve_marks_the_position_at_every_close() -> None:
    bar_ts = np.array([10, 20, 30, 40], dtype=np.int64)
    close = np.array([100.0, 102.0, 101.0, 105.0])
    changes = [(15, D(2), D(1000) - D(201)), (35, D(0), D(1000) - D(201) + D(202))]
    _ts, equity = equity_curve(bar_ts, close, changes, D(1000))
    assert equity.tolist() == [1000.0, 799 + 204.0, 799 + 202.0, 1001.0]
    assert exposure_of(bar_ts, changes) == 0.5  # long at the closes of 20 and 30
    short = [(20, D(-1), D(1100))]  # a change at a close counts at that close
    assert exposure_of(bar_ts, short) == 0.75
    assert exposure_of(bar_ts, []) == 0.0


def test_close_series_is_marked_at_bar_end(tmp_path) -> None:
    path = tmp_path / "X.csv"
    path.write_text("timestamp,open,high,low,close,volume\n60,1,2,1,1.5,1\n120,1,2,1,1.25,1\n")
    ts, close = load_close_series(path)
    assert ts.tolist() == [120 * 10**9, 180 * 10**9] and close.tolist() == [1.5, 1.25]


def test_trades_csv_line_by_line(tmp_path) -> None:
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
    long = Trade("X", Side.BUY, D("0.5"), D(100), D("99.8"), DAY, DAY + 1000, D("-0.1"), D(0), "f2")
    path = tmp_path / "trades.csv"
    write_trades_csv(path, [short, long])
    assert path.read_text().splitlines() == [
        "entry_time,exit_time,side,quantity,entry_price,exit_price,pnl,fees,net_pnl,exit_reason",
        "1970-01-01T00:00:00Z,1970-01-01T00:01:30Z,SHORT,3,101.5,100.25,3.75,0.10,3.65,stop",
        "1970-01-02T00:00:00Z,1970-01-02T00:00:00.000001Z,LONG,0.5,100,99.8,-0.10,0.00,-0.10,",
    ]


def test_report_json_has_money_as_text_and_statistics_as_numbers(tmp_path) -> None:
    trades = [trade("12.5", "0.25")]
    ts = np.array([0, DAY, 2 * DAY], dtype=np.int64)
    report = build_report(trades, D(1000), ts, np.array([1e3, 1010.0, 1012.25]), exposure=0.25)
    write_report_json(tmp_path / "r.json", report)
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["net_pnl"] == "12.25" and data["fees"] == "0.25" and data["gross_pnl"] == "12.50"
    assert data["trades"] == 1 and data["exposure"] == 0.25
    assert isinstance(data["sharpe"], float) and isinstance(data["max_drawdown"], float)


def test_report_table_renders_the_figures() -> None:
    report = build_report([trade("100", "1.5")], D(10_000), *flat([1e4]), exposure=0.5)
    console = Console(width=120, record=True)
    console.print(render_report_table(report))
    text = console.export_text()
    assert "98.50" in text and "100.0%" in text and "50.0%" in text


def test_equity_html_is_self_contained_small_and_keeps_the_trough(tmp_path) -> None:
    n = 100_000
    ts = np.arange(n, dtype=np.int64) * MINUTE
    equity = 1e5 + np.sin(np.arange(n) / 500.0) * 1e3
    equity[54_321] = 50_000.0  # a one-bar crash that plain striding would skip
    path = tmp_path / "equity.html"
    write_equity_html(path, ts, equity, "sma <cross>")
    page = path.read_text()
    assert "<script" not in page and page.count("<svg") == 2
    assert "sma &lt;cross&gt;" in page
    for points in re.findall(r'points="([^"]+)"', page):
        assert len(points.split()) <= 2000
    assert "50,000.00" in page  # the equity chart's low label
    assert len(page) < 200_000
