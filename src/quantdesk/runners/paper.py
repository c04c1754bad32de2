"""Paper trading: the engine on a wall-clock pace against the paper venue.

The engine itself always runs on a simulated clock; this runner decides *when* each
event is injected (wall time, sped up by `speed`). A data file plays on its own dates, so
the NSE calendar, the entry cut-off and the 15:25 square-off apply as they would have;
while the market is shut (nights, weekends, holidays) the pacer skips ahead instead of
waiting. Every inbound bar is recorded, the decision log is appended beside it, and the
calendar's inputs and the recalled risk state are kept in the run folder, so
`quantdesk replay RUN` reproduces the run exactly.

On start the risk controls recall what the journal says about the kill switch, an
operator pause and operator-cleared breakers: a restart is never a way around them. The
day's counters are not recalled here: a file replay starts its days afresh.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quantdesk.config import Settings
from quantdesk.data.bars import DataFileError
from quantdesk.desk import Desk, build_desk
from quantdesk.domain.enums import Mode
from quantdesk.domain.market import Bar
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.time import ist_date, session_id
from quantdesk.engine.clock import SimulatedClock, WallClock
from quantdesk.engine.feed_watch import FeedWatch
from quantdesk.engine.recorder import EventRecorder, write_manifest
from quantdesk.obs.logging import bind_session, get_logger
from quantdesk.obs.startup import Startup
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.gate import can_enter
from quantdesk.runners.closeout import close_out
from quantdesk.runners.holiday_job import run_daily
from quantdesk.runners.paper_calendar import paper_calendar, refresh_holidays
from quantdesk.runners.services import ApiOptions, Services, start_services
from quantdesk.runners.slippage_job import apply_model, to_manifest
from quantdesk.storage import migrate, slippage
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.storage.risk_memory import RiskMemory, load_risk_memory
from quantdesk.strategies.registry import build_strategy
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig


@dataclass(frozen=True)
class PaperSpec:
    strategy: str
    symbol: str
    params: dict[str, str] = field(default_factory=dict)
    speed: float = 60.0
    venue: PaperVenueConfig = field(default_factory=PaperVenueConfig)


@dataclass
class PaperRun:
    desk: Desk
    run_dir: Path
    bars: int = 0
    stopped: bool = False
    last: dict[str, Bar] = field(default_factory=dict)
    services: Services | None = None
    on_bar: list[Callable[[Bar], None]] = field(default_factory=list)
    loop_lag_ms: float = 0.0  # how late the pacer woke for the last bar


def manifest(spec: PaperSpec, settings: Settings, session: str, data: str) -> dict[str, Any]:
    return {
        "kind": "paper",
        "session_id": session,
        "config_sha": settings.config_sha,
        "config": settings.public_view(),
        "strategy": spec.strategy,
        "symbol": spec.symbol,
        "params": spec.params,
        "venue": spec.venue.model_dump(mode="json"),
        "data": data,
        "speed": spec.speed,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def build_paper_desk(
    spec: PaperSpec,
    settings: Settings,
    clock: SimulatedClock,
    journal: Journal | None,
    calendar: TradingCalendar,
    squared_off_days: set[str],
    id_scope: str,
) -> Desk:
    """The desk of a paper run; replay builds the very same one without a journal."""
    strategy = build_strategy(spec.strategy, spec.symbol, spec.params)
    desk = build_desk(
        clock=clock,
        mode=Mode.PAPER,
        limits=settings.risk,
        venue_factory=lambda ctx, sink: PaperVenue(ctx, sink, spec.venue),
        strategies=[strategy],
        journal=journal,
        gate=can_enter,
        calendar=calendar,
        safe_mode=settings.safe_mode,
        squared_off_days=squared_off_days,
    )
    desk.engine.id_scope = id_scope
    desk.feed_watch = FeedWatch(desk.engine, calendar)
    return desk


def start_paper_desk(desk: Desk, memory: RiskMemory) -> None:
    """Recall the risk state, start the feed watch and the strategies; after the decision
    log's sink is attached, so the recall is part of the recorded run."""
    if memory.state is not None:
        desk.engine.risk.recall(memory.state, desk.engine.now())
    if desk.feed_watch is not None:
        desk.feed_watch.start()
    desk.engine.start()


