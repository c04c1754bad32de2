"""`quantdesk data backfill`: years of daily and months of minute candles from Upstox.

Resumable (a checkpoint per timeframe under the candle store), inside the broker's request
budget, concurrent, with a progress bar; failed chunks are listed and retried next run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from quantdesk.commands.common import console, fail, settings
from quantdesk.data.backfill import Checkpoint, backfill, plan
from quantdesk.data.candle_store import CandleStore
from quantdesk.domain.time import ist_date
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.universe import UniverseStore
from quantdesk.venues.upstox.budget import EndpointClass, Rate, RequestBudget
from quantdesk.venues.upstox.candles import UpstoxCandles
from quantdesk.venues.upstox.client import UpstoxClient

DEFAULT_SPAN = {"1d": 4 * 365, "1m": 92}  # four years of days, three months of minutes


def backfill_command(
    timeframe: Annotated[str, typer.Option(help="1d or 1m")] = "1d",
    days: Annotated[int | None, typer.Option(min=1, help="how far back (default 4y / 3m)")] = None,
    symbol: Annotated[list[str] | None, typer.Option(help="only these (repeat)")] = None,
    parallel: Annotated[int, typer.Option(min=1, max=32)] = 4,
    store_dir: Annotated[Path, typer.Option(help="Parquet partitions")] = Path("var/candles"),
) -> None:
    """Fetch the universe's candles into the candle store; safe to interrupt and re-run."""
    current = settings()
    if timeframe not in DEFAULT_SPAN:
        raise fail(f"--timeframe must be 1d or 1m, got {timeframe!r}")
    token = current.upstox.access_token
    if token is None or not token.get_secret_value():
        raise fail("QD_UPSTOX__ACCESS_TOKEN is not set")
    engine = make_engine(current.database_url)
    migrate.upgrade(engine)
    universe = UniverseStore(engine).list(venue="NSE")
    if symbol:
        wanted = {s.upper() for s in symbol}
        universe = [i for i in universe if i.symbol in wanted]
    if not universe:
        raise fail("no instruments: import a universe first (quantdesk universe import)")
    today = ist_date(time.time_ns())
    last = today - timedelta(days=1)
    first = last - timedelta(days=(days or DEFAULT_SPAN[timeframe]) - 1)
    chunks = plan(universe, timeframe, first, last)
    store = CandleStore(engine, store_dir)
    checkpoint = Checkpoint(store_dir / f"_backfill_{timeframe}.json")
    result = asyncio.run(_run(current, universe, chunks, store, checkpoint, parallel))
    console.print(
        f"{result.done} chunks fetched, {result.skipped} already done, {result.bars:,} bars "
        f"stored ({first} .. {last})"
    )
    for key, error in sorted(result.failed.items()):
        console.print(f"  [red]failed[/] {key}: {error}")
    if result.failed:
        raise typer.Exit(1)


async def _run(current, universe, chunks, store, checkpoint, parallel):  # type: ignore[no-untyped-def]
    up = current.upstox
    rates = {
        EndpointClass.MARKET_DATA: Rate(up.reads_per_second, up.reads_per_minute),
    }
    async with UpstoxClient(
        up.base_url,
        up.access_token,
        budget=RequestBudget(rates),
        timeout_s=up.timeout_s,
        safe_mode=True,  # a backfill never places an order
        order_base_url=up.order_base_url,
    ) as client:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=console, transient=True) as progress:
            todo = sum(1 for c in chunks if c.key not in checkpoint.done)
            task = progress.add_task(f"backfill {len(universe)} symbols", total=todo)
            return await backfill(
                UpstoxCandles(client), store, universe, chunks, checkpoint, parallel=parallel,
                progress=lambda chunk, n: progress.advance(task),
            )  # fmt: skip
