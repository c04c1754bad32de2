"""The refresh job wakes at 08:00 IST each day and reports each outcome."""

from __future__ import annotations

import asyncio

from quantdesk.config import CalendarSettings
from quantdesk.domain.enums import Severity
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.runners.holiday_job import run_daily
from tests.testkit.calendar import ist


def test_it_sleeps_until_each_0800_ist_and_reports_failures_as_warnings() -> None:
    clock = [ist("2026-11-25T21:30:00")]
    slept: list[float] = []
    outcomes: list[RiskEvent | None] = []
    failing = RiskEvent(0, "CALENDAR_REFRESH_FAILED", Severity.WARNING, "no answer")
    answers = iter([None, failing])

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += int(seconds * 1e9)

    asyncio.run(
        run_daily(
            CalendarSettings(),
            outcomes.append,
            now=lambda: clock[0],
            sleep=sleep,
            refresh=lambda _: next(answers),
            runs=2,
        )
    )
    assert slept == [10.5 * 3600, 24 * 3600]  # 21:30 -> 08:00, then a day
    assert outcomes == [None, failing]
