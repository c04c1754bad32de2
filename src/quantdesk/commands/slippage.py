"""`quantdesk slippage ...`: the per-instrument slippage model (run daily after the close)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.common import console, settings
from quantdesk.storage import migrate, slippage
from quantdesk.storage.db import make_engine

app = typer.Typer(help="Slippage model (median bps by instrument and side)", no_args_is_help=True)


@app.command("recompute")
def recompute(
    lookback_days: Annotated[int, typer.Option(min=1)] = 20,
    min_samples: Annotated[int, typer.Option(min=1)] = 5,
) -> None:
    """Recompute the model from closed trades; paper runs load it at start."""
    db = make_engine(settings().database_url)
    migrate.upgrade(db)
    model = slippage.recompute(db, time.time_ns(), lookback_days, min_samples)
    _show(model)


@app.command("show")
def show() -> None:
    """Print the current model."""
    _show(slippage.load(make_engine(settings().database_url)))


def _show(model: slippage.SlippageModel) -> None:
    if not model:
        console.print("no instrument has enough closed trades for a slippage estimate yet")
        return
    table = Table(title="slippage model (bps, positive = worse)")
    for column in ("symbol", "side", "median bps"):
        table.add_column(column)
    for (symbol, side), bps in sorted(model.items()):
        table.add_row(symbol, side, str(bps))
    console.print(table)
