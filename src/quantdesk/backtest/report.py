"""The backtest report: exact money from the trades, statistics from the equity curve.

P&L, fees and win rate are exact sums over closed trades. The equity curve (cash plus
position marked at every bar close) is float statistics only: Sharpe is mean/stdev
(sample) of the returns between the last equity of consecutive UTC days, x sqrt(252);
it is 0.0 with fewer than two such returns (three days) or zero variance. Drawdown is
the fall from the running peak, in money and, separately, in percent.
"""

from __future__ import annotations

import csv
import html
import json
import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from quantdesk.data.bars import read_close_series
from quantdesk.domain.enums import Side
from quantdesk.domain.time import to_datetime
from quantdesk.domain.trade import Trade

DAY_NS = 86_400 * 10**9
CHART_POINTS = 2000


@dataclass(frozen=True)
class Report:
    trades: int
    wins: int
    losses: int
    win_rate: float
    gross_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    return_pct: float
    sharpe: float
    max_drawdown: float
    max_drawdown_pct: float
    avg_trade_net: Decimal
    best_trade: Decimal
    worst_trade: Decimal
    start_ts: int | None
    end_ts: int | None
    exposure: float | None = None  # fraction of bar closes marked while in a position


def load_close_series(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Bar END times (open + duration, ns) and closes (float) of a bar file: a bar's
    close is only known at its end, so that is where the curve marks it. The duration is
    the smallest gap between bars (one minute for a single bar), as the loader infers it;
    only the timestamp and close columns are read."""
    ts, close = read_close_series(path)
    gaps = np.diff(ts)
    gaps = gaps[gaps > 0]
    duration = int(gaps.min()) if gaps.size else 60 * 10**9
    return ts + duration, close


def equity_curve(
    bar_ts: np.ndarray,
    bar_close: np.ndarray,
    changes: list[tuple[int, Decimal, Decimal]],
    capital: Decimal,
) -> tuple[np.ndarray, np.ndarray]:
    """Equity at each bar close: cash + quantity x close, from the (ts, qty, cash) changes."""
    if not changes:
        return bar_ts, np.full(bar_ts.shape, float(capital))
    change_ts = np.asarray([c[0] for c in changes], dtype=np.int64)
    qty = np.concatenate([[0.0], [float(c[1]) for c in changes]])
    cash = np.concatenate([[float(capital)], [float(c[2]) for c in changes]])
    index = np.searchsorted(change_ts, bar_ts, side="right")  # changes at or before each close
    return bar_ts, cash[index] + qty[index] * bar_close


def exposure_of(bar_ts: np.ndarray, changes: list[tuple[int, Decimal, Decimal]]) -> float:
    """Fraction of bar closes at which the position (after changes at or before the
    close, as in `equity_curve`) was not flat."""
    if bar_ts.size == 0:
        return 0.0
    change_ts = np.asarray([c[0] for c in changes], dtype=np.int64)
    open_ = np.concatenate([[False], [c[1] != 0 for c in changes]])
    return float(np.mean(open_[np.searchsorted(change_ts, bar_ts, side="right")]))


def build_report(
    trades: list[Trade],
    capital: Decimal,
    curve_ts: np.ndarray,
    curve: np.ndarray,
    exposure: float | None = None,
) -> Report:
    nets = [t.net_pnl for t in trades]
    wins = sum(1 for n in nets if n > 0)
    gross = sum((t.pnl for t in trades), Decimal(0))
    fees = sum((t.fees for t in trades), Decimal(0))
    net = gross - fees
    drawdown, drawdown_pct = _drawdown(curve)
    return Report(
        trades=len(trades),
        wins=wins,
        losses=sum(1 for n in nets if n < 0),
        win_rate=wins / len(trades) if trades else 0.0,
        gross_pnl=gross,
        fees=fees,
        net_pnl=net,
        return_pct=float(net / capital * 100) if capital else 0.0,
        sharpe=_sharpe(curve_ts, curve),
        max_drawdown=drawdown,
        max_drawdown_pct=drawdown_pct,
        avg_trade_net=(net / len(trades)).quantize(Decimal("0.01")) if trades else Decimal(0),
        best_trade=max(nets, default=Decimal(0)),
        worst_trade=min(nets, default=Decimal(0)),
        start_ts=int(curve_ts[0]) if curve_ts.size else None,
        end_ts=int(curve_ts[-1]) if curve_ts.size else None,
        exposure=exposure,
    )


def _drawdown(curve: np.ndarray) -> tuple[float, float]:
    """Deepest fall from a running peak in money, and (separately: it may be another
    fall) in percent of that peak."""
    if curve.size == 0:
        return 0.0, 0.0
    peaks = np.maximum.accumulate(curve)
    drops = peaks - curve
    ratios = np.divide(drops, peaks, out=np.zeros_like(drops), where=peaks > 0)
    return float(drops.max()), float(ratios.max() * 100)


def daily_equity(curve_ts: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Last equity of each UTC day."""
    if curve.size == 0:
        return curve
    days = curve_ts // DAY_NS
    last = [*np.flatnonzero(np.diff(days)).tolist(), len(days) - 1]
    return curve[last]


def _sharpe(curve_ts: np.ndarray, curve: np.ndarray) -> float:
    daily = daily_equity(curve_ts, curve)
    if daily.size < 3:
        return 0.0
    returns = np.diff(daily) / daily[:-1]
    std = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / std * math.sqrt(252) if std > 0 else 0.0


def _iso(ts: int) -> str:
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def write_trades_csv(path: Path, trades: list[Trade]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "entry_time",
                "exit_time",
                "side",
                "quantity",
                "entry_price",
                "exit_price",
                "pnl",
                "fees",
                "net_pnl",
                "exit_reason",
            ]
        )
        for t in trades:
            writer.writerow(
                [
                    _iso(t.entry_ts),
                    _iso(t.exit_ts),
                    "LONG" if t.side is Side.BUY else "SHORT",
                    t.quantity,
                    _plain(t.entry_price),
                    _plain(t.exit_price),
                    money(t.pnl),
                    money(t.fees),
                    money(t.net_pnl),
                    t.exit_reason,
                ]
            )


