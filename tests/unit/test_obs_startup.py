"""Startup stages: timings logged, a hung stage named in a fast failure (async and sync)."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from typing import Any

import pytest

from quantdesk.obs.startup import Startup, StartupTimeout

HANG_S = 5.0  # far beyond every timeout below: the test fails loudly if nothing trips


class RecordingLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append(("info", event, fields))

    def error(self, event: str, **fields: Any) -> None:
        self.lines.append(("error", event, fields))

    def events(self) -> list[str]:
        return [event for _, event, _ in self.lines]

    def one(self, event: str) -> dict[str, Any]:
        [fields] = [f for _, e, f in self.lines if e == event]
        return fields


@pytest.fixture(autouse=True)
def alarm_untouched() -> Any:
    yield
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_stage_timings_are_logged_and_sum_to_at_most_the_total() -> None:
    log = RecordingLog()
    startup = Startup(timeout_s=5, log=log)
    with startup.watch():
        for name in ("config", "database", "calendar", "venue", "api", "first data"):
            with startup.stage(name):
                time.sleep(0.01)
        timings = startup.done()
    assert list(timings) == ["config", "database", "calendar", "venue", "api", "first data"]
    stages = [f for _, e, f in log.lines if e == "startup.stage"]
    assert [s["stage"] for s in stages] == list(timings)
    assert all(s["elapsed_ms"] >= 10 for s in stages)
    done = log.one("startup.done")
    assert done["stages"] == timings
    assert sum(timings.values()) <= done["total_ms"] + 0.05 * len(timings)  # rounding
    assert startup.done() == timings  # idempotent, logged once
    assert log.events().count("startup.done") == 1


def test_async_stages_are_timed_the_same_way() -> None:
    log = RecordingLog()

    async def main() -> dict[str, float]:
        startup = Startup(timeout_s=5, log=log)
        async with startup.watch_async():
            with startup.stage("config"):
                pass
            async with startup.stage_async("database"):
                await asyncio.sleep(0.01)
            return startup.done()

    timings = asyncio.run(main())
    assert list(timings) == ["config", "database"]
    assert log.events() == ["startup.stage", "startup.stage", "startup.done"]


def test_a_hung_async_stage_trips_the_watchdog_with_its_name() -> None:
    log = RecordingLog()
    cleaned_up = []

    async def main() -> None:
        startup = Startup(timeout_s=0.2, log=log)
        async with startup.watch_async():
            async with startup.stage_async("config"):
                pass
            try:
                async with startup.stage_async("first data"):
                    await asyncio.sleep(HANG_S)
            finally:
                await asyncio.sleep(0)  # cleanup may still await
                cleaned_up.append(True)

    started = time.monotonic()
    with pytest.raises(StartupTimeout) as caught:
        asyncio.run(main())
    assert time.monotonic() - started < 2
    assert str(caught.value).startswith("startup timed out after 0.2 s in stage 'first data'")
    assert "completed: config" in str(caught.value)
    assert caught.value.stage == "first data"
    assert cleaned_up == [True]
    timeout = log.one("startup.timeout")
    assert timeout["stage"] == "first data"
    assert "startup.stage_failed" not in log.events()


def test_a_stage_blocking_the_event_loop_is_interrupted() -> None:
    log = RecordingLog()

    async def main() -> None:
        startup = Startup(timeout_s=0.2, log=log)
        async with startup.watch_async(), startup.stage_async("database"):
            time.sleep(HANG_S)  # a sync driver call that never returns

    started = time.monotonic()
    with pytest.raises(StartupTimeout, match=re.escape("after 0.2 s in stage 'database'")):
        asyncio.run(main())
    assert time.monotonic() - started < 2
    assert log.one("startup.timeout")["stage"] == "database"


def test_a_hung_sync_stage_is_interrupted_with_its_name() -> None:
    log = RecordingLog()
    startup = Startup(timeout_s=0.2, log=log)
    started = time.monotonic()
    with pytest.raises(StartupTimeout) as caught, startup.watch():
        with startup.stage("config"):
            pass
        with startup.stage("venue"):
            threading.Event().wait(HANG_S)
    assert time.monotonic() - started < 2
    assert str(caught.value).startswith("startup timed out after 0.2 s in stage 'venue'")
    assert log.one("startup.timeout")["stage"] == "venue"


def test_off_the_main_thread_a_late_stage_fails_when_it_returns() -> None:
    log = RecordingLog()
    outcome: list[BaseException] = []

    def run() -> None:
        startup = Startup(timeout_s=0.05, log=log)
        try:
            with startup.watch(), startup.stage("calendar"):
                time.sleep(0.15)
        except StartupTimeout as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    [error] = outcome
    assert str(error).startswith("startup timed out after 0.05 s in stage 'calendar'")
    assert [e for _, e, _ in log.lines] == ["startup.stage", "startup.timeout"]


def test_done_after_the_deadline_fails() -> None:
    clock = [0.0]
    startup = Startup(timeout_s=30, log=RecordingLog(), clock=lambda: clock[0])
    with startup.stage("config"):
        clock[0] = 10.0
    clock[0] = 31.0
    message = "after 30 s with no stage running; completed: config 10000 ms"
    with pytest.raises(StartupTimeout, match=message):
        startup.done()


def test_a_failing_stage_logs_stage_failed_and_raises_the_error() -> None:
    log = RecordingLog()
    startup = Startup(timeout_s=5, log=log)
    with pytest.raises(ConnectionError, match="refused"), startup.watch():
        with startup.stage("config"):
            pass
        with startup.stage("database"):
            raise ConnectionError("refused")
    failed = log.one("startup.stage_failed")
    assert failed["stage"] == "database"
    assert failed["error"] == "ConnectionError: refused"
    assert "elapsed_ms" in failed
    assert startup.timings.keys() == {"config"}


def test_after_done_the_watchdog_is_disarmed() -> None:
    async def main() -> None:
        startup = Startup(timeout_s=0.1, log=RecordingLog())
        async with startup.watch_async():
            async with startup.stage_async("api"):
                pass
            startup.done()
            await asyncio.sleep(0.3)  # the run goes on past the startup deadline

    asyncio.run(main())


def test_someone_elses_cancellation_is_not_a_timeout() -> None:
    async def main() -> None:
        startup = Startup(timeout_s=5, log=RecordingLog())
        async with startup.watch_async(), startup.stage_async("venue"):
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


def test_a_begun_stage_ends_at_done_and_is_named_when_it_hangs_or_fails() -> None:
    log = RecordingLog()
    bars: asyncio.Queue[str] = asyncio.Queue()

    async def run(startup: Startup, feed: asyncio.Queue[str]) -> None:
        async with startup.watch_async():
            startup.begin("api")
            startup.begin("first data")  # ends "api"
            await feed.get()  # the first bar arrives in the feed's callback
            startup.done()

    bars.put_nowait("bar")
    asyncio.run(run(Startup(timeout_s=5, log=log), bars))
    assert [f["stage"] for _, e, f in log.lines if e == "startup.stage"] == ["api", "first data"]
    assert log.one("startup.done")["stages"].keys() == {"api", "first data"}

    with pytest.raises(StartupTimeout, match="in stage 'first data'"):
        asyncio.run(run(Startup(timeout_s=0.1, log=RecordingLog()), asyncio.Queue()))

    failing = RecordingLog()
    startup = Startup(timeout_s=5, log=failing)
    with pytest.raises(OSError), startup.watch():
        startup.begin("venue")
        raise OSError("login refused")
    assert failing.one("startup.stage_failed")["stage"] == "venue"