async def run_paper(
    spec: PaperSpec,
    settings: Settings,
    bars: Iterable[Bar],
    run_dir: Path,
    *,
    data_name: str = "",
    stop: asyncio.Event | None = None,
    on_start: Callable[[PaperRun], None] | None = None,
    api: ApiOptions | None = None,
    metrics_port: int | None = None,  # without the API: serve /metrics here
) -> PaperRun:
    """Start-up runs in timed stages (config, database, calendar, venue, api, first data)
    under `QD_STARTUP_TIMEOUT_S`: a stage that hangs fails the start naming itself."""
    startup = Startup(settings.startup_timeout_s, get_logger("quantdesk.startup"))
    async with startup.watch_async():
        async with startup.stage_async("config"):
            feed = iter(bars)
            first = next(feed, None)
            if first is None:
                raise DataFileError(f"{data_name or 'the data'}: no bars to trade on")
            session = session_id(time.time_ns(), Mode.PAPER, settings.label)
            bind_session(session)
        async with startup.stage_async("database"):
            db = make_engine(settings.database_url)
            migrate.upgrade(db)
            journal = Journal(db, Provenance(session, settings.config_sha))  # write-through
            day = ist_date(first.ts)
            memory = RiskMemory(state=load_risk_memory(db, day).state)
            model = slippage.load(db)
        async with startup.stage_async("calendar"):
            refused = None
            if settings.calendar.refresh_holidays:
                refused = await asyncio.to_thread(refresh_holidays, settings.calendar)
            calendar = paper_calendar(settings.calendar, day, run_dir)
        async with startup.stage_async("venue"):
            clock = SimulatedClock(first.ts)
            scope = uuid.uuid4().hex[:12]
            desk = build_paper_desk(
                spec, settings, clock, journal, calendar, memory.squared_off_days, scope
            )
            _warn(desk, refused)
            recorder = EventRecorder(run_dir)
            desk.engine.log.sink = recorder.log_line
            apply_model(desk, model)
            base = {
                **manifest(spec, settings, session, data_name),
                "slippage_model": to_manifest(model),
                "risk_memory": memory.state,
                "id_scope": scope,
            }
            write_manifest(run_dir, base)
            run = PaperRun(desk, run_dir)
        async with startup.stage_async("api"):
            run.services = await start_services(
                desk, settings, session, db, api, run_dir, metrics_port=metrics_port
            )
            run.on_bar.append(run.services.on_bar)
        async with startup.stage_async("first data"):  # ready for it: the pacer paces it
            journal.record_action(
                ts=clock.now(),
                actor="system",
                action="session.start",
                payload={"run": str(run_dir), "strategy": spec.strategy},
            )
            if on_start is not None:
                on_start(run)
            start_paper_desk(desk, memory)
        startup.done()
    job = None
    if settings.calendar.refresh_holidays:
        job = asyncio.create_task(run_daily(settings.calendar, lambda e: _warn(desk, e)))
    try:
        await _pace(run, itertools.chain([first], feed), spec.speed, recorder, stop)
    finally:
        if job is not None:
            job.cancel()
        if run.services.streams is not None:
            run.services.streams.stop()  # its timer must not keep the close-out's drain alive
        close_out(desk, run.last)
        await run.services.stop()
        recorder.close()
        journal.record_action(
            ts=clock.now(),
            actor="system",
            action="session.end",
            payload={"bars": run.bars, "log_sha256": desk.engine.log.sha256},
        )
        journal.flush()
        finished = {
            **base,
            "bars": run.bars,
            "log_sha256": desk.engine.log.sha256,
            "log_lines": desk.engine.log.count,
        }
        write_manifest(run_dir, finished)
    return run


def _warn(desk: Desk, event: RiskEvent | None) -> None:
    """A failed holiday refresh: journaled and on the bus (alerts), not in the decision log."""
    if event is not None:
        if desk.journal is not None:
            desk.journal.record_risk_event(event)
        desk.engine.publish("risk", event)


async def _pace(
    run: PaperRun,
    bars: Iterable[Bar],
    speed: float,
    recorder: EventRecorder,
    stop: asyncio.Event | None,
) -> None:
    engine = run.desk.engine
    clock = engine.clock
    calendar = engine.risk.calendar
    assert isinstance(clock, SimulatedClock)
    pacer = WallClock(speed=speed, origin=clock.now())
    for bar in bars:
        due = bar.ts + bar.duration
        if calendar is not None and not calendar.is_open(clock.now()) and bar.ts > clock.now():
            engine.drain(bar.ts)  # the market is shut until this bar: run timers, skip ahead
            pacer = WallClock(speed=speed, origin=bar.ts)
        if await _wait_until(engine, pacer, due, stop):
            run.stopped = True
            return
        run.loop_lag_ms = pacer.lateness_s(due) * 1000
        if run.services is not None:
            run.services.service.loop_lag_ms = run.loop_lag_ms
        recorder.record_bar(bar)
        engine.on_bar(bar)
        run.last[bar.symbol] = bar
        run.bars += 1
        for hook in run.on_bar:
            hook(bar)


async def _wait_until(engine: Any, pacer: WallClock, due: int, stop: asyncio.Event | None) -> bool:
    """Sleep until `due` on the pacer, running queued events at their own times.
    Returns True when asked to stop."""
    while True:
        next_event = engine.queue.next_ts()
        target = due if next_event is None or next_event > due else next_event
        delay = pacer.wall_delay_s(target)
        if stop is not None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
                return True
            except TimeoutError:
                pass
        elif delay > 0:
            await asyncio.sleep(delay)
        if target == due:
            return False
        engine.drain(target)


__all__ = ["PaperRun", "PaperSpec", "build_paper_desk", "run_paper", "start_paper_desk"]
