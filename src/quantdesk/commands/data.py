"""`quantdesk data ...`: synthetic market data, and the broker backfill."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.backfill import backfill_command
from quantdesk.commands.common import console, fail
from quantdesk.data.bars import write_bars
from quantdesk.data.synth import synth_bars
from quantdesk.domain.time import from_datetime

app = typer.Typer(help="Market data tools", no_args_is_help=True)


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="output file (.csv, .csv.gz or .parquet)")],
    bars: Annotated[int, typer.Option(min=1, help="number of bars")] = 10_000,
    seed: int = 0,
    symbol: str = "SYNTH",
    start: Annotated[str, typer.Option(help="ISO time of the first bar")] = "2026-01-05T03:45:00Z",
    session: Annotated[str, typer.Option(help="nse (09:15-15:30 IST) or 24x7")] = "nse",
    price: Annotated[str, typer.Option(help="starting price")] = "1000",
    tick: str = "0.05",
    volatility: Annotated[float, typer.Option(help="per-bar sigma as a fraction")] = 0.0015,
) -> None:
    """Write a deterministic synthetic bar file (same seed, same bars)."""
    if session not in ("nse", "24x7"):
        raise fail(f"--session must be nse or 24x7, got {session!r}")
    try:
        first = from_datetime(datetime.fromisoformat(start.replace("Z", "+00:00")))
    except ValueError as exc:
        raise fail(f"--start {start!r}: {exc}") from None
    generated = synth_bars(
        symbol=symbol,
        n=bars,
        start=first,
        seed=seed,
        start_price=Decimal(price),
        tick=Decimal(tick),
        volatility=volatility,
        session=session,
    )
    write_bars(out, generated)
    console.print(f"wrote {bars:,} bars of {symbol} to {out}")


app.command("backfill")(backfill_command)
