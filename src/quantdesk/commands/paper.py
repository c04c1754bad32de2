"""`quantdesk paper`: paper trading on the wall clock, printing trades as they happen."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.common import console, fail, settings
from quantdesk.data.bars import DataFileError, iter_bars, symbol_of
from quantdesk.domain.fill import Fill
from quantdesk.domain.time import IST, to_datetime
from quantdesk.execution.book import ClosedTrade
from quantdesk.obs.startup import StartupTimeout
from quantdesk.runners.paper import PaperRun, PaperSpec, run_paper
from quantdesk.runners.services import ApiOptions
from quantdesk.strategies.registry import StrategyError, build_strategy, parse_params
from quantdesk.venues.paper import PaperVenueConfig

SAMPLE = "SYNTH.csv.gz"


def sample_path() -> Path:
    return Path(str(resources.files("quantdesk.data.samples").joinpath(SAMPLE)))


def paper(
    data: Annotated[
        Path | None, typer.Option(help="bar file to replay (default: bundled sample)")
    ] = None,
    strategy: Annotated[str, typer.Option(help="strategy name")] = "sma_cross",
    param: Annotated[list[str] | None, typer.Option(help="strategy parameter k=v (repeat)")] = None,
    symbol: Annotated[str | None, typer.Option(help="symbol (default: file name)")] = None,
    speed: Annotated[float, typer.Option(min=0.01, help="clock multiplier; 1 = real time")] = 600.0,
    latency_ms: Annotated[int, typer.Option(min=0, help="paper venue latency")] = 50,
    run_dir: Annotated[Path | None, typer.Option(help="where the run is recorded")] = None,
    host: Annotated[
        str | None, typer.Option(help="operator API address (default QD_API_HOST)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="operator API port (default QD_API_PORT)")
    ] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="run without the operator API")] = False,
) -> None:
    """Trade a strategy on the paper venue, paced by the wall clock; Ctrl-C stops cleanly."""
    current = settings()
    source = data or sample_path()
    if not source.exists():
        raise fail(f"data file {source} does not exist")
    params = param or (["fast=10", "slow=30", "qty=10"] if strategy == "sma_cross" else [])
    name = symbol or symbol_of(source)
    try:
        spec = PaperSpec(
            strategy=strategy,
            symbol=name,
            params=parse_params(params),
            speed=speed,
            venue=PaperVenueConfig(latency_ms=latency_ms),
        )
        build_strategy(spec.strategy, spec.symbol, spec.params)  # fail fast on bad params
    except (StrategyError, ValueError) as exc:
        raise fail(str(exc)) from None
    folder = run_dir or Path("var/runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-paper"
    if folder.exists() and any(folder.iterdir()):
        raise fail(f"run folder {folder} is not empty: a run is recorded once")

    api = (
        None
        if no_api
        else ApiOptions(host or current.api_host, current.api_port if port is None else port)
    )
    console.print(
        f"[bold]quantdesk paper[/]: {strategy} on {name} from {source} at {speed}x; "
        f"recording to {folder}/ (Ctrl-C to stop)"
    )
    try:
        run = asyncio.run(_main(spec, current, source, name, folder, api))
    except (DataFileError, StartupTimeout) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:  # the API port is taken, most often
        raise fail(f"cannot start the operator API: {exc} (try --port or --no-api)") from None
    log = run.desk.engine.log
    console.print(
        f"stopped after {run.bars:,} bars; decision log sha256 {log.sha256[:16]} "
        f"({log.count} lines). Replay it: quantdesk replay {folder}"
    )


async def _main(  # type: ignore[no-untyped-def]
    spec: PaperSpec, current, source: Path, name: str, folder: Path, api: ApiOptions | None
) -> PaperRun:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    bars = iter_bars(source, symbol=name)
    return await run_paper(
        spec,
        current,
        bars,
        folder,
        data_name=str(source),
        stop=stop,
        on_start=_print_events,
        api=api,
        metrics_port=None if api is not None else current.metrics_port,
    )


def _print_events(run: PaperRun) -> None:
    if run.services is not None and run.services.api is not None:
        api = run.services.api
        console.print(f"dashboard and API: [bold]http://{api.host}:{api.port}/[/] (docs at /docs)")
    bus = run.desk.engine.bus
    bus.subscribe("fill", _print_fill)
    bus.subscribe("trade", _print_trade)


def _when(ts: int) -> str:
    return to_datetime(ts).astimezone(IST).strftime("%H:%M:%S IST")


def _print_fill(fill: Fill) -> None:
    console.print(
        f"{_when(fill.ts)}  fill   {fill.side.value:<4} {fill.quantity} {fill.symbol} "
        f"@ {fill.price}"
    )


def _print_trade(closed: ClosedTrade) -> None:
    trade = closed.trade
    colour = "green" if trade.net_pnl >= 0 else "red"
    console.print(
        f"{_when(trade.exit_ts)}  [bold]trade[/] {trade.symbol} "
        f"{'LONG' if trade.side.value == 'BUY' else 'SHORT'} {trade.quantity} "
        f"{trade.entry_price.quantize(Decimal('0.01'))} -> "
        f"{trade.exit_price.quantize(Decimal('0.01'))}  "
        f"[{colour}]net {trade.net_pnl.quantize(Decimal('0.01'))}[/] ({trade.exit_reason})"
    )
