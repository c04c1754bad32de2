"""The backtest report: exact money from the trades, statistics from the equity curve.

P&L, fees and win rate are exact sums over closed trades. The equity curve (cash plus
position marked at every bar close) is float statistics only: Sharpe from daily equity
returns x sqrt(252) (0 with fewer than two days or no variance), drawdown from its peak.
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


def load_close_series(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Bar END times (ns) and closes (float) of a bar file: the marks of the curve."""
    ts, close = read_close_series(path)
    duration = int(np.min(np.diff(ts))) if ts.size > 1 else 60 * 10**9
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


def build_report(
    trades: list[Trade], capital: Decimal, curve_ts: np.ndarray, curve: np.ndarray
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
    )


def _drawdown(curve: np.ndarray) -> tuple[float, float]:
    if curve.size == 0:
        return 0.0, 0.0
    peaks = np.maximum.accumulate(curve)
    drops = peaks - curve
    i = int(np.argmax(drops))
    pct = float(drops[i] / peaks[i] * 100) if peaks[i] else 0.0
    return float(drops[i]), pct


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
                    t.pnl,
                    t.fees,
                    t.net_pnl,
                    t.exit_reason,
                ]
            )


def _plain(value: Decimal) -> str:
    """Averages can repeat forever; 10 places is exact to far below a paisa."""
    text = format(value.quantize(Decimal("1e-10")).normalize(), "f")
    return text


def report_dict(report: Report) -> dict[str, Any]:
    data = asdict(report)
    return {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in data.items()}


def write_report_json(path: Path, report: Report) -> None:
    path.write_text(json.dumps(report_dict(report), indent=2))


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
    for name, value in rows:
        table.add_row(name, value)
    return table


def write_equity_html(path: Path, ts: np.ndarray, equity: np.ndarray, title: str) -> None:
    """One self-contained page: equity and drawdown as inline SVG (no scripts)."""
    step = max(1, len(equity) // CHART_POINTS)
    xs, ys = ts[::step], equity[::step]
    peaks = np.maximum.accumulate(ys) if ys.size else ys
    drawdown = ys - peaks
    start = _iso(int(ts[0])) if ts.size else ""
    end = _iso(int(ts[-1])) if ts.size else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px}}
svg{{border:1px solid #ccc;background:#fff}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{start} &rarr; {end}</p>
<h2>Equity</h2>{_svg(ys, "#1f6feb")}<h2>Drawdown</h2>{_svg(drawdown, "#d1242f")}
</body></html>"""
    path.write_text(page)
    del xs


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
