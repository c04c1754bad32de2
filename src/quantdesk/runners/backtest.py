"""Backtest: a bar file through the one engine, on a simulated clock, against the paper
venue, with the chain persisted to the run's own database and a report at the end."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantdesk.backtest.report import (
    Report,
    build_report,
    equity_curve,
    exposure_of,
    load_close_series,
)
from quantdesk.config import Settings
from quantdesk.data.bars import find_gaps, iter_bars, symbol_of
from quantdesk.data.quality import CALENDARS, real_gaps
from quantdesk.data.quality_report import QualityReport
from quantdesk.desk import Desk, build_desk
from quantdesk.domain.enums import Mode
from quantdesk.domain.fill import Fill
from quantdesk.domain.time import session_id
from quantdesk.engine.clock import SimulatedClock
from quantdesk.execution.book import ClosedTrade
from quantdesk.risk.gate import Gate, allow_all, can_enter
from quantdesk.runners.closeout import close_out
from quantdesk.runners.quality_gate import check_data
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.strategies.registry import build_strategy
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig

RISK_PROFILES: dict[str, Gate] = {
    "none": allow_all,  # research only: refused in PAPER and LIVE
    "default": can_enter,  # the configured limits (QD_RISK__*)
}


class BacktestError(ValueError):
    """Bad backtest input; the message says what to change."""


@dataclass(frozen=True)
class BacktestSpec:
    data: Path
    strategy: str
    params: dict[str, str] = field(default_factory=dict)
    symbol: str | None = None
    risk_profile: str = "default"
    calendar: str | None = None
    venue: PaperVenueConfig = field(default_factory=PaperVenueConfig)
    database_url: str | None = None  # default: a fresh SQLite file in the output folder
    allow_quarantined: bool = False  # with a calendar, quarantined data is refused otherwise


@dataclass
class BacktestResult:
    report: Report
    trades: list[ClosedTrade]
    log_sha256: str
    bars: int
    elapsed_s: float
    gaps: int
    desk: Desk
    curve_ts: Any
    curve: Any
    quality: QualityReport | None = None  # with --calendar nse: the data's quality report


def resolve_gate(profile: str, mode: Mode) -> Gate:
    if profile not in RISK_PROFILES:
        raise BacktestError(f"unknown risk profile {profile!r} (known: {', '.join(RISK_PROFILES)})")
    if profile == "none" and mode is not Mode.BACKTEST:
        raise BacktestError(
            "risk profile 'none' is for research backtests; refused in " + mode.value
        )
    return RISK_PROFILES[profile]


def _quality(spec: BacktestSpec, symbol: str, settings: Settings) -> QualityReport | None:
    if spec.calendar != "nse":
        return None
    first = next(iter_bars(spec.data, symbol=symbol), None)
    if first is None:
        return None
    report = check_data(spec.data, symbol, first.duration, settings.calendar)
    if report is not None and report.quarantined and not spec.allow_quarantined:
        raise BacktestError(
            f"{spec.data} is quarantined by the data-quality checks: "
            + "; ".join(report.reasons)
            + " (see `quantdesk quality`; --allow-quarantined to run anyway)"
        )
    return report


def run_backtest(
    spec: BacktestSpec,
    settings: Settings,
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    if not spec.data.exists():
        raise BacktestError(f"data file {spec.data} does not exist")
    if spec.calendar is not None and spec.calendar not in CALENDARS:
        raise BacktestError(f"unknown calendar {spec.calendar!r} (known: {', '.join(CALENDARS)})")

    gate = resolve_gate(spec.risk_profile, Mode.BACKTEST)
    symbol = spec.symbol or symbol_of(spec.data)
    quality = _quality(spec, symbol, settings)
    strategy = build_strategy(spec.strategy, symbol, spec.params)
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = _journal(spec, settings, out_dir)
    desk = build_desk(
        clock=SimulatedClock(),
        mode=Mode.BACKTEST,
        limits=settings.risk,
        venue_factory=lambda ctx, sink: PaperVenue(ctx, sink, spec.venue),
        strategies=[strategy],
        journal=journal,
        gate=gate,
        keep_log_lines=False,  # streamed to the run folder: memory stays flat
    )
    log_file = (out_dir / "decision_log.txt").open("w", encoding="utf-8")
    desk.engine.log.sink = lambda line: log_file.write(line + "\n")
    ledger = _Ledger(settings.risk.capital)
    desk.engine.bus.subscribe("fill", ledger.on_fill)
    desk.engine.bus.subscribe("trade", ledger.trades.append)
    desk.engine.start()
    started = time.perf_counter()
    with log_file:
        bars = desk.engine.run_feed(iter_bars(spec.data, symbol=symbol), progress)
        last = dict(desk.engine.last_bars)
        close_out(desk, last)
        journal.flush()
    elapsed = time.perf_counter() - started
    ts, close = load_close_series(spec.data)
    curve_ts, curve = equity_curve(ts, close, ledger.changes, settings.risk.capital)
    trades = [c.trade for c in ledger.trades]
    report = build_report(
        trades,
        settings.risk.capital,
        curve_ts,
        curve,
        exposure=exposure_of(curve_ts, ledger.changes),
    )
    duration = next(iter(last.values())).duration if last else 0
    # the close series already holds every bar's end time: no second read of the file
    found = find_gaps(ts - duration, duration) if duration else []
    gaps = sum(missing for _, missing in real_gaps(found, spec.calendar))
    return BacktestResult(
        report,
        ledger.trades,
        desk.engine.log.sha256,
        bars,
        elapsed,
        gaps,
        desk,
        curve_ts,
        curve,
        quality,
    )


def _journal(spec: BacktestSpec, settings: Settings, out_dir: Path) -> Journal:
    if spec.database_url is None:  # the folder holds the latest run: start a fresh chain
        for leftover in out_dir.glob("backtest.db*"):
            leftover.unlink()
    url = spec.database_url or f"sqlite:///{out_dir / 'backtest.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    provenance = Provenance(
        session_id(time.time_ns(), Mode.BACKTEST, settings.label), settings.config_sha
    )
    return Journal(engine, provenance, batch_size=20_000)


class _Ledger:
    """Cash and net quantity after every fill, for the mark-to-market equity curve."""

    def __init__(self, capital: Decimal) -> None:
        self.cash = capital
        self.quantity = Decimal(0)
        self.changes: list[tuple[int, Decimal, Decimal]] = []
        self.trades: list[ClosedTrade] = []

    def on_fill(self, fill: Fill) -> None:
        self.quantity += fill.signed_quantity
        self.cash -= fill.signed_quantity * fill.price + fill.fee
        self.changes.append((fill.ts, self.quantity, self.cash))
