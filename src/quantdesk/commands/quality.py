"""`quantdesk quality FILE...`: the data-quality report of each bar file (one symbol per
file, named after it), judged against the NSE calendar the desk itself trades on.

Exit 0 when every symbol may be used, 1 when any is quarantined (so a pipeline can stop
before training or backtesting on it), 2 when a file or the calendar cannot be read.
"""

from __future__ import annotations

import json as jsonlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.common import console, err, fail, settings
from quantdesk.config import CalendarSettings
from quantdesk.data.bars import DataFileError, symbol_of
from quantdesk.data.checks import Timeframe
from quantdesk.data.quality_report import QualityReport, build_report, read_unchecked, render_report
from quantdesk.domain.market import Bar
from quantdesk.domain.time import ist_date
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.holiday_refresh import load_stored
from quantdesk.risk.market_days import CalendarError

_NONE = date(2000, 1, 1)  # no bar at all: any calendar will do, the report quarantines


def quality_command(
    files: Annotated[
        list[Path], typer.Argument(help="bar files: CSV (.csv/.csv.gz) or Parquet, one symbol each")
    ],
    timeframe: Annotated[Timeframe, typer.Option(help="bar size of the files")] = Timeframe.MINUTE,
    json: Annotated[bool, typer.Option("--json", help="one JSON document, no tables")] = False,
) -> None:
    """Check bar files for gaps, duplicates, bad bars, outliers and unadjusted splits;
    exit 1 when any symbol is quarantined."""
    calendar_settings = settings().calendar
    try:
        loaded = [(path, read_unchecked(path, timeframe)) for path in files]
        calendar = _calendar(calendar_settings, [bars for _, bars in loaded])
    except (DataFileError, CalendarError) as exc:
        raise fail(str(exc)) from None
    shown = None if json else 10  # JSON carries every finding, the tables the worst ten
    reports = [
        (path, build_report(symbol_of(path), bars, calendar, timeframe, worst=shown))
        for path, bars in loaded
    ]
    quarantined = [report.symbol for _, report in reports if report.quarantined]
    if json:
        document = {
            "reports": [{"file": str(path), **report.to_dict()} for path, report in reports],
            "quarantined": quarantined,
        }
        typer.echo(jsonlib.dumps(document, indent=2))
    else:
        for path, report in reports:
            _print(path, report)
    if quarantined:
        if not json:
            err.print(f"[bold red]quarantined:[/] {', '.join(quarantined)}")
        raise typer.Exit(1)


def _print(path: Path, report: QualityReport) -> None:
    console.print(f"[bold]{path}[/]")
    console.print(render_report(report))


def _calendar(config: CalendarSettings, files: list[list[Bar]]) -> TradingCalendar:
    """The desk's calendar (exchange-calendars, the stored broker list, the override file)
    over the days the files span."""
    stamps = [bar.ts for bars in files for bar in bars]
    first, last = (ist_date(min(stamps)), ist_date(max(stamps))) if stamps else (_NONE, _NONE)
    return TradingCalendar.build(
        first=first,
        last=last,
        override_file=config.override_file,
        announced=load_stored(config.holiday_store),
    )
