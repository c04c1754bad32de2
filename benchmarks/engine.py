"""Engine throughput: 1,000,000 one-minute bars through `sma_cross` in backtest mode.

Prints `name: value` lines (medians of 3 runs):
- floor_bars_per_s: a plain-Python loop computing the same signals exactly (integer
  arithmetic on pre-loaded closes: the fastest exact floor; floats give different
  crosses, so a float loop would not compute the same signals);
- engine_bars_per_s: the real backtest path — streaming the Parquet file, the engine,
  the strategy API, the paper matcher, the order manager and the journal (the chain is
  persisted to SQLite in batches);
- ratio_engine_to_floor, signals (both must agree), and resident memory at 10% and at
  100% of the engine's last run (flat memory: the two should be close).

Usage: .venv/bin/python benchmarks/engine.py [--bars N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from quantdesk.config import Settings
from quantdesk.data.bars import write_bars
from quantdesk.data.synth import synth_bars
from quantdesk.runners.backtest import BacktestSpec, run_backtest

FAST, SLOW = 10, 30


def make_data(path: Path, bars: int) -> None:
    if not path.exists():
        write_bars(
            path,
            synth_bars(symbol="BENCH", n=bars, start=1_700_000_000 * 10**9, seed=7, session="24x7"),
        )


def floor(closes: list[int]) -> tuple[float, int]:
    """Plain loop: SMA(fast) vs SMA(slow) crosses, long on up when flat, out on down."""
    started = time.perf_counter()
    fq: deque[int] = deque()
    sq: deque[int] = deque()
    fs = ss = 0
    state = 0
    long = False
    trades = 0
    for c in closes:
        fq.append(c)
        fs += c
        if len(fq) > FAST:
            fs -= fq.popleft()
        sq.append(c)
        ss += c
        if len(sq) > SLOW:
            ss -= sq.popleft()
        elif len(sq) < SLOW:
            continue
        a, b = fs * SLOW, ss * FAST
        sign = 1 if a > b else -1 if a < b else 0
        if sign == 0 or sign == state:
            continue
        crossed, state = state != 0, sign
        if crossed and sign > 0 and not long:
            long, trades = True, trades + 1
        elif crossed and sign < 0 and long:
            long = False
    return time.perf_counter() - started, trades


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def engine_run(path: Path, out: Path, total: int, rss: dict[str, float]) -> tuple[float, int, int]:
    spec = BacktestSpec(
        data=path,
        strategy="sma_cross",
        params={"fast": str(FAST), "slow": str(SLOW), "qty": "1"},
        risk_profile="none",  # the floor knows no limits: same trades, same path otherwise
    )

    def progress(done: int) -> None:
        if "10pct" not in rss and done >= total // 10:
            rss["10pct"] = rss_mb()

    result = run_backtest(spec, Settings(), out, progress)
    rss["end"] = rss_mb()
    return result.elapsed_s, result.bars, len(result.trades)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "quantdesk-bench"
    work.mkdir(exist_ok=True)
    data = work / f"bars-{args.bars}.parquet"
    make_data(data, args.bars)
    scale = Decimal(100)  # synthetic prices have two decimals at most
    closes = [
        int(Decimal(c) * scale)
        for c in pq.read_table(data, columns=["close"]).column("close").to_pylist()
    ]
    floor_times, floor_trades = [], 0
    for _ in range(args.runs):
        elapsed, floor_trades = floor(closes)
        floor_times.append(elapsed)
    del closes  # the floor's input is not the engine's memory
    engine_times, bars, engine_trades = [], 0, 0
    rss: dict[str, float] = {}
    for run in range(args.runs):
        rss.clear()
        elapsed, bars, engine_trades = engine_run(data, work / f"run-{run}", args.bars, rss)
        engine_times.append(elapsed)
    floor_rate = args.bars / statistics.median(floor_times)
    engine_rate = bars / statistics.median(engine_times)
    print(f"bars: {bars}")
    print(f"floor_bars_per_s: {floor_rate:.0f}")
    print(f"engine_bars_per_s: {engine_rate:.0f}")
    print(f"floor_trades: {floor_trades}")
    print(f"engine_trades: {engine_trades}")
    print(f"rss_mb_at_10pct: {rss['10pct']:.0f}")
    print(f"rss_mb_at_end: {rss['end']:.0f}")
    print(f"ratio_engine_to_floor: {engine_rate / floor_rate:.3f}")
    if floor_trades != engine_trades:
        sys.exit("engine and floor disagree on the number of trades")


if __name__ == "__main__":
    main()
