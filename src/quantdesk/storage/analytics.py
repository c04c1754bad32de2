"""Analytics over a run's Parquet streams with DuckDB: what `quantdesk report` shows.

Money columns arrive as exact decimal strings and are summed as DECIMAL(38, 8) in DuckDB,
never as floats; basis points and latencies are statistics (DOUBLE). KPIs come three ways:
raw; "clean", without trades filled on implausible prices (entry or exit slippage beyond
`clean_bps`, the signature of a micro-price or invalid quote); and "trimmed", without the
largest winners and losers (`trim_fraction` of the trades, at least one each side once
there are ten), so one lucky fill cannot carry a strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

STREAMS = ("trade_lifecycle", "latency", "rejections", "equity_curve", "health", "snapshot")


@dataclass(frozen=True)
class Kpis:
    label: str
    trades: int
    net_pnl: Decimal
    win_rate: float
    avg_net_bps: float | None


@dataclass
class RunAnalytics:
    daily: list[dict[str, Any]] = field(default_factory=list)
    slippage: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[Kpis] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    equity: list[tuple[int, Decimal]] = field(default_factory=list)


def _views(con: duckdb.DuckDBPyConnection, streams: Path) -> set[str]:
    present = set()
    for stream in STREAMS:
        parts = streams / stream / "parquet"
        if parts.is_dir() and any(parts.glob("*.parquet")):
            relation = con.read_parquet(str(parts / "*.parquet"), union_by_name=True)
            relation.create_view(stream)
            present.add(stream)
    return present


def analyse(streams: Path, *, clean_bps: float = 50.0, trim_fraction: float = 0.05) -> RunAnalytics:
    """Everything the report needs from one run's `streams/` folder."""
    if not streams.is_dir():
        raise FileNotFoundError(f"{streams} has no event streams (was it a paper run?)")
    out = RunAnalytics()
    with duckdb.connect() as con:
        present = _views(con, streams)
        if "trade_lifecycle" in present:
            out.daily = _daily(con, present)
            out.slippage = _rows(
                con,
                """SELECT symbol, count(*) AS trades,
                    avg(CAST(entry_slippage_bps AS DOUBLE)) AS entry_slippage_bps,
                    avg(CAST(exit_slippage_bps AS DOUBLE)) AS exit_slippage_bps,
                    sum(CAST(net_pnl AS DECIMAL(38, 8))) AS net_pnl
                FROM trade_lifecycle GROUP BY symbol ORDER BY symbol""",
            )
            out.kpis = _kpis(con, clean_bps, trim_fraction)
            out.sources = _sources(con)
        if "latency" in present:
            row = con.execute(
                """SELECT quantile_cont(total_ms, 0.5), quantile_cont(total_ms, 0.95),
                          quantile_cont(total_ms, 0.99), count(*) FROM latency"""
            ).fetchone()
            if row is not None and row[3]:
                out.latency = {"p50_ms": row[0], "p95_ms": row[1], "p99_ms": row[2],
                               "samples": row[3]}  # fmt: skip
        if "rejections" in present:
            out.rejections = _rows(
                con,
                "SELECT reason, count(*) AS count FROM rejections GROUP BY reason ORDER BY 2 DESC",
            )
        if "equity_curve" in present:
            rows = con.execute(
                "SELECT ts, CAST(equity AS DECIMAL(38, 8)) FROM equity_curve ORDER BY ts"
            ).fetchall()
            out.equity = [(int(ts), Decimal(e)) for ts, e in rows]
    return out


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _daily(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[dict[str, Any]]:
    return _rows(
        con,
        """SELECT day, count(*) AS trades,
               sum(CAST(net_pnl AS DECIMAL(38, 8))) AS net_pnl,
               sum(CAST(costs AS DECIMAL(38, 8))) AS costs,
               avg(CASE WHEN CAST(net_pnl AS DECIMAL(38, 8)) > 0 THEN 1.0 ELSE 0.0 END) AS win_rate,
               avg(CAST(entry_slippage_bps AS DOUBLE)) AS entry_slippage_bps
            FROM trade_lifecycle GROUP BY day ORDER BY day""",
    )


def _kpis(con: duckdb.DuckDBPyConnection, clean_bps: float, trim_fraction: float) -> list[Kpis]:
    base = """SELECT CAST(net_pnl AS DECIMAL(38, 8)) AS pnl, CAST(net_pnl_bps AS DOUBLE) AS bps,
                      abs(coalesce(CAST(entry_slippage_bps AS DOUBLE), 0)) AS e,
                      abs(coalesce(CAST(exit_slippage_bps AS DOUBLE), 0)) AS x
               FROM trade_lifecycle"""
    rows = con.execute(base).fetchall()
    raw = [(Decimal(p), b, e, x) for p, b, e, x in rows]
    clean = [r for r in raw if r[2] <= clean_bps and r[3] <= clean_bps]
    trimmed = sorted(raw, key=lambda r: r[0])
    cut = max(1, int(len(trimmed) * trim_fraction)) if len(trimmed) >= 10 else 0
    trimmed = trimmed[cut : len(trimmed) - cut] if cut else trimmed
    return [
        _kpi("raw", raw),
        _kpi(f"clean (slippage <= {clean_bps:g} bps)", clean),
        _kpi(f"trimmed (top/bottom {cut} removed)", trimmed),
    ]


def _kpi(label: str, rows: list[tuple[Decimal, float, float, float]]) -> Kpis:
    if not rows:
        return Kpis(label, 0, Decimal(0), 0.0, None)
    bps = [r[1] for r in rows if r[1] is not None]
    return Kpis(
        label,
        len(rows),
        sum((r[0] for r in rows), Decimal(0)),
        sum(1 for r in rows if r[0] > 0) / len(rows),
        sum(bps) / len(bps) if bps else None,
    )


def _sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per signal source: its P&L, and the desk's P&L had it not traded (leave-one-out)."""
    rows = _rows(
        con,
        """SELECT coalesce(strategy, 'unknown') AS source, count(*) AS trades,
                   sum(CAST(net_pnl AS DECIMAL(38, 8))) AS net_pnl
            FROM trade_lifecycle GROUP BY 1 ORDER BY 1""",
    )
    total = sum((Decimal(r["net_pnl"]) for r in rows), Decimal(0))
    for row in rows:
        row["without_this_source"] = total - Decimal(row["net_pnl"])
    return rows
