"""`quantdesk report RUN`: what a finished paper run did, as an HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.common import console, fail
from quantdesk.obs.run_report import write_report
from quantdesk.storage.analytics import analyse


def report(
    run: Annotated[Path, typer.Argument(help="a paper run folder (var/runs/<run>)")],
    out: Annotated[Path | None, typer.Option(help="HTML file (default RUN/report.html)")] = None,
    clean_bps: Annotated[
        float, typer.Option(min=0, help="'clean' KPIs drop trades slipping more than this")
    ] = 50.0,
) -> None:
    """Daily summary, KPIs (raw / clean / trimmed), slippage, latency, rejections, equity."""
    try:
        analytics = analyse(run / "streams", clean_bps=clean_bps)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    target = out or run / "report.html"
    write_report(target, analytics, f"quantdesk run {run.name}")
    raw = analytics.kpis[0] if analytics.kpis else None
    summary = f"{raw.trades} trades, net {raw.net_pnl:,.2f}" if raw else "no closed trades"
    console.print(f"report: {target} ({summary})")
