"""The daily 08:00 IST holiday refresh, as a task beside the engine.

The fetch runs in a worker thread (httpx is blocking here and the engine's loop must not
wait on a broker); its outcome goes to `report` on the loop: None after a good refresh, a
WARNING RiskEvent when the last good list was kept. A paper run keeps trading on the
calendar it recorded at start; the refreshed list serves the next run and the live desk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from quantdesk.config import CalendarSettings
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.risk.holiday_refresh import next_run_ts
from quantdesk.runners.paper_calendar import refresh_holidays

Report = Callable[[RiskEvent | None], None]
Sleep = Callable[[float], Awaitable[object]]


async def run_daily(
    settings: CalendarSettings,
    report: Report,
    *,
    now: Callable[[], int] = time.time_ns,
    sleep: Sleep = asyncio.sleep,
    refresh: Callable[[CalendarSettings], RiskEvent | None] = refresh_holidays,
    runs: int | None = None,
) -> None:
    """Sleep until each 08:00 IST, refresh, report; forever unless `runs` is given."""
    done = 0
    while runs is None or done < runs:
        due = next_run_ts(now())
        await sleep(max(0.0, (due - now()) / 1e9))
        report(await asyncio.to_thread(refresh, settings))
        done += 1
