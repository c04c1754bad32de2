"""Quarantined data does not reach a backtest: checked against the NSE calendar first.

DESIGN's lesson: missing candles silently produce fantasy backtests. With `--calendar nse`
the bar file goes through `quantdesk quality`'s checks before the engine sees it; a
quarantined file is refused with the reasons, unless the operator says
`--allow-quarantined` (the result then says so).
"""

from __future__ import annotations

from pathlib import Path

from quantdesk.config import CalendarSettings
from quantdesk.data.checks import Timeframe
from quantdesk.data.quality_report import QualityReport, build_report, read_unchecked
from quantdesk.domain.time import NS_PER_S, ist_date
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.holiday_refresh import load_stored

TIMEFRAMES = {60 * NS_PER_S: Timeframe.MINUTE, 86_400 * NS_PER_S: Timeframe.DAY}


def check_data(
    path: Path, symbol: str, duration: int, config: CalendarSettings
) -> QualityReport | None:
    """The file's quality report, or None for a bar size the checks do not cover."""
    timeframe = TIMEFRAMES.get(duration)
    if timeframe is None:
        return None
    bars = [b._replace(symbol=symbol) for b in read_unchecked(path, timeframe)]
    if not bars:
        return None
    calendar = TradingCalendar.build(
        first=ist_date(bars[0].ts),
        last=ist_date(bars[-1].ts),
        override_file=config.override_file,
        announced=load_stored(config.holiday_store),
    )
    return build_report(symbol, bars, calendar, timeframe)
