"""The NSE calendar of a paper run, and the copy of its inputs that replay reads back.

A run trades on the calendar it was given; the stored holiday list and the override file
change over time, so their contents at the start are copied into the run folder and a
replay builds its calendar from those copies, not from today's files.
"""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from quantdesk.config import CalendarSettings
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.holiday_refresh import HolidayRefresher, load_stored
from quantdesk.risk.market_days import CalendarError

FOLDER = "calendar"
HOLIDAYS = "nse_holidays.json"
OVERRIDES = "overrides.toml"
BEFORE = timedelta(days=7)
AFTER = timedelta(days=40)  # a paper process runs weeks, not years; live builds daily


def refresh_holidays(settings: CalendarSettings, timeout_s: float = 10.0) -> RiskEvent | None:
    """One fetch of the broker's list into the store; a WARNING event when it fails (the
    last good list stays)."""
    with httpx.Client(timeout=timeout_s) as client:
        refresher = HolidayRefresher(client, settings.holiday_url, settings.holiday_store)
        return refresher.refresh(time.time_ns())


def paper_calendar(settings: CalendarSettings, first_day: date, run_dir: Path) -> TradingCalendar:
    """Build from the configured sources and keep their contents beside the run."""
    if settings.override_file is not None and not settings.override_file.is_file():
        raise CalendarError(f"calendar override file {settings.override_file} does not exist")
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if settings.holiday_store.exists():
        shutil.copyfile(settings.holiday_store, folder / HOLIDAYS)
    if settings.override_file is not None:
        shutil.copyfile(settings.override_file, folder / OVERRIDES)
    return recorded_calendar(run_dir, first_day)


def recorded_calendar(run_dir: Path, first_day: date) -> TradingCalendar:
    """The calendar a recorded run traded on (exchange-calendars plus its copied inputs)."""
    folder = run_dir / FOLDER
    overrides = folder / OVERRIDES
    return TradingCalendar.build(
        first=first_day - BEFORE,
        last=first_day + AFTER,
        override_file=overrides if overrides.exists() else None,
        announced=load_stored(folder / HOLIDAYS),
    )
