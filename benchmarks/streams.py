"""Engine throughput with the event streams on and off (the streams must not slow it).

The same desk as `quantdesk paper` (paper venue, real risk gate, NSE calendar off so every
bar trades) runs `sma_cross` over synthetic bars, once bare and once with `DeskStreams`
attached (the writer thread writes JSONL and Parquet to a temp folder).
Prints bars/s for both (median of runs) and the ratio. Run:
.venv/bin/python benchmarks/streams.py [--bars 200000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from quantdesk.config import RiskLimits
from quantdesk.data.synth import synth_bars
from quantdesk.desk import build_desk
from quantdesk.domain.enums import Mode
from quantdesk.engine.clock import SimulatedClock
from quantdesk.obs.stream_writer import StreamWriter
from quantdesk.obs.streams import DeskStreams
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.strategies.registry import build_strategy
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig

START = 1_767_585_900_000_000_000


def run(bars: list, streams_on: bool, folder: Path, journal: bool = False) -> tuple[float, int]:
    config = PaperVenueConfig(latency_ms=50)
    recorder = None
    if journal:  # paper's write-through journal on SQLite
        db = make_engine(f"sqlite:///{folder / f'j-{streams_on}.db'}")
        migrate.upgrade(db)
        recorder = Journal(db, Provenance("2026-01-05-PAPER-BENCH", "0" * 64))
    desk = build_desk(
        journal=recorder,
        clock=SimulatedClock(bars[0].ts),
        mode=Mode.PAPER,
        limits=RiskLimits(max_trades_per_day=10**6, stale_data_ms=10**9),
        venue_factory=lambda ctx, sink: PaperVenue(ctx, sink, config),
        strategies=[build_strategy("sma_cross", "B", {"fast": "10", "slow": "30", "qty": "10"})],
        keep_log_lines=False,
    )
    engine = desk.engine
    streams = None
    if streams_on:
        streams = DeskStreams(desk, StreamWriter(folder, stamp={"session_id": "b"}), "b")
        streams.attach()
    trades = [0]
    engine.bus.subscribe("trade", lambda _: trades.__setitem__(0, trades[0] + 1))
    engine.start()
    started = time.perf_counter()
    for bar in bars:
        engine.on_bar(bar)
    elapsed = time.perf_counter() - started
    if streams is not None:
        streams.close()
        streams.writer.close()
    return len(bars) / elapsed, trades[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bars = list(synth_bars(symbol="B", n=args.bars, seed=7, start=START))
    for journal in (False, True):
        off, on = [], []
        with tempfile.TemporaryDirectory(prefix="qd-bench-streams-") as tmp:
            for i in range(args.runs):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                off.append(run(bars, False, folder, journal)[0])
                rate, trades = run(bars, True, folder, journal)
                on.append(rate)
        label = "paper_journal" if journal else "bare_engine"
        print(f"[{label}] bars: {args.bars:,}; round trips per run: {trades:,}")
        print(f"[{label}] streams_off_bars_per_s: {statistics.median(off):,.0f}")
        print(f"[{label}] streams_on_bars_per_s: {statistics.median(on):,.0f}")
        print(
            f"[{label}] streams_on_over_off: {statistics.median(on) / statistics.median(off):.3f}"
        )


if __name__ == "__main__":
    main()