def money(value: Decimal) -> str:
    """Exact amount without trailing zeros beyond the paisa (2499.750000 -> 2499.75)."""
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _plain(value: Decimal) -> str:
    """Averages can repeat forever; 10 places is exact to far below a paisa."""
    text = format(value.quantize(Decimal("1e-10")).normalize(), "f")
    return text


def report_dict(report: Report) -> dict[str, Any]:
    data = asdict(report)
    return {k: money(v) if isinstance(v, Decimal) else v for k, v in data.items()}


def write_report_json(path: Path, report: Report, **extra: Any) -> None:
    path.write_text(json.dumps({**report_dict(report), **extra}, indent=2))


def render_report_table(report: Report) -> Table:
    table = Table(title="backtest report")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("trades", str(report.trades)),
        ("win rate", f"{report.win_rate:.1%}"),
        ("gross P&L", f"{report.gross_pnl:,.2f}"),
        ("fees", f"{report.fees:,.2f}"),
        ("net P&L", f"{report.net_pnl:,.2f}"),
        ("return", f"{report.return_pct:.2f}%"),
        ("Sharpe (daily)", f"{report.sharpe:.2f}"),
        ("max drawdown", f"{report.max_drawdown:,.2f} ({report.max_drawdown_pct:.2f}%)"),
        ("avg trade (net)", f"{report.avg_trade_net:,.2f}"),
        ("best / worst", f"{report.best_trade:,.2f} / {report.worst_trade:,.2f}"),
    ]
    if report.exposure is not None:
        rows.append(("exposure", f"{report.exposure:.1%}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def write_equity_html(path: Path, ts: np.ndarray, equity: np.ndarray, title: str) -> None:
    """One self-contained page: equity and drawdown as inline SVG (no scripts). Drawdown
    is computed on the full curve; each chart keeps the min and max of every bucket, so
    at most ~2,000 points are drawn and no peak or trough is lost."""
    span = f"{_iso(int(ts[0]))} &rarr; {_iso(int(ts[-1]))}" if ts.size else "no bars"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px}}
svg{{border:1px solid #ccc;background:#fff}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{span}</p>
{equity_charts(equity)}
</body></html>"""
    path.write_text(page)


def equity_charts(equity: np.ndarray) -> str:
    """Equity and its drawdown from the running peak, as two inline SVG charts."""
    drawdown = equity - np.maximum.accumulate(equity) if equity.size else equity
    return (
        f"<h2>Equity</h2>{_svg(_decimate(equity), '#1f6feb')}\n"
        f"<h2>Drawdown</h2>{_svg(_decimate(drawdown), '#d1242f')}"
    )


def _decimate(values: np.ndarray, points: int = CHART_POINTS) -> np.ndarray:
    """Min and max of each of points/2 buckets, in time order."""
    if values.size <= points:
        return values
    buckets = np.array_split(values, points // 2)
    pairs = [(b.min(), b.max()) if b.argmin() < b.argmax() else (b.max(), b.min()) for b in buckets]
    return np.asarray(pairs, dtype=np.float64).ravel()


def _svg(values: np.ndarray, colour: str, width: int = 900, height: int = 260) -> str:
    if values.size < 2:
        return "<p>not enough data</p>"
    low, high = float(values.min()), float(values.max())
    span = high - low or 1.0
    xs = np.linspace(10, width - 10, values.size)
    ys = height - 20 - (values - low) / span * (height - 40)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="12" y="14" font-size="11">{high:,.2f}</text>'
        f'<text x="12" y="{height - 4}" font-size="11">{low:,.2f}</text>'
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        "</svg>"
    )
