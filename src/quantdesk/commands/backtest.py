"""`quantdesk backtest`: a strategy over a bar file, with a report you can check."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from quantdesk.backtest.report import (
    render_report_table,
    write_equity_html,
    write_report_json,
    write_trades_csv,
)
from quantdesk.commands.common import console, fail, settings
from quantdesk.data.bars import DataFileError, count_rows
from quantdesk.runners.backtest import BacktestError, BacktestSpec, run_backtest
from quantdesk.strategies.registry import StrategyError, parse_params
from quantdesk.venues.paper import PaperVenueConfig


def backtest(
    data: Annotated[Path, typer.Option(help="bar file: CSV (.csv/.csv.gz) or Parquet")],
    strategy: Annotated[str, typer.Option(help="strategy name, e.g. sma_cross")],
    param: Annotated[list[str] | None, typer.Option(help="strategy parameter k=v (repeat)")] = None,
    symbol: Annotated[str | None, typer.Option(help="symbol (default: file name)")] = None,
    risk_profile: Annotated[str, typer.Option(help="default, or none (research only)")] = "default",
    calendar: Annotated[str | None, typer.Option(help="exchange calendar for gaps: nse")] = None,
    out: Annotated[
        Path | None, typer.Option(help="folder for trades.csv, report.json, equity.html")
    ] = None,
    latency_ms: Annotated[int, typer.Option(min=0, help="paper venue latency")] = 0,
    slippage_bps: Annotated[str, typer.Option(help="half-spread paid on market/stop fills")] = "0",
    fee_bps: Annotated[str, typer.Option(help="fee on each fill's notional")] = "0",
    allow_quarantined: Annotated[
        bool, typer.Option("--allow-quarantined", help="run on data the quality checks refuse")
    ] = False,
) -> None:
    """Run a backtest and print its report; results are written to --out."""
    current = settings()
    try:
        venue = PaperVenueConfig(
            latency_ms=latency_ms, half_spread_bps=Decimal(slippage_bps), fee_bps=Decimal(fee_bps)
        )
        spec = BacktestSpec(
            data=data,
            strategy=strategy,
            params=parse_params(param or []),
            symbol=symbol,
            risk_profile=risk_profile,
            calendar=calendar,
            venue=venue,
            allow_quarantined=allow_quarantined,
        )
    except (StrategyError, InvalidOperation, ValueError) as exc:
        raise fail(str(exc)) from None
    out_dir = out or Path("var/backtests") / f"{time.strftime('%Y%m%d-%H%M%S')}-{strategy}"
    try:
        total = count_rows(data)
        with _progress() as progress:
            task = progress.add_task("bars", total=total)
            result = run_backtest(
                spec, current, out_dir, progress=lambda n: progress.update(task, completed=n)
            )
    except (BacktestError, StrategyError, DataFileError) as exc:
        raise fail(str(exc)) from None
    write_trades_csv(out_dir / "trades.csv", [t.trade for t in result.trades])
    quality = result.quality
    extra = {"data_quarantined": quality.quarantined} if quality is not None else {}
    write_report_json(out_dir / "report.json", result.report, missing_bars=result.gaps, **extra)
    if quality is not None and quality.quarantined:
        console.print(f"[bold yellow]data quarantined, run anyway:[/] {'; '.join(quality.reasons)}")

    write_equity_html(
        out_dir / "equity.html", result.curve_ts, result.curve, title=f"{strategy} on {data.name}"
    )
    console.print(render_report_table(result.report))
    rate = result.bars / result.elapsed_s if result.elapsed_s else 0.0
    console.print(
        f"{result.bars:,} bars in {result.elapsed_s:.2f}s ({rate:,.0f} bars/s); "
        f"decision log sha256 {result.log_sha256[:16]}"
    )
    if result.gaps:
        where = f"inside {calendar.upper()} sessions" if calendar else "(no --calendar given)"
        console.print(
            f"[yellow]warning:[/] {result.gaps} missing bar(s) {where}: fills near them "
            "used prices that never traded"
        )

    console.print(f"results in {out_dir}/ (trades.csv, report.json, equity.html, backtest.db)")
    (out_dir / "run.json").write_text(
        json.dumps(
            {
                "data": str(data),
                "strategy": strategy,
                "params": spec.params,
                "config_sha": current.config_sha,
                "log_sha256": result.log_sha256,
            },
            indent=2,
        )
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]backtest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
